"""Computing subsidies when a settlement is reported (R35, R36, R39) and recording other subsidies."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import transaction

from fund.models import Loan, LoanStatus, ParameterSet, Programme
from fund.selectors import parameters_in_force
from registry.audit import record_event, record_events
from registry.bulk import bulk_create_instances
from registry.errors import BusinessError
from registry.models import Enterprise, User

from .. import rules
from ..models import OtherSubsidy, Subsidy, SubsidyKind, SubsidyStatus
from ..selectors import (
    compensated_among,
    loan_is_compensated,
    lpr_history,
    other_subsidies_of,
    other_subsidies_total,
    subsidies_received_by_year,
    subsidy_kinds_of,
)
from ._common import require_perm

logger = logging.getLogger(__name__)

UNPAID = (SubsidyStatus.COMPUTED, SubsidyStatus.APPLIED, SubsidyStatus.UNDER_REVIEW, SubsidyStatus.APPROVED,
          SubsidyStatus.IN_BATCH)


CHUNK = 2000  # loans per transaction: bounded lock sets and IN lists on both databases
KINDS = tuple(SubsidyKind.values)
_PROGRAMME = Loan._meta.get_field("programme")


def loan_ineligibility(loan: Loan, *, compensated: bool | None = None) -> str:
    """'' when the loan may receive subsidies, otherwise the plain-language reason (R35, R36, R28)."""
    return rules.ineligibility_reason(
        settled=loan.status == LoanStatus.SETTLED and loan.settled_on is not None,
        ever_overdue=loan.ever_overdue,
        compensated=loan_is_compensated(loan) if compensated is None else compensated,
    )


def _loan_facts(loan: Loan, *, compensated: bool) -> rules.LoanFacts:
    return rules.LoanFacts(
        mode=loan.mode, principal=loan.principal, annual_rate=loan.annual_rate, signed_on=loan.signed_on,
        disbursed_on=loan.disbursed_on, matures_on=loan.matures_on, settled_on=loan.settled_on,
        interest_paid=loan.interest_paid_total, fee_paid=loan.guarantee_fee_paid_total,
        settled=loan.status == LoanStatus.SETTLED, ever_overdue=loan.ever_overdue, compensated=compensated,
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


def _kinds_due(loan: Loan) -> tuple[str, ...]:
    if loan.mode == rules.MODE_BANK_GUARANTOR:
        return (SubsidyKind.INTEREST, SubsidyKind.GUARANTEE_FEE)
    return (SubsidyKind.INTEREST,)


def subsidy_compute_for_settlements(*, loans: Iterable[Loan], actor: User | None = None) -> list[Subsidy]:
    """Compute the subsidies that settled, never-overdue, uncompensated loans have not got yet (R35, R36, R39).

    Called by the bank intake right after a status batch settled ``loans`` (a month's
    settlements at once).  Loans are taken in settlement order (settlement date, then id): a
    per-enterprise-year cap counts what the enterprise was granted before, including earlier
    loans of the same call.  Idempotent: a kind a loan already has is left alone (R39: once per
    loan and kind); ineligible loans are skipped.  A loan that cannot be computed (no parameter
    set, no LPR) does not stop the others: it is logged and recorded as an event on the loan.

    Works in chunks of ``CHUNK`` loans, one transaction each, with a query per kind of fact
    rather than per loan, one bulk insert and one bulk append to the audit chain.
    """
    ids = sorted({loan.pk for loan in loans})
    settled: list[tuple] = []
    for start in range(0, len(ids), CHUNK):
        settled += Loan.objects.filter(pk__in=ids[start:start + CHUNK], status=LoanStatus.SETTLED).values_list(
            "settled_on", "pk")
    order = [pk for _, pk in sorted(settled)]
    lpr = lpr_history()
    parameters: dict[tuple[int, date], ParameterSet | BusinessError] = {}
    created: list[Subsidy] = []
    for start in range(0, len(order), CHUNK):
        created += _compute_chunk(order[start:start + CHUNK], actor=actor, lpr=lpr, parameters=parameters)
    return created


def _parameters(cache: dict, loan: Loan) -> ParameterSet:
    key = (loan.programme_id, loan.settled_on)
    if key not in cache:
        try:
            cache[key] = parameters_in_force(programme=loan.programme, on=loan.settled_on)
        except BusinessError as exc:
            cache[key] = exc
    if isinstance(cache[key], BusinessError):
        raise cache[key]
    return cache[key]


def _with_programmes(loans: list[Loan]) -> list[Loan]:
    """Attach each loan's programme, as ``select_related`` would, from one query for the few
    programmes (one shared instance each, rather than one per loan)."""
    programmes = Programme.objects.in_bulk({loan.programme_id for loan in loans})
    for loan in loans:
        _PROGRAMME.set_cached_value(loan, programmes[loan.programme_id])
    return loans


def _compute_chunk(loan_ids: list[int], *, actor: User | None, lpr: list, parameters: dict) -> list[Subsidy]:
    with transaction.atomic():
        # One enterprise at a time: per-enterprise-year caps read what was granted before.  Locks
        # are taken in id order, so two of these (or a single computation) cannot deadlock.
        enterprise_ids = set(Loan.objects.filter(pk__in=loan_ids).values_list("enterprise_id", flat=True))
        list(Enterprise.objects.select_for_update().filter(pk__in=enterprise_ids).order_by("pk").values_list("pk"))
        loans = sorted(_with_programmes(list(Loan.objects.filter(pk__in=loan_ids, status=LoanStatus.SETTLED))),
                       key=lambda loan: (loan.settled_on, loan.pk))
        compensated = compensated_among(loan_ids)
        existing = subsidy_kinds_of(loan_ids)
        others = other_subsidies_of(loan_ids)
        received = subsidies_received_by_year(enterprise_ids=enterprise_ids,
                                              years={loan.settled_on.year for loan in loans})
        new: list[Subsidy] = []
        events: list[tuple[str, object, dict]] = []
        snapshots: dict[int, dict] = {}
        for loan in loans:
            is_compensated = loan.pk in compensated
            if loan_ineligibility(loan, compensated=is_compensated):
                continue
            if all((loan.pk, kind) in existing for kind in _kinds_due(loan)):
                continue
            try:
                ps = _parameters(parameters, loan)
                year = loan.settled_on.year
                got = {kind: received.get((loan.enterprise_id, kind, year), rules.ZERO)
                       for kind, basis in ((SubsidyKind.INTEREST, ps.interest_subsidy_cap_basis),
                                           (SubsidyKind.GUARANTEE_FEE, ps.fee_subsidy_cap_basis))
                       if basis == rules.PER_ENTERPRISE_YEAR}
                calcs = rules.loan_subsidies(
                    loan=_loan_facts(loan, compensated=is_compensated), params=ps, lpr_table=lpr,
                    already_received=got,
                    other_subsidies={k: others.get((loan.pk, k), rules.ZERO) for k in KINDS},
                )
            except (BusinessError, ValueError) as exc:  # no parameter set; no LPR or another input it cannot take
                reason = exc.message if isinstance(exc, BusinessError) else f"无法测算补贴：{exc}"
                logger.warning("subsidy not computed for loan %s: %s", loan.pk, reason)
                events.append(("subsidy.compute_failed", loan, {"reason": reason}))
                continue
            for kind, calc in calcs.items():
                if (loan.pk, kind) in existing:
                    continue
                subsidy = _subsidy(loan=loan, kind=kind, calc=calc, ps=ps, snapshots=snapshots)
                new.append(subsidy)
                key = (loan.enterprise_id, kind, year)
                received[key] = received.get(key, rules.ZERO) + calc.amount
                events.append(("subsidy.computed", subsidy, {
                    "loan": loan.pk, "kind": kind, "amount": calc.amount, "cap_applied": calc.cap_applied,
                    "parameter_set": ps.pk}))
        bulk_create_instances(new)
        if events:
            record_events(actor=actor, events=events)
    return new


def _subsidy(*, loan: Loan, kind: str, calc: rules.Calculation, ps: ParameterSet, snapshots: dict[int, dict]) -> Subsidy:
    """The unsaved subsidy; ``snapshots`` memoises each parameter set's snapshot (copied per subsidy)."""
    if ps.pk not in snapshots:
        snapshots[ps.pk] = _parameter_snapshot(ps)
    snapshot = dict(snapshots[ps.pk])
    data = {**calc.as_dict(), "inputs": _inputs(loan), "parameter_set": snapshot}
    ref = data.get("reference_rate") or {}
    return Subsidy(
        loan=loan, kind=kind, programme=loan.programme, enterprise_id=loan.enterprise_id, parameter_set=ps,
        settled_on=loan.settled_on, amount=calc.amount, calculation=data,
        reference_rate=Decimal(ref["rate"]) if ref else None, reference_rate_source=ref.get("source", ""),
        flagged=bool(calc.flags), flag_reason="；".join(calc.flags)[:300],
    )


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
