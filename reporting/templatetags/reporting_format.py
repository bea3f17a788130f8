"""Display of published figures (strings from a snapshot): 亿元/万元, thousands separators, percentages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()
YI = Decimal(100_000_000)
WAN = Decimal(10_000)


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def yi(value) -> str:
    """"1246000000.00" → "12.46"."""
    d = _decimal(value)
    return "—" if d is None else f"{d / YI:,.2f}"


@register.filter
def wan(value) -> str:
    d = _decimal(value)
    return "—" if d is None else f"{d / WAN:,.2f}"


@register.filter
def yuan(value) -> str:
    d = _decimal(value)
    return "—" if d is None else f"{d:,.2f}"


@register.filter
def count(value) -> str:
    """Counts with separators; a suppression mark ("<3", "*") as it is."""
    if isinstance(value, str) and not value.isdigit():
        return value
    d = _decimal(value)
    return "—" if d is None else f"{int(d):,}"


@register.filter
def pct(value) -> str:
    d = _decimal(value)
    return "—" if d is None else f"{d:.2f}%"


@register.filter
def times(value) -> str:
    d = _decimal(value)
    return "—" if d is None else f"{d:.2f} 倍"


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
