"""Reads of the admin-editable reference tables, in the shapes ``registry.rules`` takes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .models import LprRate, SmeThreshold


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def lpr_rows() -> tuple[tuple[date, Decimal], ...]:
    """The 1-year LPR table as staff keep it in the admin, oldest first."""
    return tuple(LprRate.objects.order_by("effective_from").values_list("effective_from", "rate_percent"))


def sme_threshold_rows() -> tuple[dict[str, str], ...]:
    """The SME size table as staff keep it, in the CSV's column shape."""
    return tuple(
        {
            "group": t.group,
            "gbt4754_codes": t.codes,
            "indicator_1": t.indicator_1,
            "indicator_2": t.indicator_2,
            "medium_min_1": _fmt(t.medium_min_1),
            "medium_min_2": _fmt(t.medium_min_2),
            "small_min_1": _fmt(t.small_min_1),
            "small_min_2": _fmt(t.small_min_2),
            "large_min_1": _fmt(t.large_min_1),
            "large_min_2": _fmt(t.large_min_2),
        }
        for t in SmeThreshold.objects.order_by("position")
    )
