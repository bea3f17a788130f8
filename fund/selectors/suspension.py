"""Overdue, non-performing and compensation rates, and whether a bank may register (R17, R31–R33).

Definitions (docs/ledger.md):
- a loan is *open* when its status is neither 结清 (settled) nor 核销 (written off) and it was
  disbursed on or before the date; outstanding principal = Σ outstanding_principal of open loans;
- *overdue* principal = outstanding principal of open loans whose status is 逾期 or whose
  overdue_days > 0; overdue rate = overdue ÷ outstanding;
- *non-performing* principal = outstanding principal of open loans classified 次级/可疑/损失;
- a guarantor's compensation rate = its cumulative payouts ÷ the cumulative principal of the
  政银担 loans it guarantees.
Loans carry their latest monthly state, so the rates are "as last reported".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from fund.models import (
    NON_PERFORMING,
    CooperationState,
    GuarantorPartnership,
    Loan,
    LoanMode,
    LoanStatus,
    Partnership,
    Programme,
)
from fund.rules import programme_stop_reasons, rate_percent
from registry.models import Bank, Guarantor

from .ledger import pool_summary
from .programme import parameters_in_force

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=20, decimal_places=2)
CLOSED = (LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF)
OVERDUE = Q(status=LoanStatus.OVERDUE) | Q(overdue_days__gt=0)


@dataclass(frozen=True)
class LoanRisk:
    loans: int
    outstanding: Decimal
    overdue: Decimal
    nonperforming: Decimal

    @property
    def overdue_rate(self) -> Decimal:
        return rate_percent(self.overdue, self.outstanding)

    @property
    def nonperforming_rate(self) -> Decimal:
        return rate_percent(self.nonperforming, self.outstanding)


NO_LOANS = LoanRisk(loans=0, outstanding=ZERO, overdue=ZERO, nonperforming=ZERO)


def _sum_where(condition: Q) -> Coalesce:
    return Coalesce(
        Sum(Case(When(condition, then="outstanding_principal"), default=Value(ZERO), output_field=_MONEY)),
        Value(ZERO), output_field=_MONEY,
    )


def loan_risk(*, programme: Programme, as_of: date) -> tuple[LoanRisk, dict[int, LoanRisk]]:
    """Programme-wide figures and figures per bank id, over open loans."""
    rows = (
        Loan.objects.filter(programme=programme, disbursed_on__lte=as_of).exclude(status__in=CLOSED)
        .values("bank_id")
        .annotate(
            n=Count("id"),
            outstanding=Coalesce(Sum("outstanding_principal"), Value(ZERO), output_field=_MONEY),
            overdue=_sum_where(OVERDUE),
            npl=_sum_where(Q(classification__in=NON_PERFORMING)),
        )
        .order_by()
    )
    by_bank = {
        r["bank_id"]: LoanRisk(loans=r["n"], outstanding=r["outstanding"], overdue=r["overdue"], nonperforming=r["npl"])
        for r in rows
    }
    overall = LoanRisk(
        loans=sum(r.loans for r in by_bank.values()),
        outstanding=sum((r.outstanding for r in by_bank.values()), ZERO),
        overdue=sum((r.overdue for r in by_bank.values()), ZERO),
        nonperforming=sum((r.nonperforming for r in by_bank.values()), ZERO),
    )
    return overall, by_bank


@dataclass(frozen=True)
class GuarantorRisk:
    guaranteed: Decimal
    payouts: Decimal

    @property
    def compensation_rate(self) -> Decimal:
        return rate_percent(self.payouts, self.guaranteed)


def guarantor_risk(
    *, programme: Programme, as_of: date, payouts: Mapping[int, Decimal]
) -> dict[int, GuarantorRisk]:
    """Per guarantor id: cumulative guaranteed principal and the payouts given (R32)."""
    rows = (
        Loan.objects.filter(programme=programme, mode=LoanMode.BANK_GUARANTOR, disbursed_on__lte=as_of)
        .values("guarantor_id").annotate(total=Sum("principal")).order_by()
    )
    guaranteed = {r["guarantor_id"]: r["total"] or ZERO for r in rows}
    ids = set(guaranteed) | set(payouts)
    return {g: GuarantorRisk(guaranteed=guaranteed.get(g, ZERO), payouts=Decimal(payouts.get(g, ZERO))) for g in ids}


def programme_stops(*, programme: Programme, on: date) -> list[tuple[str, str]]:
    """Reasons that stop every new registration on ``on`` (R33, and R32 when enabled)."""
    params = parameters_in_force(programme=programme, on=on)
    summary = pool_summary(programme=programme, as_of=on)
    overall_rate = ZERO
    if params.programme_overdue_stop_enabled:
        overall_rate = loan_risk(programme=programme, as_of=on)[0].overdue_rate
    return programme_stop_reasons(
        params=params, programme_overdue_rate=overall_rate, pool_balance=summary.balance,
        contributed_capital=summary.contributed_capital,
    )


def registration_allowed(
    *, programme: Programme, bank: Bank, on: date, guarantor: Guarantor | None = None
) -> tuple[bool, str]:
    """May ``bank`` register a new loan on ``on``? (True, "") or (False, the Chinese reason) — R17.

    Refused when the bank is not a partner, its cooperation is suspended (R31 or by staff)
    or ended (R5), the programme is stopped (R33 pool floor, R32 programme-wide overdue
    rate), or the named guarantor is not an active partner (R21, R32).
    """
    partnership = Partnership.objects.filter(programme=programme, bank=bank).first()
    if partnership is None:
        return False, f"{bank.name} 不是项目“{programme.name}”的合作银行，不能备案（R17）"
    if partnership.state == CooperationState.ENDED:
        return False, f"{bank.name} 已终止合作，不能新增备案（R5）：{partnership.state_reason}"
    if partnership.state == CooperationState.SUSPENDED:
        return False, f"{bank.name} 已暂停新增备案（R17）：{partnership.state_reason or '由管理人员暂停'}"
    stops = programme_stops(programme=programme, on=on)
    if stops:
        return False, "项目暂停新增备案（R17）：" + "；".join(reason for _, reason in stops)
    if guarantor is not None:
        gp = GuarantorPartnership.objects.filter(programme=programme, guarantor=guarantor).first()
        if gp is None:
            return False, f"{guarantor.name} 不是本项目的合作担保机构（R21）"
        if gp.state != CooperationState.ACTIVE:
            return False, f"担保机构 {guarantor.name} 已{gp.get_state_display()}（R32）：{gp.state_reason}"
    return True, ""


def suspended_partnerships(*, programme: Programme) -> list[Partnership]:
    """Banks that may not register now, with their reason (the dashboard's "who and why")."""
    return list(
        Partnership.objects.filter(programme=programme)
        .exclude(state=CooperationState.ACTIVE).select_related("bank").order_by("bank__code")
    )
