"""Factories and builders for the pool's money (ledger, leverage, suspension).

Reusable by other tests: ``ProgrammeFactory`` (with a parameter set), ``PartnershipFactory``
(bank + partnership), ``EnterpriseFactory``, ``LoanFactory`` come from tests/factories.py and are
re-exported here; the builders below add a funded pool and loans with a chosen overdue share.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fund.models import LoanStatus, ParameterSet, Programme
from fund.services import contribution_record, subsidy_budget_fund
from tests.factories import (
    BankFactory,
    EnterpriseFactory,
    GuarantorFactory,
    GuarantorPartnershipFactory,
    LoanFactory,
    ParameterSetFactory,
    PartnershipFactory,
    ProgrammeFactory,
    UserFactory,
)

__all__ = [
    "BankFactory",
    "EnterpriseFactory",
    "GuarantorFactory",
    "GuarantorPartnershipFactory",
    "LoanFactory",
    "ParameterSetFactory",
    "PartnershipFactory",
    "ProgrammeFactory",
    "UserFactory",
    "fund_pool",
    "fund_subsidy_budget",
    "loans_with_overdue_share",
    "params_of",
]

START = date(2021, 5, 28)


def params_of(programme: Programme) -> ParameterSet:
    return programme.parameter_sets.order_by("-effective_from").first()


def fund_pool(programme: Programme, amount: Decimal | str = "1000.00", *, on: date = START,
              key: str | None = None):
    """A treasury contribution of ``amount`` on ``on`` (the pool's opening money)."""
    return contribution_record(
        programme=programme, payer_kind="treasury", amount=Decimal(amount), on=on,
        idempotency_key=key or f"test:{programme.code}:treasury:{on}:{amount}", actor=None,
    )


def fund_subsidy_budget(programme: Programme, amount: Decimal | str = "1000.00", *, on: date = START):
    return subsidy_budget_fund(programme=programme, amount=Decimal(amount), on=on,
                               idempotency_key=f"test:{programme.code}:budget:{on}:{amount}", actor=None)


def loans_with_overdue_share(*, programme: Programme, bank, overdue: Decimal, current: Decimal,
                             disbursed_on: date = date(2021, 6, 3)) -> None:
    """One current and one overdue loan of the bank with the given outstanding principals.

    Overdue rate = overdue ÷ (overdue + current); e.g. 501 and 9,499 give 5.01 %.
    """
    if current > 0:
        LoanFactory(programme=programme, bank=bank, principal=current, outstanding_principal=current,
                    disbursed_on=disbursed_on)
    if overdue > 0:
        LoanFactory(programme=programme, bank=bank, principal=overdue, outstanding_principal=overdue,
                    disbursed_on=disbursed_on, status=LoanStatus.OVERDUE, overdue_days=15, ever_overdue=True)
