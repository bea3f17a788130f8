"""Payment batches (R38): gather approved subsidies, export the payment list for the
treasury, confirm payment with the voucher and post each subsidy through the ledger once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fund.models import Programme
from fund.services.ledger import subsidy_pay
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import User

from ..exports import payment_list_xlsx
from ..models import BatchStatus, PaymentBatch, Subsidy, SubsidyStatus
from ._common import require_perm
from .workflow import PAY, REVIEW, subsidy_transition


def _next_reference(programme: Programme) -> str:
    prefix = f"BT{programme.code}-{timezone.localdate():%Y%m%d}-"
    count = PaymentBatch.objects.filter(reference__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}"


def payment_batch_create(
    *, programme: Programme, actor: User, subsidies: Sequence[Subsidy] | None = None
) -> PaymentBatch:
    """Gather approved subsidies of ``programme`` (all, or those given) into a new batch."""
    require_perm(actor, REVIEW, what="编制补贴支付批次")
    with transaction.atomic(durable=True):
        qs = Subsidy.objects.select_for_update().filter(programme=programme, status=SubsidyStatus.APPROVED)
        if subsidies is not None:
            qs = qs.filter(pk__in=[s.pk for s in subsidies])
        chosen = list(qs.order_by("pk"))
        if not chosen or (subsidies is not None and len(chosen) != len({s.pk for s in subsidies})):
            raise BusinessError("只能把本项目已核准、尚未纳入批次的补贴编入支付批次", code="nothing_to_batch", rule="R38")
        batch = PaymentBatch.objects.create(programme=programme, reference=_next_reference(programme), created_by=actor,
                                            total=sum((s.amount for s in chosen), Decimal("0.00")))
        for subsidy in chosen:
            subsidy_transition(subsidy=subsidy, to=SubsidyStatus.IN_BATCH, actor=actor, batch=batch)
        record_event(actor=actor, event_type="subsidy_batch.created", obj=batch, count=len(chosen), total=batch.total,
                     subsidies=[s.pk for s in chosen])
    return batch


def payment_batch_remove(*, batch: PaymentBatch, subsidy: Subsidy, actor: User) -> PaymentBatch:
    """Take a subsidy out of a batch that is not paid yet (it goes back to approved)."""
    require_perm(actor, REVIEW, what="调整补贴支付批次")
    with transaction.atomic(durable=True):
        locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        current = Subsidy.objects.select_for_update().get(pk=subsidy.pk)
        if locked.status != BatchStatus.OPEN or current.batch_id != locked.pk:
            raise BusinessError("只能从待支付的批次中移出本批次的补贴", code="batch_closed", rule="R38")
        subsidy_transition(subsidy=current, to=SubsidyStatus.APPROVED, actor=actor)
        locked.total -= current.amount
        locked.save(update_fields=["total"])
        record_event(actor=actor, event_type="subsidy_batch.removed", obj=locked, subsidy=subsidy.pk)
    return locked


def payment_batch_export(*, batch: PaymentBatch, actor: User) -> bytes:
    """The batch as the treasury's payment list (xlsx); the export is recorded."""
    require_perm(actor, "view_paymentbatch", what="导出补贴支付清单")
    rows = list(batch.subsidies.select_related("enterprise", "loan__bank").order_by("pk"))
    content = payment_list_xlsx(batch=batch, subsidies=rows)
    with transaction.atomic():
        PaymentBatch.objects.filter(pk=batch.pk).update(exported_at=timezone.now())
        record_event(actor=actor, event_type="subsidy_batch.exported", obj=batch, count=len(rows))
    return content


def payment_batch_mark_paid(
    *, batch: PaymentBatch, voucher_reference: str, paid_on: date, actor: User
) -> PaymentBatch:
    """The treasury paid the batch: post each subsidy once through the ledger and mark it paid.

    Refused (changing nothing) when the batch is already paid, by the approver of any of its
    subsidies, or when the subsidy budget is short (the ledger refuses; everything rolls back).
    """
    require_perm(actor, PAY, what="确认补贴支付")
    voucher = voucher_reference.strip()
    if not voucher:
        raise BusinessError("请填写国库支付凭证号", code="voucher_required", rule="R38")
    with transaction.atomic(durable=True):
        locked = PaymentBatch.objects.select_for_update().select_related("programme").get(pk=batch.pk)
        if locked.status != BatchStatus.OPEN:
            raise BusinessError(
                f"支付批次 {locked.reference} 已于 {locked.paid_on:%Y-%m-%d} 确认支付（凭证号 {locked.voucher_reference}），"
                "不能重复支付", code="already_paid", rule="R38",
            )
        subsidies = list(Subsidy.objects.select_for_update().filter(batch=locked).order_by("pk"))
        if not subsidies:
            raise BusinessError("该支付批次没有补贴", code="empty_batch", rule="R38")
        for subsidy in subsidies:
            journal = None
            if subsidy.amount > 0:
                journal = subsidy_pay(
                    programme=locked.programme, amount=subsidy.amount, reference=f"{locked.reference}/{subsidy.pk}",
                    idempotency_key=f"subsidy:{subsidy.pk}", actor=actor, on=paid_on,
                )
            subsidy_transition(subsidy=subsidy, to=SubsidyStatus.PAID, actor=actor, paid_on=paid_on,
                               payment_reference=voucher, journal_id=getattr(journal, "pk", None))
        locked.status, locked.voucher_reference, locked.paid_on = BatchStatus.PAID, voucher, paid_on
        locked.paid_by, locked.paid_at = actor, timezone.now()
        locked.save(update_fields=["status", "voucher_reference", "paid_on", "paid_by", "paid_at"])
        record_event(actor=actor, event_type="subsidy_batch.paid", obj=locked, voucher=voucher, paid_on=paid_on,
                     total=locked.total, count=len(subsidies))
    return locked
