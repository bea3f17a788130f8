"""Formatting of frozen figures for tables (admin, PDF): money in 万元, rates in %, multiples."""

from __future__ import annotations

from decimal import Decimal

from . import labels

WAN = Decimal(10_000)


def display(metric: str, value, *, money_in_wan: bool = True) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and value.startswith(("<", "*")):
        return value
    kind = labels.kind(metric)
    if kind == "count":
        return f"{int(value):,}"
    number = Decimal(str(value))
    if kind == "rate":
        return f"{number:.2f}%"
    if kind == "multiple":
        return f"{number:.2f}"
    if money_in_wan:
        return f"{number / WAN:,.2f}"
    return f"{number:,.2f}"
