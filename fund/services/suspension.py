"""Automatic suspension and reinstatement of partners (R5, R31–R34).

Evaluated nightly (``fund.tasks.evaluate_suspensions``) and after every status report.
A pure rule (``fund.rules.cooperation_decision``) decides; this service gathers the
figures and applies the decision through ``partnership_set_state`` with the rule number.
Suspension only stops new registrations (R34): claims, recoveries and subsidies on
registered loans never look at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction

from fund import hooks
from fund.models import CooperationChange, CooperationState, GuarantorPartnership, Partnership, Programme
from fund.rules import (
    CooperationDecision,
    bank_suspension_reasons,
    cooperation_decision,
    guarantor_suspension_reasons,
    programme_stop_reasons,
)
from fund.selectors.ledger import PoolSummary, pool_summary
from fund.selectors.programme import parameters_in_force
from fund.selectors.suspension import NO_LOANS, GuarantorRisk, LoanRisk, guarantor_risk, loan_risk
from registry.models import User

from .partners import partnership_set_state


@dataclass(frozen=True)
class PartnerOutcome:
    partnership: Partnership | GuarantorPartnership
    rate: Decimal  # overdue rate (banks) or compensation rate (guarantors), percent
    reasons: list[tuple[str, str]]
    decision: CooperationDecision
    state_before: str
    state_after: str

    @property
    def changed(self) -> bool:
        return self.state_before != self.state_after


@dataclass
class SuspensionReport:
    programme: Programme
    on: date
    overall: LoanRisk
    pool: PoolSummary
    programme_reasons: list[tuple[str, str]]
    banks: list[PartnerOutcome] = field(default_factory=list)
    guarantors: list[PartnerOutcome] = field(default_factory=list)

    @property
    def changes(self) -> list[PartnerOutcome]:
        return [o for o in (*self.banks, *self.guarantors) if o.changed]


def _suspended_by_rule(partnership: Partnership | GuarantorPartnership) -> str:
    """The rule of the change that suspended the partner ("" when staff did it by hand)."""
    if partnership.state != CooperationState.SUSPENDED:
        return ""
    link = {"partnership": partnership} if isinstance(partnership, Partnership) else {
        "guarantor_partnership": partnership}
    change = CooperationChange.objects.filter(to_state=CooperationState.SUSPENDED, **link).order_by(
        "-changed_at", "-id").first()
    return change.rule if change else ""


def _apply(
    partnership: Partnership | GuarantorPartnership, *, rate: Decimal, reasons: list[tuple[str, str]],
    actor: User | None,
) -> PartnerOutcome:
    decision = cooperation_decision(
        state=partnership.state, suspended_by_rule=_suspended_by_rule(partnership), reasons=reasons
    )
    before = partnership.state
    if decision.action in ("suspend", "reactivate"):
        target = CooperationState.SUSPENDED if decision.action == "suspend" else CooperationState.ACTIVE
        partnership = partnership_set_state(
            partnership=partnership, state=target, reason=decision.reason[:300], rule=decision.rule, actor=actor
        )
    return PartnerOutcome(partnership=partnership, rate=rate, reasons=reasons, decision=decision,
                          state_before=before, state_after=partnership.state)


def suspension_evaluate(
    *, programme: Programme, on: date, actor: User | None = None,
    guarantor_payouts: Mapping[int, Decimal] | None = None,
) -> SuspensionReport:
    """Evaluate R31 per bank, R33 and R32 programme-wide and R32 per guarantor; change states.

    A bank is suspended while any reason applies (its own overdue rate above the line, the
    pool below its floor, the programme-wide overdue stop) and reactivated when none does —
    unless staff suspended it by hand (no rule), and never once ENDED. Guarantor payouts
    come from ``guarantor_payouts`` or, when omitted, the sources registered in fund.hooks
    (0 until the claims module registers one).
    """
    params = parameters_in_force(programme=programme, on=on)
    overall, by_bank = loan_risk(programme=programme, as_of=on)
    pool = pool_summary(programme=programme, as_of=on)
    common = programme_stop_reasons(
        params=params, programme_overdue_rate=overall.overdue_rate, pool_balance=pool.balance,
        contributed_capital=pool.contributed_capital,
    )
    report = SuspensionReport(programme=programme, on=on, overall=overall, pool=pool, programme_reasons=common)
    payouts = guarantor_payouts if guarantor_payouts is not None else hooks.guarantor_payouts(
        programme=programme, as_of=on)
    risks = guarantor_risk(programme=programme, as_of=on, payouts=payouts)
    with transaction.atomic():
        for partnership in Partnership.objects.filter(programme=programme).select_related("bank").order_by("pk"):
            rate = by_bank.get(partnership.bank_id, NO_LOANS).overdue_rate
            reasons = bank_suspension_reasons(params=params, overdue_rate=rate) + common
            report.banks.append(_apply(partnership, rate=rate, reasons=reasons, actor=actor))
        for gp in GuarantorPartnership.objects.filter(programme=programme).select_related("guarantor").order_by("pk"):
            risk = risks.get(gp.guarantor_id, GuarantorRisk(guaranteed=Decimal("0"), payouts=Decimal("0")))
            reasons = guarantor_suspension_reasons(params=params, compensation_rate=risk.compensation_rate)
            report.guarantors.append(_apply(gp, rate=risk.compensation_rate, reasons=reasons, actor=actor))
    return report
