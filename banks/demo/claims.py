"""Demo step: compensation claims on the pilot's non-performing loans, through the claim services.

Uses the loans the pilot intake loaded that are more than 90 days overdue (R23) and still inside
the R24 window on the chosen claim date. With the pilot data these are three loans:

- a 政银 loan → paid, then a recovery whose refund is received back into the pool (R30);
- a 政银担 loan → the guarantor records its 40 % payment, the bank claims, paid (R19);
- a written-off 政银 loan → left under review (it shows the R29 service-level flag).

Dates are in 2022, right after the pilot's status reports, so R24 holds on each claim date. Every
step looks at the claim's current state and only does what is missing, so the step is idempotent.
Without such loans (the pilot step not loaded) it prints a message and does nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TextIO

from django.core.files.base import ContentFile
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from banks.models import StatusReport
from fund.models import Claim, ClaimStatus, DocumentKind, Loan, LoanMode, LoanStatus, RefundStatus
from fund.rules import claims as claim_rules
from fund.selectors.programme import parameters_in_force
from fund.services import (
    claim_approve,
    claim_create,
    claim_document_add,
    claim_pay,
    claim_start_review,
    claim_submit,
    guarantor_payment_record,
    recovery_mark_refund_received,
    recovery_record,
)
from registry.models import User

from .foundation import load_users, programme

FONT = "STSong-Light"
TARGET_PAID, TARGET_REVIEW = "paid", "under_review"
LATEST_CLAIM_DATE = date(2022, 5, 16)


@dataclass(frozen=True)
class Plan:
    loan: Loan
    target: str
    claim_on: date
    unpaid_principal: Decimal


def _demo_pdf(title: str, lines: list[str]) -> ContentFile:
    """A small, real PDF standing in for a scanned document."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setFont(FONT, 16)
    page.drawString(72, 780, title)
    page.setFont(FONT, 11)
    for i, line in enumerate([*lines, "（演示数据，非真实材料）"]):
        page.drawString(72, 750 - 18 * i, line)
    page.showPage()
    page.save()
    return ContentFile(buffer.getvalue(), name=f"{title}.pdf")


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _bank_user(loan: Loan) -> User:
    return User.objects.filter(bank=loan.bank).order_by("username").first()


def _loss_before_write_off(loan: Loan) -> Decimal:
    """The balance the bank reported before writing the loan off (its register balance is then 0)."""
    report = (StatusReport.objects.filter(loan=loan, is_current=True, outstanding_principal__gt=0)
              .order_by("-month").first())
    return report.outstanding_principal if report else loan.principal


def _plans(out: TextIO) -> list[Plan]:
    prog = programme()
    candidates = Loan.objects.filter(programme=prog, overdue_days__gt=90, nonperforming_since__isnull=False).exclude(
        status=LoanStatus.SETTLED).select_related("bank", "guarantor").order_by("nonperforming_since", "pk")
    plans: list[Plan] = []
    paid_modes: set[str] = set()
    for loan in candidates:
        params = parameters_in_force(programme=prog, on=loan.nonperforming_since)
        deadline = claim_rules.filing_deadline(nonperforming_since=loan.nonperforming_since,
                                               deadline_days=params.claim_deadline_days)
        # soon after the pilot's last status reports, and safely inside the R24 window
        claim_on = max(min(LATEST_CLAIM_DATE, deadline - timedelta(days=20)),
                       loan.nonperforming_since + timedelta(days=1))
        written_off = loan.status == LoanStatus.WRITTEN_OFF
        principal = _loss_before_write_off(loan) if written_off else loan.outstanding_principal
        target = TARGET_REVIEW if (loan.mode in paid_modes or written_off) else TARGET_PAID
        if target == TARGET_PAID:
            paid_modes.add(loan.mode)
        plans.append(Plan(loan=loan, target=target, claim_on=claim_on, unpaid_principal=principal))
    if not plans:
        out.write("  没有逾期超过 90 天的演示贷款（先载入试点贷款），跳过补偿申请演示\n")
    return plans


