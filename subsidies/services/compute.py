"""Computing subsidies when a settlement is reported (R35, R36, R39) and recording other subsidies."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from fund.models import Loan, LoanStatus, ParameterSet
from fund.selectors import parameters_in_force
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import Enterprise, User

from .. import rules
from ..models import OtherSubsidy, Subsidy, SubsidyKind, SubsidyStatus
from ..selectors import loan_is_compensated, lpr_history, other_subsidies_total, subsidies_received_in_year
from ._common import require_perm

logger = logging.getLogger(__name__)

UNPAID = (SubsidyStatus.COMPUTED, SubsidyStatus.APPLIED, SubsidyStatus.UNDER_REVIEW, SubsidyStatus.APPROVED,
          SubsidyStatus.IN_BATCH)


def loan_facts(loan: Loan) -> rules.LoanFacts:
    return rules.LoanFacts(
        mode=loan.mode, principal=loan.principal, annual_rate=loan.annual_rate, signed_on=loan.signed_on,
        disbursed_on=loan.disbursed_on, matures_on=loan.matures_on, settled_on=loan.settled_on,
        interest_paid=loan.interest_paid_total, fee_paid=loan.guarantee_fee_paid_total,
        settled=loan.status == LoanStatus.SETTLED, ever_overdue=loan.ever_overdue,
        compensated=loan_is_compensated(loan),
    )


def loan_ineligibility(loan: Loan) -> str:
    """'' when the loan may receive subsidies, otherwise the plain-language reason (R35, R36, R28)."""
    return rules.ineligibility_reason(
        settled=loan.status == LoanStatus.SETTLED and loan.settled_on is not None,
        ever_overdue=loan.ever_overdue, compensated=loan_is_compensated(loan),
    )


def _parameter_snapshot(ps: ParameterSet) -> dict:
    return {
        "id": ps.pk, "effective_from": ps.effective_from.isoformat(), "note": ps.note,
        "interest_subsidy_percent": str(ps.interest_subsidy_percent),
        "interest_reference_rate": ps.interest_reference_rate, "day_count_basis": ps.day_count_basis,
        "interest_subsidy_cap": str(ps.interest_subsidy_cap), "interest_subsidy_cap_basis": ps.interest_subsidy_cap_basis,
        "fee_subsidy_percent": str(ps.fee_subsidy_percent), "fee_subsidy_cap": str(ps.fee_subsidy_cap),
        "fee_subsidy_cap_basis": ps.fee_subsidy_cap_basis, "fee_flag_percent": str(ps.fee_flag_percent),
        "application_opens": ps.application_opens.isoformat() if ps.application_opens else None,
        "application_closes": ps.application_closes.isoformat() if ps.application_closes else None,
    }


def _inputs(loan: Loan) -> dict:
    return {
        "contract_no": loan.contract_no, "mode": loan.mode, "principal": str(loan.principal),
        "annual_rate": str(loan.annual_rate), "signed_on": loan.signed_on.isoformat(),
        "disbursed_on": loan.disbursed_on.isoformat(), "matures_on": loan.matures_on.isoformat(),
        "settled_on": loan.settled_on.isoformat(), "interest_paid": str(loan.interest_paid_total),
        "guarantee_fee_paid": str(loan.guarantee_fee_paid_total), "ever_overdue": loan.ever_overdue,
    }


def _cap_context(ps: ParameterSet, loan: Loan) -> dict[str, Decimal]:
    """What the enterprise already got this calendar year, for kinds capped per enterprise-year."""
    got: dict[str, Decimal] = {}
    for kind, basis in ((SubsidyKind.INTEREST, ps.interest_subsidy_cap_basis),
                        (SubsidyKind.GUARANTEE_FEE, ps.fee_subsidy_cap_basis)):
        if basis == rules.PER_ENTERPRISE_YEAR:
            got[kind] = subsidies_received_in_year(
                enterprise_id=loan.enterprise_id, kind=kind, year=loan.settled_on.year, exclude_loan_id=loan.pk
            )
    return got


def subsidy_compute(*, loan: Loan, actor: User | None = None) -> list[Subsidy]:
    """Compute the subsidies a settled, never-overdue, uncompensated loan has not got yet (R35, R36, R39).

    Idempotent: a kind the loan already has is left alone (R39: once per loan and kind).
    Returns the subsidies created (none for an ineligible loan).  Not durable: the bank
    intake calls it inside the transaction that applied the status report.
    """
    with transaction.atomic():
        # One enterprise at a time: per-enterprise-year caps read what was granted before.
        Enterprise.objects.select_for_update().filter(pk=loan.enterprise_id).first()
        loan = Loan.objects.select_related("programme").get(pk=loan.pk)
        if loan_ineligibility(loan):
            return []
        existing = set(Subsidy.objects.filter(loan=loan).values_list("kind", flat=True))
        ps = parameters_in_force(programme=loan.programme, on=loan.settled_on)
        others = {k: other_subsidies_total(loan_id=loan.pk, kind=k) for k in SubsidyKind.values}
        try:
            calcs = rules.loan_subsidies(
                loan=loan_facts(loan), params=ps, lpr_table=lpr_history(),
                already_received=_cap_context(ps, loan), other_subsidies=others,
            )
        except ValueError as exc:
            raise BusinessError(f"无法测算补贴：{exc}", code="cannot_compute", rule="R35") from exc
        created = []
        for kind, calc in calcs.items():
            if kind in existing:
                continue
            created.append(_create(loan=loan, kind=kind, calc=calc, ps=ps, actor=actor))
        return created


def _create(*, loan: Loan, kind: str, calc: rules.Calculation, ps: ParameterSet, actor: User | None) -> Subsidy:
    data = {**calc.as_dict(), "inputs": _inputs(loan), "parameter_set": _parameter_snapshot(ps)}
    ref = data.get("reference_rate") or {}
    subsidy = Subsidy.objects.create(
        loan=loan, kind=kind, programme=loan.programme, enterprise_id=loan.enterprise_id, parameter_set=ps,
        settled_on=loan.settled_on, amount=calc.amount, calculation=data,
        reference_rate=Decimal(ref["rate"]) if ref else None, reference_rate_source=ref.get("source", ""),
        flagged=bool(calc.flags), flag_reason="；".join(calc.flags)[:300],
    )
    record_event(actor=actor, event_type="subsidy.computed", obj=subsidy, loan=loan.pk, kind=kind,
                 amount=calc.amount, cap_applied=calc.cap_applied, parameter_set=ps.pk)
    return subsidy


def subsidy_compute_for_settlements(*, loans: Iterable[Loan], actor: User | None = None) -> list[Subsidy]:
    """Called by the bank intake right after a status batch settled ``loans``.

    Loans are taken in settlement order (per-enterprise-year caps accumulate in that order);
    ineligible ones are skipped.  A loan that cannot be computed (no parameter set, no LPR)
    does not undo the intake: it is logged and recorded as an event on the loan.
    """
    ids = [loan.pk for loan in loans]
    created: list[Subsidy] = []
    for loan in Loan.objects.filter(pk__in=ids, status=LoanStatus.SETTLED).order_by("settled_on", "pk"):
        try:
            with transaction.atomic():
                created.extend(subsidy_compute(loan=loan, actor=actor))
        except BusinessError as exc:
            logger.warning("subsidy not computed for loan %s: %s", loan.pk, exc.message)
            record_event(actor=actor, event_type="subsidy.compute_failed", obj=loan, reason=exc.message)
    return created


def other_subsidy_record(
    *, loan: Loan, source: str, amount: Decimal, actor: User, kind: str = SubsidyKind.INTEREST,
    rate: Decimal | None = None, note: str = "",
) -> OtherSubsidy:
    """R39: record another subsidy the loan receives; unpaid subsidies of that kind are re-capped."""
    require_perm(actor, "add_othersubsidy", what="登记其他来源补贴")
    if amount < 0:
        raise BusinessError("补贴金额不能为负数", code="invalid_amount", rule="R39")
    if not source.strip():
        raise BusinessError("请填写补贴来源", code="source_required", rule="R39")
    with transaction.atomic():
        other = OtherSubsidy.objects.create(loan=loan, kind=kind, source=source.strip(), amount=rules.money(amount),
                                            rate=rate, note=note, recorded_by=actor)
        record_event(actor=actor, event_type="subsidy.other_recorded", obj=other, loan=loan.pk, kind=kind,
                     amount=other.amount, source=other.source)
        for subsidy in Subsidy.objects.select_for_update().filter(loan=loan, kind=kind).order_by("pk"):
            _recap(subsidy, actor=actor)
    return other


def _recap(subsidy: Subsidy, *, actor: User) -> None:
    """Lower an unpaid subsidy so that subsidies never exceed the cost paid (R39); flag a paid one."""
    loan = subsidy.loan
    cost = loan.interest_paid_total if subsidy.kind == SubsidyKind.INTEREST else loan.guarantee_fee_paid_total
    room = max(rules.ZERO, cost - other_subsidies_total(loan_id=loan.pk, kind=subsidy.kind))
    if subsidy.amount <= room:
        return
    note = f"其他来源补贴使叠加补贴超过实付成本，补贴由 {rules.fmt(subsidy.amount)} 调整为 {rules.fmt(room)}（R39）"
    if subsidy.status not in UNPAID:
        subsidy.flagged, subsidy.flag_reason = True, f"已支付金额超过 R39 上限 {rules.fmt(room)}，请核查"
        subsidy.save(update_fields=["flagged", "flag_reason"])
        record_event(actor=actor, event_type="subsidy.flagged", obj=subsidy, note=subsidy.flag_reason)
        return
    old = subsidy.amount
    subsidy.calculation = {**subsidy.calculation, "amount": str(room), "cap_applied": "no_double_subsidy",
                           "adjustments": [*subsidy.calculation.get("adjustments", []), note]}
    subsidy.amount, subsidy.flagged = room, True
    subsidy.flag_reason = note[:300]
    subsidy.save(update_fields=["amount", "calculation", "flagged", "flag_reason"])
    if subsidy.batch_id:
        batch = subsidy.batch
        batch.total -= old - room
        batch.save(update_fields=["total"])
    record_event(actor=actor, event_type="subsidy.recapped", obj=subsidy, old_amount=old, amount=room, note=note)
