"""The 1-year LPR in force and the rate cap (R12)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from ._base import CENT, RuleError
from .tables import lpr_table


def _as_date(on: date) -> date:
    return on.date() if isinstance(on, datetime) else on


def lpr_in_force(on: date, *, table: Sequence[tuple[date, Decimal]] | None = None) -> Decimal:
    """1-year LPR (percent, 2 places) in force on ``on``: the latest ``effective_from`` ≤ ``on``."""
    rows = lpr_table() if table is None else sorted((_as_date(d), Decimal(r)) for d, r in table)
    on = _as_date(on)
    idx = bisect_right([d for d, _ in rows], on) - 1
    if idx < 0:
        first = f"（最早为 {rows[0][0].isoformat()}）" if rows else ""
        raise RuleError("lpr_unknown", f"没有 {on.isoformat()} 当日适用的一年期 LPR{first}")
    return Decimal(rows[idx][1]).quantize(CENT)


def rate_cap(on: date, *, cap_bp: int = 50, table: Sequence[tuple[date, Decimal]] | None = None) -> Decimal:
    """R12: the highest allowed annual contract rate (percent) for a loan signed on ``on``."""
    return (lpr_in_force(on, table=table) + Decimal(cap_bp) / 100).quantize(CENT)
