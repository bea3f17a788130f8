"""Leverage (放大倍数, R4), overall and per bank, against the straight-line path to the target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from fund.models import Loan, Partnership, Programme
from fund.rules import LeverageFigures, leverage_figures

from .programme import parameters_in_force

ZERO = Decimal("0.00")


def disbursed_by_bank(*, programme: Programme, as_of: date) -> dict[int, Decimal]:
    """Cumulative principal disbursed by ``as_of`` per bank id (every registered loan, settled ones too)."""
    rows = (
        Loan.objects.filter(programme=programme, disbursed_on__lte=as_of)
        .values("bank_id").annotate(total=Sum("principal")).order_by()
    )
    return {row["bank_id"]: row["total"] or ZERO for row in rows}


def leverage_overall(
    *, programme: Programme, as_of: date, disbursed: Mapping[int, Decimal] | None = None
) -> LeverageFigures:
    """R4 overall: disbursed ÷ treasury contribution, target = contribution × leverage target.

    The treasury contribution is the parameter in force on ``as_of`` (the committed amount),
    so the figure does not jump while the money is being paid in.  ``disbursed`` (principal
    disbursed by ``as_of`` per bank id) when the caller already added it up.
    """
    if disbursed is None:
        disbursed = disbursed_by_bank(programme=programme, as_of=as_of)
    params = parameters_in_force(programme=programme, on=as_of)
    base = params.treasury_contribution
    return leverage_figures(
        disbursed=sum(disbursed.values(), ZERO),
        base=base, target_amount=base * params.leverage_target,
        start=programme.start_date, end=programme.end_date, as_of=as_of,
    )


@dataclass(frozen=True)
class BankLeverage:
    partnership: Partnership
    figures: LeverageFigures

    @property
    def bank(self):
        return self.partnership.bank


def leverage_by_bank(
    *, programme: Programme, as_of: date, bank_id: int | None = None, disbursed: Mapping[int, Decimal] | None = None
) -> list[BankLeverage]:
    """R4 per bank: its disbursed ÷ its pool allocation; its target is its committed lending.
    ``disbursed`` as for ``leverage_overall``."""
    if disbursed is None:
        disbursed = disbursed_by_bank(programme=programme, as_of=as_of)
    partnerships = Partnership.objects.filter(programme=programme).select_related("bank").order_by("bank__code")
    if bank_id is not None:
        partnerships = partnerships.filter(bank_id=bank_id)
    return [
        BankLeverage(
            partnership=p,
            figures=leverage_figures(
                disbursed=disbursed.get(p.bank_id, ZERO), base=p.pool_allocation, target_amount=p.committed_lending,
                start=programme.start_date, end=programme.end_date, as_of=as_of,
            ),
        )
        for p in partnerships
    ]
