"""Leverage (放大倍数, R4): multiples, targets and the straight-line path to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .ledger import ZERO, money

HUNDRED = Decimal("100")

@dataclass(frozen=True)
class LeverageFigures:
    """Leverage against a target and a straight-line path to it by the programme's end."""

    disbursed: Decimal  # cumulative principal disbursed
    base: Decimal  # treasury contribution (overall) or the bank's pool allocation
    multiple: Decimal  # disbursed ÷ base
    target_amount: Decimal  # base × target multiple (overall) or the bank's committed lending
    target_multiple: Decimal  # target_amount ÷ base
    expected_to_date: Decimal  # straight-line path: target × elapsed ÷ total days
    shortfall: Decimal  # max(0, expected − disbursed)
    progress_percent: Decimal  # disbursed ÷ target × 100
    elapsed_days: int
    total_days: int

    @property
    def on_track(self) -> bool:
        return self.shortfall == 0


def ratio(numerator: Decimal, denominator: Decimal, *, places: str = "0.01") -> Decimal:
    if denominator <= 0:
        return Decimal(places) * 0
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def straight_line_expected(*, target: Decimal, start: date, end: date, as_of: date) -> Decimal:
    """What should have been reached by ``as_of`` on a straight line from 0 at start to target at end (R4)."""
    total = (end - start).days
    if total <= 0:
        return money(target)
    elapsed = min(max((as_of - start).days, 0), total)
    return money(Decimal(target) * elapsed / total)


def leverage_figures(
    *, disbursed: Decimal, base: Decimal, target_amount: Decimal, start: date, end: date, as_of: date
) -> LeverageFigures:
    """R4: the multiple disbursed ÷ base, and the shortfall against the straight-line path."""
    expected = straight_line_expected(target=target_amount, start=start, end=end, as_of=as_of)
    total = max((end - start).days, 0)
    return LeverageFigures(
        disbursed=money(disbursed),
        base=money(base),
        multiple=ratio(disbursed, base),
        target_amount=money(target_amount),
        target_multiple=ratio(target_amount, base),
        expected_to_date=expected,
        shortfall=max(expected - money(disbursed), ZERO),
        progress_percent=ratio(Decimal(disbursed) * HUNDRED, target_amount),
        elapsed_days=min(max((as_of - start).days, 0), total),
        total_days=total,
    )
