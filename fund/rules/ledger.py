"""Pure arithmetic of the ledger (R2, R3): balance sides, running balances, what the pool can pay."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """A money amount as Decimal with exactly two places (half-up)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def lines_balanced(lines: Iterable[tuple[str, Decimal]]) -> bool:
    """Σ debit = Σ credit over (side, amount) pairs, with at least one line per side."""
    debit = credit = ZERO
    for side, amount in lines:
        if side == "D":
            debit += amount
        elif side == "C":
            credit += amount
        else:
            return False
    return debit == credit and debit > 0


def normal_balance(*, debit: Decimal, credit: Decimal, debit_normal: bool) -> Decimal:
    """An account's balance on its normal side (assets and uses: D − C; sources: C − D)."""
    return debit - credit if debit_normal else credit - debit


def lowest_balance_from(*, opening: Decimal, changes: Iterable[Decimal]) -> Decimal:
    """The lowest running balance from ``opening`` through each later change, in order.

    A cash account can pay on a date only what leaves every later balance non-negative
    (R3): the available amount on day d is the minimum of the running balance on d and on
    every later day with activity.
    """
    lowest = running = opening
    for change in changes:
        running += change
        lowest = min(lowest, running)
    return lowest


def pool_payable(*, requested: Decimal, available: Decimal) -> tuple[Decimal, Decimal]:
    """(paid, unpaid) for a payment request: the pool pays at most its available balance (R3)."""
    if requested <= 0:
        raise ValueError("支付金额应为正数")
    paid = min(requested, max(available, ZERO))
    return paid, requested - paid