def _guarantor_pays(plan: Plan, out: TextIO) -> None:
    loan = plan.loan
    if loan.mode != LoanMode.BANK_GUARANTOR or loan.guarantor_payments.exists():
        return
    params = parameters_in_force(programme=loan.programme, on=plan.claim_on)
    amount = claim_rules.money(plan.unpaid_principal * params.guarantor_mode_guarantor_share / 100)
    actor = User.objects.filter(guarantor=loan.guarantor).order_by("username").first()
    guarantor_payment_record(loan=loan, amount=amount, paid_on=plan.claim_on - timedelta(days=3),
                             voucher=_demo_pdf("担保机构代偿凭证", [f"合同 {loan.contract_no}", f"代偿 {amount} 元"]),
                             actor=actor)
    out.write(f"  {loan.guarantor.short_name} 代偿 {amount:,.2f} 元（{loan.contract_no}）\n")


def _file(plan: Plan, out: TextIO) -> Claim:
    loan, user = plan.loan, _bank_user(plan.loan)
    claim = claim_create(loan=loan, actor=user, unpaid_principal=plan.unpaid_principal, on=plan.claim_on,
                         unpaid_interest=Decimal("0"), note="演示：贷款逾期超过 90 天，申请风险补偿")
    params = parameters_in_force(programme=loan.programme, on=plan.claim_on)
    for kind in claim_rules.required_document_kinds(mode=loan.mode, require_court_notice=params.require_court_notice):
        if kind == DocumentKind.GUARANTOR_PAYMENT_VOUCHER:
            continue
        label = str(DocumentKind(kind).label)
        claim_document_add(claim=claim, kind=kind, actor=user,
                           file=_demo_pdf(label, [f"借款合同 {loan.contract_no}", f"借款企业 {loan.enterprise_name}"]))
    out.write(f"  {loan.bank.short_name} 申请补偿 {claim.number}（{loan.get_mode_display()}，{loan.contract_no}）\n")
    return claim


def _advance(plan: Plan, out: TextIO) -> Claim:
    """Move the loan's claim one state at a time towards the plan's target."""
    claim = Claim.objects.filter(loan=plan.loan).exclude(status=ClaimStatus.REJECTED).first()
    if claim is None:
        _guarantor_pays(plan, out)
        claim = _file(plan, out)
    decided_on = plan.claim_on + timedelta(days=14)
    steps = {
        ClaimStatus.DRAFT: lambda c: claim_submit(claim=c, actor=_bank_user(plan.loan), on=plan.claim_on),
        ClaimStatus.SUBMITTED: lambda c: claim_start_review(claim=c, actor=_user("bureau_handler")),
        ClaimStatus.UNDER_REVIEW: lambda c: claim_approve(claim=c, actor=_user("bureau_approver"), on=decided_on,
                                                          comment="材料齐全，符合补偿条件"),
        ClaimStatus.APPROVED: lambda c: claim_pay(claim=c, actor=_user("bureau_admin"), on=decided_on),
    }
    while claim.status != plan.target and claim.status in steps:
        if plan.target == TARGET_REVIEW and claim.status == ClaimStatus.UNDER_REVIEW:
            break
        claim = steps[claim.status](claim)
    return claim


def _recover(claim: Claim, out: TextIO) -> None:
    """One recovery on the paid 政银 claim, its refund received back into the pool (R30)."""
    recovery = claim.recoveries.order_by("pk").first()
    if recovery is None:
        recovered_on = claim.paid_on + timedelta(days=10)
        gross = claim_rules.money(claim.unpaid_principal * Decimal("0.25"))
        recovery = recovery_record(claim=claim, gross_amount=gross, costs=Decimal("8000.00"),
                                   recovered_on=recovered_on, actor=_bank_user(claim.loan),
                                   evidence=_demo_pdf("追偿回款凭证", [f"收回 {gross} 元", "诉讼费 8000 元"]),
                                   note="演示：处置抵押物收回")
        out.write(f"  追偿收回 {gross:,.2f} 元，应返还资金池 {recovery.refund_due:,.2f} 元\n")
    if recovery.refund_status == RefundStatus.DUE:
        recovery_mark_refund_received(recovery=recovery, received_on=recovery.recovered_on + timedelta(days=5),
                                      actor=_user("bureau_handler"))
        out.write("  返还款已到账入池\n")


def load_claims(out: TextIO) -> None:
    plans = _plans(out)
    if not plans:
        return
    load_users(out)  # the claim's actors: bank, guarantor and bureau demo users
    recovered = False
    for plan in plans:
        claim = _advance(plan, out)
        if claim.status == ClaimStatus.PAID and plan.loan.mode == LoanMode.BANK and not recovered:
            _recover(claim, out)
            recovered = True
