"""Pure arithmetic of the monitoring statistics (R40–R42): no database.

Rates are percentages with two decimals, rounded half-up; money is Decimal with two
places.  Published values are strings ("4.35", "1246000000.00") so that JSON, PDF and
Excel show exactly what the snapshot froze.
"""

from __future__ import annotations

import calendar
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
PRIMARY = "primary"  # fewer enterprises than the minimum (R41)
COMPLEMENTARY = "complementary"  # hidden so that a primary cell cannot be derived from the total
REPORT_DUE_DAY = 10  # R42: a month's status report is due by the 10th of the next month


def money(value: Decimal | int | float | str | None) -> Decimal:
    """Two-place Decimal (floats from SQLite sums go through ``str``)."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        value = str(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(numerator: Decimal | int | float | None, denominator: Decimal | int | float | None) -> Decimal | None:
    """numerator ÷ denominator × 100, two decimals; None when the denominator is zero."""
    if not denominator:
        return None
    num = Decimal(str(numerator or 0))
    return (num * HUNDRED / Decimal(str(denominator))).quantize(CENT, rounding=ROUND_HALF_UP)


def weighted_rate(weighted_sum: Decimal | float | None, weights: Decimal | float | None) -> Decimal | None:
    """Amount-weighted average rate: Σ(principal × rate) ÷ Σ principal, two decimals (R40)."""
    if not weights:
        return None
    # Σ(principal × rate) has at most 4 decimals; rounding to them first removes SQLite's float noise.
    total = Decimal(str(weighted_sum or 0)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return (total / Decimal(str(weights))).quantize(CENT, rounding=ROUND_HALF_UP)


def multiple(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """A leverage multiple (R4) with two decimals; None without a base."""
    if not denominator:
        return None
    return (Decimal(numerator or 0) / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def interest_subsidy_rate(*, share_percent: Decimal, reference_rate: Decimal) -> Decimal:
    """R35 as a rate: the subsidy is share × interest at the reference rate, i.e. share × reference rate."""
    return Decimal(share_percent) * Decimal(reference_rate) / HUNDRED


def effective_rate(*, contract_rate: Decimal, share_percent: Decimal, reference_rate: Decimal,
                   subsidised: bool) -> Decimal:
    """A loan's rate after the interest subsidy (R40): contract − share × reference, or the contract
    rate for a loan that will never be subsidised (ever overdue or compensated, R28/R35).

    The guarantee-fee subsidy (R36) does not enter: it refunds a fee, not interest (the pilot's
    3.24 % = 4.35 % − 30 % × 3.70 % shows only the interest subsidy is subtracted).
    """
    if not subsidised:
        return Decimal(contract_rate)
    return Decimal(contract_rate) - interest_subsidy_rate(share_percent=share_percent, reference_rate=reference_rate)


def fmt_money(value: Decimal | None) -> str | None:
    return None if value is None else f"{money(value):.2f}"


def fmt_rate(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month_end(today: date) -> date:
    """The cut-off of the monthly snapshot built during ``today``'s month."""
    return today.replace(day=1) - timedelta(days=1)


def report_due_date(month: date) -> date:
    """R42: the status report for ``month`` is on time when received by the 10th of the next month."""
    nxt = month_end(month) + timedelta(days=1)
    return nxt.replace(day=REPORT_DUE_DAY)


@dataclass(frozen=True)
class Cell:
    """One cell of a public breakdown: its key, enterprise count and a tie-break size."""

    key: Hashable
    enterprises: int
    size: Decimal = ZERO


def suppressed_cells(cells: Sequence[Cell], *, minimum: int) -> dict[Hashable, str]:
    """R41: which cells of one breakdown to hide, and why.

    Primary: a cell with at least one but fewer than ``minimum`` enterprises.  Complementary:
    when exactly one cell is primary-suppressed, its value would be the published total minus
    the other cells, so the next smallest cell (fewest enterprises, then smallest amount) is
    hidden too.  Two or more hidden cells only reveal their sum, never one firm.
    """
    hidden = {c.key: PRIMARY for c in cells if 0 < c.enterprises < minimum}
    if len(hidden) == 1:
        rest = sorted((c for c in cells if c.key not in hidden), key=lambda c: (c.enterprises, c.size, str(c.key)))
        if rest:
            hidden[rest[0].key] = COMPLEMENTARY
    return hidden


def suppression_label(reason: str | None, *, minimum: int) -> str | None:
    """What a hidden cell shows instead of its figures: "<3" (primary) or "*" (complementary)."""
    if reason == PRIMARY:
        return f"<{minimum}"
    if reason == COMPLEMENTARY:
        return "*"
    return None


def rollup(rows: Iterable[Mapping], *, key, sums: Sequence[str]) -> dict[Hashable, dict[str, Decimal]]:
    """Add the ``sums`` fields of fine-grained rows into groups by ``key(row)`` (None keys dropped)."""
    out: dict[Hashable, dict[str, Decimal]] = {}
    for row in rows:
        k = key(row)
        if k is None:
            continue
        acc = out.setdefault(k, dict.fromkeys(sums, Decimal(0)))
        for field in sums:
            value = row.get(field)
            if value is not None:
                acc[field] += value if isinstance(value, Decimal | int) else Decimal(str(value))
    return out
