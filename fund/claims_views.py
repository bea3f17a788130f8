"""Bank-portal pages for compensation claims (/bank/claims/) and the private-file downloads.

A bank user files and follows its own bank's claims; a guarantor user records its payments to
banks (政银担) and recoveries on the loans it guarantees; bureau staff may read everything here
(they decide in the admin). Every object is looked up through ``claim_list(user=…)``, so another
bank's claim is a 404. Views translate the form, call one service and show the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fund.models import Claim, ClaimStatus, DocumentKind, GuarantorPayment, Loan, LoanMode, RefundStatus
from fund.pdf import claim_decision_notice, notice_filename
from fund.selectors.claims import (
    can_download_claim_documents,
    claim_list,
    claimable_loans,
    guarantor_paid_total,
    is_bureau_claims_user,
    missing_documents,
)
from fund.services.claim_documents import claim_document_add, claim_document_remove, guarantor_payment_record
from fund.services.claims import claim_close_pursuit, claim_create, claim_submit, claim_update
from fund.services.recoveries import recovery_record
from registry.errors import BusinessError
from registry.models import User

MONEY_FIELD = {"max_digits": 18, "decimal_places": 2, "min_value": Decimal("0")}


@dataclass(frozen=True)
class PortalContext:
    """What bank/base.html needs to know about the visitor."""

    label: str
    is_guarantor: bool = False
    is_bureau: bool = False


def _context(user: User) -> PortalContext:
    if getattr(user, "bank_id", None):
        return PortalContext(label=user.bank.name)
    if getattr(user, "guarantor_id", None):
        return PortalContext(label=user.guarantor.name, is_guarantor=True)
    if is_bureau_claims_user(user):
        return PortalContext(label="财政部门（只读查看；审核、批准与支付请在管理后台办理）")
    raise PermissionDenied("补偿申请仅供合作银行、担保机构和财政工作人员使用")


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"scope": _context(request.user), "nav": "claims", **context})


def _claim(request: HttpRequest, pk: int) -> Claim:
    _context(request.user)
    try:
        return claim_list(user=request.user).get(pk=pk)
    except Claim.DoesNotExist:
        raise Http404("没有这个补偿申请") from None


def _fail(request: HttpRequest, exc: BusinessError) -> None:
    messages.error(request, exc.message)


def private_file_response(user: User, claim: Claim, file: FieldFile, name: str, content_type: str) -> FileResponse:
    """Serve a privately stored claim file to the filing bank or bureau staff only (R25)."""
    if not can_download_claim_documents(user=user, claim=claim):
        raise Http404("没有这个文件")
    return FileResponse(file.open("rb"), as_attachment=True, filename=name, content_type=content_type)


# --- forms -------------------------------------------------------------------------------------


class ClaimForm(forms.Form):
    loan = forms.ModelChoiceField(queryset=Loan.objects.none(), label="贷款", empty_label="请选择逾期贷款")
    unpaid_principal = forms.DecimalField(label="申请日未偿本金（元）", required=False, **MONEY_FIELD,
                                          help_text="留空则取登记的贷款余额；只补偿本金（R20）")
    unpaid_interest = forms.DecimalField(label="欠息（元，仅记录，不予补偿）", required=False, **MONEY_FIELD)
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, bank_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        loans = claimable_loans(bank_id=bank_id)
        self.fields["loan"].queryset = loans
        self.fields["loan"].label_from_instance = lambda loan: (
            f"{loan.contract_no} · {loan.enterprise_name} · {loan.get_mode_display()} · 余额 {loan.outstanding_principal:,.2f}"
            f" · 逾期 {loan.overdue_days} 天")


class ClaimUpdateForm(forms.Form):
    unpaid_principal = forms.DecimalField(label="申请日未偿本金（元）", **MONEY_FIELD)
    unpaid_interest = forms.DecimalField(label="欠息（元，不予补偿）", required=False, **MONEY_FIELD)
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="材料类型", choices=DocumentKind.choices)
    file = forms.FileField(label="文件（PDF、JPEG、PNG；损失计算表可为 xlsx；不超过 10 MB）")


class RecoveryForm(forms.Form):
    recovered_on = forms.DateField(label="收回日期", widget=forms.DateInput(attrs={"type": "date"}))
    gross_amount = forms.DecimalField(label="收回金额（元）", **MONEY_FIELD)
    costs = forms.DecimalField(label="追偿费用（元）", required=False, **MONEY_FIELD)
    evidence = forms.FileField(label="凭证（PDF、JPEG、PNG）")
    note = forms.CharField(label="说明", required=False, max_length=300)


class ClosePursuitForm(forms.Form):
    closed_on = forms.DateField(label="核销日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="核销说明", max_length=300)


class GuarantorPaymentForm(forms.Form):
    loan = forms.ModelChoiceField(queryset=Loan.objects.none(), label="贷款", empty_label="请选择所担保的贷款")
    amount = forms.DecimalField(label="代偿金额（元）", **MONEY_FIELD)
    paid_on = forms.DateField(label="代偿日期", widget=forms.DateInput(attrs={"type": "date"}))
    voucher = forms.FileField(label="代偿凭证（PDF、JPEG、PNG）")

    def __init__(self, *args: Any, guarantor_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loan"].queryset = Loan.objects.filter(
            guarantor_id=guarantor_id, mode=LoanMode.BANK_GUARANTOR, overdue_days__gt=0
        ).select_related("bank").order_by("contract_no")
        self.fields["loan"].label_from_instance = lambda loan: (
            f"{loan.contract_no} · {loan.bank.short_name} · {loan.enterprise_name} · 余额 {loan.outstanding_principal:,.2f}")


# --- pages -------------------------------------------------------------------------------------


@login_required
def claim_list_view(request: HttpRequest) -> HttpResponse:
    _context(request.user)
    claims = claim_list(user=request.user).order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status in ClaimStatus.values:
        claims = claims.filter(status=status)
    return _render(request, "bank/claims/list.html", {
        "claims": claims[:200], "statuses": ClaimStatus.choices, "status": status,
        "can_file": bool(request.user.bank_id), "is_guarantor": bool(request.user.guarantor_id),
    })


@login_required
def claim_new(request: HttpRequest) -> HttpResponse:
    if not request.user.bank_id:
        raise PermissionDenied("只有合作银行的用户可以申请补偿")
    form = ClaimForm(request.POST or None, bank_id=request.user.bank_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim = claim_create(loan=data["loan"], actor=request.user, unpaid_principal=data["unpaid_principal"],
                                 unpaid_interest=data["unpaid_interest"] or Decimal("0"), note=data["note"])
        except BusinessError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已建立补偿申请 {claim.number}（草稿），请上传材料后提交")
            return redirect("claims-portal:detail", pk=claim.pk)
    return _render(request, "bank/claims/new.html", {"form": form})


@login_required
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    user = request.user
    is_bank = user.bank_id == claim.loan.bank_id
    may_report = is_bank or (user.guarantor_id and user.guarantor_id == claim.loan.guarantor_id)
    missing = missing_documents(claim=claim) if claim.status == ClaimStatus.DRAFT else []
    return _render(request, "bank/claims/detail.html", {
        "claim": claim, "loan": claim.loan, "calc": claim.calculation,
        "documents": claim.documents.select_related("uploaded_by"),
        "missing": [DocumentKind(k).label for k in missing],
        "history": claim.status_changes.select_related("actor"),
        "recoveries": claim.recoveries.all(),
        "guarantor_payments": GuarantorPayment.objects.filter(loan=claim.loan),
        "guarantor_paid": guarantor_paid_total(loan=claim.loan),
        "is_bank": is_bank, "can_edit": is_bank and claim.status == ClaimStatus.DRAFT,
        "can_download": can_download_claim_documents(user=user, claim=claim),
        "can_report": may_report and claim.status == ClaimStatus.PAID,
        "can_close": is_bank and claim.status == ClaimStatus.PAID and claim.pursuit_closed_on is None,
        "update_form": ClaimUpdateForm(initial={"unpaid_principal": claim.unpaid_principal,
                                                "unpaid_interest": claim.unpaid_interest, "note": claim.note}),
        "document_form": DocumentForm(initial={"kind": _first_missing(missing)}),
        "recovery_form": RecoveryForm(initial={"recovered_on": timezone.localdate(), "costs": Decimal("0")}),
        "close_form": ClosePursuitForm(initial={"closed_on": timezone.localdate()}),
        "today": timezone.localdate(),
    })


def _first_missing(missing: list[str]) -> str | None:
    return next((k for k in missing if k != DocumentKind.GUARANTOR_PAYMENT_VOUCHER), None)


def _post_form(request: HttpRequest, form: forms.Form) -> dict[str, Any] | None:
    if form.is_valid():
        return form.cleaned_data
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return None


@login_required
@require_POST
def claim_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    data = _post_form(request, ClaimUpdateForm(request.POST))
    if data is not None:
        try:
            claim_update(claim=claim, actor=request.user, unpaid_principal=data["unpaid_principal"],
                         unpaid_interest=data["unpaid_interest"] or Decimal("0"), note=data["note"])
            messages.success(request, "已保存")
        except BusinessError as exc:
            _fail(request, exc)
    return redirect("claims-portal:detail", pk=claim.pk)


@login_required
@require_POST
def claim_upload(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    data = _post_form(request, DocumentForm(request.POST, request.FILES))
    if data is not None:
        try:
            document = claim_document_add(claim=claim, kind=data["kind"], file=data["file"], actor=request.user,
                                          name=data["file"].name)
            messages.success(request, f"已上传：{document.get_kind_display()}（{document.original_name}）")
        except BusinessError as exc:
            _fail(request, exc)
    return redirect("claims-portal:detail", pk=claim.pk)


@login_required
@require_POST
def claim_document_delete(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    document = get_object_or_404(claim.documents.all(), pk=document_pk)
    try:
        claim_document_remove(document=document, actor=request.user)
        messages.success(request, f"已删除：{document.original_name}")
    except BusinessError as exc:
        _fail(request, exc)
    return redirect("claims-portal:detail", pk=claim.pk)


@login_required
@require_POST
def claim_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    try:
        claim = claim_submit(claim=claim, actor=request.user,
                             idempotency_key=(request.POST.get("idempotency_key") or None))
        messages.success(request, f"申请 {claim.number} 已提交，审核时限至 {claim.review_due_on:%Y-%m-%d}（R29）")
    except BusinessError as exc:
        _fail(request, exc)
    return redirect("claims-portal:detail", pk=claim.pk)


@login_required
@require_POST
def recovery_new(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    data = _post_form(request, RecoveryForm(request.POST, request.FILES))
    if data is not None:
        try:
            recovery = recovery_record(
                claim=claim, gross_amount=data["gross_amount"], costs=data["costs"] or Decimal("0"),
                recovered_on=data["recovered_on"], evidence=data["evidence"], actor=request.user,
                note=data["note"], name=data["evidence"].name)
            due = f"，应于 {recovery.refund_due_on:%Y-%m-%d} 前返还资金池 {recovery.refund_due:,.2f} 元" \
                if recovery.refund_status == RefundStatus.DUE else "，无需返还"
            messages.success(request, f"已登记追偿收回 {recovery.gross_amount:,.2f} 元{due}")
        except BusinessError as exc:
            _fail(request, exc)
    return redirect("claims-portal:detail", pk=claim.pk)


@login_required
@require_POST
def claim_close_pursuit_view(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    data = _post_form(request, ClosePursuitForm(request.POST))
    if data is not None:
        try:
            claim_close_pursuit(claim=claim, closed_on=data["closed_on"], reason=data["reason"], actor=request.user)
            messages.success(request, "已核销；此后如有收回，仍须按比例返还资金池（R30）")
        except BusinessError as exc:
            _fail(request, exc)
    return redirect("claims-portal:detail", pk=claim.pk)


# --- downloads ---------------------------------------------------------------------------------


@login_required
def document_download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    claim = _claim(request, pk)
    document = get_object_or_404(claim.documents.all(), pk=document_pk)
    return private_file_response(request.user, claim, document.file, document.original_name, document.content_type)


@login_required
def recovery_evidence(request: HttpRequest, pk: int, recovery_pk: int) -> FileResponse:
    claim = _claim(request, pk)
    recovery = get_object_or_404(claim.recoveries.all(), pk=recovery_pk)
    if request.user.guarantor_id and request.user.guarantor_id == claim.loan.guarantor_id \
            and recovery.recorded_by.guarantor_id == request.user.guarantor_id:
        return FileResponse(recovery.evidence.open("rb"), as_attachment=True, filename=recovery.evidence_name,
                            content_type=recovery.evidence_content_type)
    return private_file_response(request.user, claim, recovery.evidence, recovery.evidence_name,
                                 recovery.evidence_content_type)


@login_required
def guarantor_voucher(request: HttpRequest, payment_pk: int) -> FileResponse:
    """The guarantor's voucher: the guarantor itself, the loan's bank, bureau staff."""
    payment = get_object_or_404(GuarantorPayment.objects.select_related("loan"), pk=payment_pk)
    user = request.user
    allowed = (is_bureau_claims_user(user) or (user.guarantor_id and user.guarantor_id == payment.guarantor_id)
               or (user.bank_id and user.bank_id == payment.loan.bank_id))
    if not allowed:
        raise Http404("没有这个文件")
    return FileResponse(payment.voucher.open("rb"), as_attachment=True, filename=payment.voucher_name,
                        content_type=payment.voucher_content_type)


@login_required
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    if not claim.has_decision:
        raise Http404("申请尚未作出决定")
    return HttpResponse(claim_decision_notice(claim), content_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{notice_filename(claim)}"'})


# --- the guarantor's payments (政银担) ------------------------------------------------------------


@login_required
def guarantor_payments(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.guarantor_id:
        raise PermissionDenied("只有担保机构用户可以登记代偿")
    form = GuarantorPaymentForm(request.POST or None, request.FILES or None, guarantor_id=user.guarantor_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = guarantor_payment_record(loan=data["loan"], amount=data["amount"], paid_on=data["paid_on"],
                                               voucher=data["voucher"], actor=user, name=data["voucher"].name)
        except BusinessError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已登记代偿 {payment.amount:,.2f} 元（{payment.loan.contract_no}）")
            return redirect("claims-portal:guarantor_payments")
    payments = GuarantorPayment.objects.filter(guarantor_id=user.guarantor_id).select_related("loan__bank")
    return _render(request, "bank/claims/guarantor_payments.html", {
        "form": form, "payments": payments, "today": timezone.localdate(),
    })
