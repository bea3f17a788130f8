"""Builders for claim tests: claimable loans, role users, a funded pool, valid documents."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fund.models import Claim, LoanMode, LoanStatus, Partnership
from fund.models.claims import DocumentKind
from fund.rules import claims as claim_rules
from registry import roles
from tests.factories import (
    GuarantorFactory,
    GuarantorPartnershipFactory,
    LoanFactory,
    PartnershipFactory,
    ProgrammeFactory,
    UserFactory,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def today() -> date:
    return timezone.localdate()


def pdf(name: str = "材料.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def claimable_loan(
    *, programme=None, bank=None, mode: str = LoanMode.BANK, principal: Decimal = Decimal("1000000.00"),
    outstanding: Decimal | None = None, overdue_days: int = 120, np_days_ago: int = 30, **extra,
):
    """A loan overdue beyond R23, non-performing for ``np_days_ago`` days (inside R24)."""
    programme = programme or ProgrammeFactory()
    partnership = (
        Partnership.objects.filter(programme=programme, bank=bank).first() if bank else None
    ) or PartnershipFactory(programme=programme, **({"bank": bank} if bank else {}))
    if mode == LoanMode.BANK_GUARANTOR and "guarantor" not in extra:
        guarantor = GuarantorFactory()
        GuarantorPartnershipFactory(programme=programme, guarantor=guarantor)
        extra |= {"guarantor": guarantor, "guarantee_contract_no": "DB-001"}
    return LoanFactory(
        programme=programme, bank=partnership.bank, mode=mode, principal=principal,
        outstanding_principal=principal if outstanding is None else outstanding, overdue_days=overdue_days,
        status=LoanStatus.OVERDUE, ever_overdue=True, nonperforming_since=today() - timedelta(days=np_days_ago),
        **extra,
    )


def bank_user(bank, username: str | None = None):
    return UserFactory(username=username or f"bank_{bank.code}", role=roles.BANK_USER, bank=bank)


def guarantor_user(guarantor, username: str | None = None):
    return UserFactory(username=username or f"guar_{guarantor.code}", role=roles.GUARANTOR_USER, guarantor=guarantor)


def staff(role: str, username: str):
    return UserFactory(username=username, role=role)


def bureau_team():
    """经办 reviewer, 复核 approver and a second 复核 who pays (R27: three different people)."""
    return (
        staff(roles.HANDLER, "reviewer"),
        staff(roles.APPROVER, "approver"),
        staff(roles.APPROVER, "payer"),
    )


def fund_pool(programme, amount: Decimal = Decimal("10000000.00"), on: date | None = None, key: str = "seed"):
    from fund.services.ledger import contribution_record

    return contribution_record(
        programme=programme, payer_kind="treasury", amount=amount, on=on or today() - timedelta(days=60),
        idempotency_key=f"{key}-{programme.pk}", actor=None,
    )


def attach_all_documents(claim: Claim, actor, *, court_notice: bool = False) -> None:
    from fund.services import claim_document_add

    kinds = claim_rules.required_document_kinds(mode=claim.loan.mode, require_court_notice=court_notice)
    for kind in kinds:
        if kind == DocumentKind.GUARANTOR_PAYMENT_VOUCHER:
            continue  # comes with the guarantor's recorded payment
        claim_document_add(claim=claim, kind=kind, file=pdf(f"{kind}.pdf"), actor=actor)


def record_guarantor_share(loan, *, amount: Decimal | None = None):
    from fund.services import guarantor_payment_record

    amount = amount if amount is not None else (loan.outstanding_principal * Decimal("0.4")).quantize(Decimal("0.01"))
    return guarantor_payment_record(
        loan=loan, amount=amount, paid_on=today() - timedelta(days=5), voucher=pdf("代偿凭证.pdf"),
        actor=guarantor_user(loan.guarantor),
    )


def submitted_claim(loan=None, *, user=None, **loan_kwargs):
    """A claim filed with every document and submitted by the loan's bank."""
    from fund.services.claims import claim_create, claim_submit

    loan = loan or claimable_loan(**loan_kwargs)
    user = user or bank_user(loan.bank)
    if loan.mode == LoanMode.BANK_GUARANTOR and not loan.guarantor_payments.exists():
        record_guarantor_share(loan)
    claim = claim_create(loan=loan, actor=user)
    attach_all_documents(claim, user)
    return claim_submit(claim=claim, actor=user)


def paid_claim(loan=None, *, team=None, fund: bool = True, **loan_kwargs):
    from fund.services.claims import claim_approve, claim_pay, claim_start_review

    claim = submitted_claim(loan, **loan_kwargs)
    if fund:
        fund_pool(claim.programme)
    reviewer, approver, payer = team or bureau_team()
    claim_start_review(claim=claim, actor=reviewer)
    claim_approve(claim=claim, actor=approver)
    return claim_pay(claim=claim, actor=payer)
