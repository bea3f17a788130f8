"""Claim documents (R25) and the guarantor's payment voucher (政银担), stored privately.

Every upload is checked by its first bytes (PDF, JPEG, PNG; xlsx for the bank's loss
calculation) and its size (≤ 10 MB) and stored under MEDIA_ROOT/claims/ with no public URL.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from fund.models import Claim, ClaimDocument, ClaimStatus, DocumentKind, GuarantorPayment, Loan, LoanMode
from fund.rules import claims as claim_rules
from fund.services.claims import _forbidden, _require_bank_user
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import User

S = ClaimStatus


# --- uploads (R25) -------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedUpload:
    file: IO[bytes]
    name: str
    detected: str
    content_type: str
    size: int
    sha256: str


def check_upload(*, file: IO[bytes], kind: str, name: str | None = None) -> CheckedUpload:
    """Type by magic bytes (PDF/JPEG/PNG, xlsx for the loss calculation) and size ≤ 10 MB (R25)."""
    name = os.path.basename(name or getattr(file, "name", "") or "upload")[:200]
    size = getattr(file, "size", None)
    file.seek(0, os.SEEK_END)
    size = file.tell() if size is None else size
    file.seek(0)
    detected = claim_rules.sniff_document_type(file.read(16))
    file.seek(0)
    if detected == "zip":
        detected = claim_rules.XLSX if _is_xlsx(file) else None
    error = claim_rules.document_error(kind=kind, detected=detected, size=size)
    if error:
        raise BusinessError(f"“{name}”不能上传：{error}", code="bad_document", rule="R25", file=name)
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(64 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return CheckedUpload(file=file, name=name, detected=detected, content_type=claim_rules.CONTENT_TYPES[detected],
                         size=size, sha256=digest.hexdigest())


def _is_xlsx(file: IO[bytes]) -> bool:
    try:
        with zipfile.ZipFile(file) as archive:
            return claim_rules.is_xlsx_listing(archive.namelist())
    except zipfile.BadZipFile:
        return False
    finally:
        file.seek(0)


def _stored_filename(upload: CheckedUpload) -> str:
    return f"upload{claim_rules.EXTENSIONS[upload.detected]}"


@transaction.atomic
def claim_document_add(*, claim: Claim, kind: str, file: IO[bytes], actor: User, name: str | None = None
                       ) -> ClaimDocument:
    """Attach one typed document to a draft claim (R25); stored privately under MEDIA_ROOT/claims/."""
    claim = Claim.objects.select_for_update(of=("self",)).select_related("loan__bank").get(pk=claim.pk)
    _require_bank_user(actor, claim.loan, "上传申请材料")
    if claim.status != S.DRAFT:
        raise BusinessError("只有草稿状态的申请可以上传材料", code="not_draft")
    if kind not in DocumentKind.values:
        raise BusinessError(f"未知的材料类型：{kind}", code="bad_document_kind", rule="R25")
    upload = check_upload(file=file, kind=kind, name=name)
    document = ClaimDocument(claim=claim, kind=kind, original_name=upload.name, content_type=upload.content_type,
                             size=upload.size, sha256=upload.sha256, uploaded_by=actor)
    document.file.save(_stored_filename(upload), File(upload.file), save=False)
    document.save()
    record_event(actor=actor, event_type="claim.document_added", obj=claim, document=document.pk, kind=kind,
                 name=upload.name, size=upload.size, sha256=upload.sha256)
    return document


@transaction.atomic
def claim_document_remove(*, document: ClaimDocument, actor: User) -> None:
    claim = Claim.objects.select_for_update(of=("self",)).select_related("loan__bank").get(pk=document.claim_id)
    _require_bank_user(actor, claim.loan, "删除申请材料")
    if claim.status != S.DRAFT:
        raise BusinessError("只有草稿状态的申请可以删除材料", code="not_draft")
    record_event(actor=actor, event_type="claim.document_removed", obj=claim, document=document.pk,
                 kind=document.kind, name=document.original_name)
    stored = document.file.name
    document.delete()
    transaction.on_commit(lambda: document.file.storage.delete(stored))


@transaction.atomic
def guarantor_payment_record(
    *, loan: Loan, amount: Decimal, paid_on: date, voucher: IO[bytes], actor: User, name: str | None = None
) -> GuarantorPayment:
    """政银担: the guarantor records paying the bank its share, with the voucher (R19, R25)."""
    if loan.mode != LoanMode.BANK_GUARANTOR:
        raise BusinessError("只有政银担模式的贷款才有担保机构代偿", code="not_guaranteed", rule="R19")
    if not getattr(actor, "guarantor_id", None) or actor.guarantor_id != loan.guarantor_id:
        raise _forbidden("只有该笔贷款的担保机构用户可以登记代偿")
    amount = claim_rules.money(amount)
    if amount <= 0:
        raise BusinessError("代偿金额应大于零", code="bad_amount")
    if paid_on > timezone.localdate() or paid_on < loan.disbursed_on:
        raise BusinessError("代偿日期应在放款日之后、今天之前", code="bad_date")
    upload = check_upload(file=voucher, kind=claim_rules.GUARANTOR_PAYMENT_VOUCHER, name=name)
    payment = GuarantorPayment(loan=loan, guarantor_id=loan.guarantor_id, amount=amount, paid_on=paid_on,
                               voucher_name=upload.name, voucher_content_type=upload.content_type, recorded_by=actor)
    payment.voucher.save(_stored_filename(upload), File(upload.file), save=False)
    payment.save()
    record_event(actor=actor, event_type="claim.guarantor_payment_recorded", obj=payment, loan=loan.pk,
                 amount=amount, paid_on=paid_on, sha256=upload.sha256)
    return payment
