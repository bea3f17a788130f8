"""The subsidy's life (R38): one transition table, one transition service, and the
enterprise's application (R37) with its documents."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from fund.rules.claims import sniff_document_type
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import User

from .. import rules
from ..models import (
    BatchStatus,
    DocumentType,
    PaymentBatch,
    Subsidy,
    SubsidyDocument,
    SubsidyKind,
    SubsidyStatus,
)
from ..selectors import window_state
from ._common import require_enterprise, require_perm
from .compute import loan_ineligibility

S = SubsidyStatus
ENTERPRISE = "enterprise"  # the move is the enterprise's own, not a staff permission
REVIEW, APPROVE, PAY = "handle_subsidy_review", "approve_subsidy", "pay_subsidy"

# from → {to: who may make the move (permission codenames, or ENTERPRISE)}
ALLOWED_TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    S.COMPUTED: {S.APPLIED: (ENTERPRISE,)},
    S.APPLIED: {S.UNDER_REVIEW: (REVIEW,), S.REJECTED: (REVIEW, APPROVE)},
    S.UNDER_REVIEW: {S.APPROVED: (APPROVE,), S.REJECTED: (REVIEW, APPROVE)},
    S.APPROVED: {S.IN_BATCH: (REVIEW,)},
    S.IN_BATCH: {S.PAID: (PAY,), S.APPROVED: (REVIEW,)},
    S.PAID: {},
    S.REJECTED: {},
}
MOVE_NAMES = {
    S.APPLIED: "提交补贴申请", S.UNDER_REVIEW: "审核补贴", S.APPROVED: "核准补贴", S.IN_BATCH: "编制支付批次",
    S.PAID: "确认补贴支付", S.REJECTED: "驳回补贴申请",
}
REQUIRED_DOCUMENTS = {
    SubsidyKind.INTEREST: (),
    SubsidyKind.GUARANTEE_FEE: (DocumentType.GUARANTEE_CONTRACT, DocumentType.FEE_INVOICE),  # R37
}
ALLOWED_UPLOADS = {  # extension → (type found by its magic bytes, content type)
    ".pdf": ("pdf", "application/pdf"),
    ".png": ("png", "image/png"),
    ".jpg": ("jpeg", "image/jpeg"),
    ".jpeg": ("jpeg", "image/jpeg"),
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def _check_actor(subsidy: Subsidy, to: str, actor: User | None) -> None:
    allowed = ALLOWED_TRANSITIONS[subsidy.status][to]
    if allowed == (ENTERPRISE,):
        require_enterprise(actor, subsidy.enterprise_id)
        return
    if (actor is not None and actor.is_authenticated and actor.is_bureau
            and any(actor.has_perm(f"subsidies.{perm}") for perm in allowed)):
        return
    require_perm(actor, allowed[0], what=MOVE_NAMES[to])


def _check_maker_checker(subsidy: Subsidy, to: str, actor: User) -> None:
    """R38 as R27: nobody approves what they reviewed or applied for; the payer is not the approver."""
    if to == S.APPROVED and subsidy.status == S.UNDER_REVIEW and actor.pk in {subsidy.reviewed_by_id, subsidy.applied_by_id}:
        raise BusinessError("审核人不能核准自己审核的补贴，请由另一位复核人员核准", code="maker_checker", rule="R38")
    if to == S.PAID and actor.pk == subsidy.approved_by_id:
        raise BusinessError("核准人不能确认同一笔补贴的支付，请由另一位人员确认", code="maker_checker", rule="R38")


def subsidy_transition(
    *, subsidy: Subsidy, to: str, actor: User | None, reason: str = "", batch: PaymentBatch | None = None,
    paid_on: date | None = None, payment_reference: str = "", journal_id: int | None = None,
) -> Subsidy:
    """Move a subsidy along ALLOWED_TRANSITIONS (R38), checking who may, with an audit event.

    Not durable itself: the payment and application services call it inside theirs.
    """
    with transaction.atomic():
        locked = Subsidy.objects.select_for_update().select_related("loan").get(pk=subsidy.pk)
        if to not in ALLOWED_TRANSITIONS[locked.status]:
            raise BusinessError(
                f"补贴当前状态为“{S(locked.status).label}”，不能变更为“{S(to).label}”",
                code="invalid_transition", rule="R38", status=locked.status, to=to,
            )
        _check_actor(locked, to, actor)
        _check_maker_checker(locked, to, actor)
        if to in (S.APPLIED, S.APPROVED) and (why := loan_ineligibility(locked.loan)):
            raise BusinessError(why, code="ineligible", rule="R28")
        if to == S.REJECTED and not reason.strip():
            raise BusinessError("驳回时必须填写理由", code="reason_required", rule="R38")
        fields = _apply(locked, to, actor, reason=reason.strip(), batch=batch, paid_on=paid_on,
                        payment_reference=payment_reference, journal_id=journal_id)
        previous = locked.status
        locked.status = to
        locked.save(update_fields=["status", *fields])
        event = "subsidy.removed_from_batch" if previous == S.IN_BATCH and to == S.APPROVED else f"subsidy.{to}"
        record_event(actor=actor, event_type=event, obj=locked, from_status=previous, to_status=to,
                     reason=reason.strip(), amount=locked.amount,
                     batch=batch.reference if batch else "", payment_reference=payment_reference)
    subsidy.refresh_from_db()
    return locked


def _apply(subsidy: Subsidy, to: str, actor: User | None, *, reason: str, batch: PaymentBatch | None,
           paid_on: date | None, payment_reference: str, journal_id: int | None) -> list[str]:
    """Set the fields that go with the move; returns their names."""
    now = timezone.now()
    if to == S.APPLIED:
        subsidy.applied_by, subsidy.applied_at = actor, now
        return ["applied_by", "applied_at"]
    if to == S.UNDER_REVIEW:
        subsidy.reviewed_by, subsidy.reviewed_at = actor, now
        return ["reviewed_by", "reviewed_at"]
    if to == S.APPROVED and subsidy.status == S.IN_BATCH:
        subsidy.batch = None
        return ["batch"]
    if to == S.APPROVED:
        subsidy.approved_by, subsidy.approved_at = actor, now
        return ["approved_by", "approved_at"]
    if to == S.IN_BATCH:
        if batch is None or batch.status != BatchStatus.OPEN:
            raise BusinessError("只能纳入待支付的支付批次", code="batch_closed", rule="R38")
        subsidy.batch = batch
        return ["batch"]
    if to == S.PAID:
        if not payment_reference or paid_on is None:
            raise BusinessError("确认支付须填写支付凭证号和支付日期", code="voucher_required", rule="R38")
        subsidy.paid_by, subsidy.paid_at, subsidy.paid_on = actor, now, paid_on
        subsidy.payment_reference, subsidy.journal_id = payment_reference, journal_id
        return ["paid_by", "paid_at", "paid_on", "payment_reference", "journal_id"]
    subsidy.status_reason = reason[:500]
    return ["status_reason"]


# --------------------------------------------------------------------------- documents


def validate_upload(upload: UploadedFile) -> tuple[str, str]:
    """Type and size check of an uploaded document; returns (extension, content type)."""
    name = upload.name or ""
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED_UPLOADS:
        raise BusinessError(f"文件“{name}”格式不支持：只接受 PDF、JPG、PNG 文件", code="file_type", rule="R37")
    if upload.size is None or upload.size <= 0:
        raise BusinessError(f"文件“{name}”是空文件", code="file_empty", rule="R37")
    if upload.size > MAX_UPLOAD_BYTES:
        raise BusinessError(f"文件“{name}”超过 10 MB，请压缩后再上传", code="file_size", rule="R37")
    expected, content_type = ALLOWED_UPLOADS[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if sniff_document_type(head) != expected:
        raise BusinessError(f"文件“{name}”的内容与扩展名不符，请上传真实的 PDF 或图片文件", code="file_type", rule="R37")
    return ext, content_type


def _store_document(*, subsidy: Subsidy, doc_type: str, upload: UploadedFile, actor: User) -> SubsidyDocument:
    ext, content_type = validate_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    doc = SubsidyDocument(
        subsidy=subsidy, doc_type=doc_type, token=secrets.token_hex(16), extension=ext,
        original_name=Path(upload.name).name[:200], content_type=content_type, size=upload.size,
        sha256=digest.hexdigest(), uploaded_by=actor,
    )
    doc.file.save(f"{doc.token}{ext}", upload, save=False)
    doc.save()
    record_event(actor=actor, event_type="subsidy.document_uploaded", obj=subsidy, document=doc.pk,
                 doc_type=doc_type, note=doc.get_doc_type_display())
    return doc


def subsidy_document_add(*, subsidy: Subsidy, doc_type: str, upload: UploadedFile, actor: User) -> SubsidyDocument:
    """The enterprise adds a document to its subsidy (before or after applying, until review starts)."""
    require_enterprise(actor, subsidy.enterprise_id)
    if subsidy.status not in (S.COMPUTED, S.APPLIED):
        raise BusinessError("审核开始后不能再上传材料，如需补充请联系财政部门", code="documents_closed", rule="R37")
    with transaction.atomic():
        return _store_document(subsidy=subsidy, doc_type=doc_type, upload=upload, actor=actor)


def missing_documents(*, subsidy: Subsidy, adding: Mapping[str, UploadedFile] | None = None) -> list[str]:
    """R37: the required document types not yet uploaded (labels)."""
    have = set(subsidy.documents.values_list("doc_type", flat=True)) | set(adding or {})
    return [str(DocumentType(t).label) for t in REQUIRED_DOCUMENTS[subsidy.kind] if t not in have]


def subsidy_apply(
    *, subsidy: Subsidy, actor: User, payee_name: str, payee_bank: str, payee_account: str,
    documents: Mapping[str, UploadedFile] | None = None, on: date | None = None,
) -> Subsidy:
    """R37: the enterprise confirms the prefilled subsidy, gives its payee account, uploads what is missing."""
    require_enterprise(actor, subsidy.enterprise_id)
    on = on or timezone.localdate()
    account = "".join(payee_account.split())
    with transaction.atomic(durable=True):
        locked = Subsidy.objects.select_for_update().select_related("loan", "parameter_set").get(pk=subsidy.pk)
        if locked.status != S.COMPUTED:
            raise BusinessError(f"该补贴已申请过（当前状态：{S(locked.status).label}），不能重复申请",
                                code="already_applied", rule="R37")
        _check_window(locked, on)
        if why := loan_ineligibility(locked.loan):
            raise BusinessError(why, code="ineligible", rule="R28")
        if not payee_name.strip() or not payee_bank.strip() or not account.isdigit() or not 8 <= len(account) <= 32:
            raise BusinessError("请填写收款户名、开户行和 8 至 32 位数字的收款账号", code="payee_required", rule="R37")
        for upload in (documents or {}).values():
            validate_upload(upload)
        if missing := missing_documents(subsidy=locked, adding=documents):
            raise BusinessError(f"请上传：{'、'.join(missing)}", code="documents_missing", rule="R37")
        for doc_type, upload in (documents or {}).items():
            _store_document(subsidy=locked, doc_type=doc_type, upload=upload, actor=actor)
        locked.payee_name, locked.payee_bank, locked.payee_account = payee_name.strip(), payee_bank.strip(), account
        locked.save(update_fields=["payee_name", "payee_bank", "payee_account"])
        result = subsidy_transition(subsidy=locked, to=S.APPLIED, actor=actor)
    subsidy.refresh_from_db()
    return result


def _check_window(subsidy: Subsidy, on: date) -> None:
    state = window_state(subsidy=subsidy, on=on)
    ps = subsidy.parameter_set
    if state == rules.WINDOW_NOT_YET:
        raise BusinessError(f"补贴申请尚未开始，将于 {ps.application_opens:%Y年%m月%d日} 开放", code="window_not_open",
                            rule="R37")
    if state == rules.WINDOW_CLOSED:
        raise BusinessError(f"补贴申请已于 {ps.application_closes:%Y年%m月%d日} 截止，无法再提交申请",
                            code="window_closed", rule="R37")
    if state == rules.WINDOW_UNSET:
        raise BusinessError("补贴申请期尚未公布，暂不能申请", code="window_unset", rule="R37")
