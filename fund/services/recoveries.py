"""Recoveries after compensation and the pool's refunds (R30).

The bank (or, in 政银担, the guarantor) reports each recovery with its costs and evidence;
the pool's refund is net recovery × (pool paid ÷ unpaid principal claimed), capped so the
refunds of a claim never exceed what the pool paid. Staff confirm the money's arrival, which
posts it through ``fund.services.ledger.recovery_refund_receive`` exactly once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import IO

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from fund.models import Claim, ClaimStatus, Recovery, RefundStatus
from fund.rules import claims as claim_rules
from fund.selectors.claims import recoveries_refund_overdue, refunded_total
from fund.selectors.programme import parameters_in_force
from fund.services.claim_documents import check_upload
from fund.services.ledger import recovery_refund_receive
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import User


def refund_idempotency_key(recovery: Recovery) -> str:
    """The ledger key of a recovery's refund: one per recovery, so it is received once."""
    return f"recovery-refund-{recovery.pk}"


def _may_report(actor: User, claim: Claim) -> bool:
    loan = claim.loan
    if getattr(actor, "bank_id", None) and actor.bank_id == loan.bank_id:
        return True
    return bool(getattr(actor, "guarantor_id", None)) and actor.guarantor_id == loan.guarantor_id


def recovery_record(
    *, claim: Claim, gross_amount: Decimal, costs: Decimal, recovered_on: date, evidence: IO[bytes], actor: User,
    note: str = "", name: str | None = None,
) -> Recovery:
    """Report one recovery on a paid claim and compute the refund it owes the pool (R30)."""
    gross, cost = claim_rules.money(gross_amount), claim_rules.money(costs or 0)
    if gross <= 0 or cost < 0:
        raise BusinessError("收回金额应大于零，追偿费用不能为负数", code="bad_amount", rule="R30")
    if recovered_on > timezone.localdate():
        raise BusinessError("收回日期不能晚于今天", code="bad_date")
    upload = check_upload(file=evidence, kind="recovery_evidence", name=name)
    with transaction.atomic(durable=True):
        claim = Claim.objects.select_for_update(of=("self",)).select_related("loan", "programme").get(pk=claim.pk)
        if not _may_report(actor, claim):
            raise BusinessError("只有贷款所属银行或其担保机构的用户可以登记追偿收回", code="forbidden", rule="R30")
        if claim.status != ClaimStatus.PAID:
            raise BusinessError("资金池补偿支付之后才能登记追偿收回", code="not_paid", rule="R30")
        params = parameters_in_force(programme=claim.programme, on=recovered_on)
        net = claim_rules.net_recovery(gross=gross, costs=cost)
        before = refunded_total(claim=claim)
        refund = claim_rules.recovery_refund(net=net, pool_paid=claim.paid_amount or 0,
                                             unpaid_principal=claim.unpaid_principal, refunded_before=before)
        recovery = Recovery(
            claim=claim, recovered_on=recovered_on, gross_amount=gross, costs=cost, net_amount=net, refund_due=refund,
            refund_due_on=claim_rules.add_working_days(recovered_on, params.refund_due_working_days),
            refund_status=RefundStatus.DUE if refund > 0 else RefundStatus.NONE, note=note[:300], recorded_by=actor,
            evidence_name=upload.name, evidence_content_type=upload.content_type,
            calculation={"net": f"{net:.2f}", "pool_paid": f"{claim.paid_amount:.2f}",
                         "unpaid_principal": f"{claim.unpaid_principal:.2f}", "refunded_before": f"{before:.2f}",
                         "refund": f"{refund:.2f}", "parameter_set_id": params.pk},
        )
        recovery.evidence.save(f"evidence{claim_rules.EXTENSIONS[upload.detected]}", File(upload.file), save=False)
        recovery.save()
        record_event(actor=actor, event_type="recovery.recorded", obj=recovery, claim=claim.pk, gross=gross,
                     costs=cost, net=net, refund_due=refund, refund_due_on=recovery.refund_due_on,
                     after_write_off=claim.pursuit_closed_on is not None)
    return recovery


def recovery_mark_refund_received(*, recovery: Recovery, received_on: date, actor: User) -> Recovery:
    """Staff confirm the refund arrived: post it to the pool through the ledger, exactly once (R30)."""
    if not (actor.is_staff and actor.is_bureau and actor.has_perm("fund.handle_recovery_refund")):
        raise BusinessError("您没有确认追偿返还款到账的权限", code="forbidden", rule="R30")
    if received_on > timezone.localdate():
        raise BusinessError("到账日期不能晚于今天", code="bad_date")
    with transaction.atomic(durable=True):
        recovery = Recovery.objects.select_for_update(of=("self",)).select_related("claim__programme").get(
            pk=recovery.pk
        )
        if recovery.refund_status != RefundStatus.DUE:
            raise BusinessError(
                f"该笔追偿的返还状态为“{recovery.get_refund_status_display()}”，无需确认到账", code="not_due", rule="R30"
            )
        claim = recovery.claim
        journal = recovery_refund_receive(
            programme=claim.programme, amount=recovery.refund_due, reference=f"{claim.number}-R{recovery.pk}",
            idempotency_key=refund_idempotency_key(recovery), actor=actor, on=received_on,
            memo=f"追偿返还 {claim.number}",
        )
        recovery.refund_status, recovery.refund_received_on = RefundStatus.RECEIVED, received_on
        recovery.refund_journal, recovery.received_by = journal, actor
        recovery.save(update_fields=["refund_status", "refund_received_on", "refund_journal", "received_by"])
        record_event(actor=actor, event_type="recovery.refund_received", obj=recovery, amount=recovery.refund_due,
                     received_on=received_on, journal=journal.pk)
    return recovery


@transaction.atomic
def recoveries_flag_refund_overdue(*, as_of: date | None = None) -> int:
    """R30: mark refunds past their due date (once each) and record an event."""
    flagged = 0
    for recovery in recoveries_refund_overdue(as_of=as_of).filter(refund_overdue_flagged_at__isnull=True
                                                                  ).select_for_update():
        recovery.refund_overdue_flagged_at = timezone.now()
        recovery.save(update_fields=["refund_overdue_flagged_at"])
        record_event(actor=None, event_type="recovery.refund_overdue", obj=recovery,
                     refund_due_on=recovery.refund_due_on, rule="R30")
        flagged += 1
    return flagged
