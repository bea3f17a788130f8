"""Admin for compensation claims, recoveries and guarantor payments (bureau staff).

Claims are read-only here: every decision is an admin action calling the claim services
(start review, approve, return, reject, pay), with the comment typed next to the action menu.
Refusals (wrong role, maker-checker, empty pool…) come back as ERROR messages.
Registered by ``fund/admin.py`` importing this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from fund.models import Claim, GuarantorPayment, Recovery, RefundStatus
from fund.models.claims import REVIEW_STATUSES
from fund.services.claims import claim_approve, claim_pay, claim_reject, claim_return, claim_start_review
from fund.services.recoveries import recovery_mark_refund_received
from registry.errors import BusinessError


class ClaimActionForm(ActionForm):
    comment = forms.CharField(label="意见/理由", required=False, widget=forms.TextInput(attrs={"size": 40}),
                              help_text="退回补正、驳回时必填")


class RecoveryActionForm(ActionForm):
    received_on = forms.DateField(label="到账日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text="留空为今天")


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = "审核超时（R29）"
    parameter_name = "review_overdue"

    def lookups(self, request, model_admin):
        return [("yes", "已超时"), ("no", "未超时")]

    def queryset(self, request, queryset):
        overdue = {"status__in": REVIEW_STATUSES, "review_due_on__lt": timezone.localdate()}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


class RefundOverdueFilter(admin.SimpleListFilter):
    title = "返还逾期（R30）"
    parameter_name = "refund_overdue"

    def lookups(self, request, model_admin):
        return [("yes", "已逾期"), ("no", "未逾期")]

    def queryset(self, request, queryset):
        overdue = {"refund_status": RefundStatus.DUE, "refund_due_on__lt": timezone.localdate()}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


def _run_each(model_admin: admin.ModelAdmin, request: HttpRequest, objects: QuerySet, verb: str,
              call: Callable[[object], object]) -> None:
    done = 0
    for obj in objects.order_by("pk"):
        try:
            call(obj)
            done += 1
        except BusinessError as exc:
            model_admin.message_user(request, f"{obj}：{exc.message}", messages.ERROR)
    if done:
        model_admin.message_user(request, f"已{verb} {done} 件", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    action_form = ClaimActionForm
    list_display = ["number", "contract_no", "bank", "mode", "status", "unpaid_principal", "claim_amount",
                    "paid_amount", "submitted_at", "review_due_on", "review_overdue_flag"]
    list_filter = ["status", "loan__mode", "loan__bank", ReviewOverdueFilter, "programme"]
    search_fields = ["loan__contract_no", "loan__enterprise_name", "loan__enterprise__credit_code"]
    list_select_related = ["loan__bank", "programme"]
    date_hierarchy = "claim_date"
    actions = ["start_review", "approve", "return_for_correction", "reject", "pay"]
    fieldsets = [
        ("申请", {"fields": ["number", "programme", "loan_link", "status", "claim_date", "unpaid_principal",
                             "unpaid_interest", "note", "return_comment", "rejection_reason"]}),
        ("补偿金额计算（R26）", {"fields": ["calculation_display"]}),
        ("材料（R25）", {"fields": ["documents_display"]}),
        ("办理", {"fields": ["created_by", "submitted_by", "submitted_at", "review_due_on", "reviewed_by",
                             "review_started_at", "approved_by", "approved_at", "paid_by", "paid_at", "paid_on",
                             "paid_amount", "unpaid_by_pool", "pool_payment", "rejected_by", "rejected_at",
                             "history_display"]}),
        ("追偿（R30）", {"fields": ["pursuit_closed_on", "pursuit_closed_reason", "recoveries_display"]}),
    ]
    readonly_fields = [f for _, opts in fieldsets for f in opts["fields"]]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("loan__bank", "loan__enterprise", "programme")

    # --- columns --------------------------------------------------------------------------------

    @admin.display(description="编号", ordering="pk")
    def number(self, obj: Claim) -> str:
        return obj.number

    @admin.display(description="借款合同", ordering="loan__contract_no")
    def contract_no(self, obj: Claim) -> str:
        return obj.loan.contract_no

    @admin.display(description="银行", ordering="loan__bank__code")
    def bank(self, obj: Claim) -> str:
        return obj.loan.bank.short_name

    @admin.display(description="模式", ordering="loan__mode")
    def mode(self, obj: Claim) -> str:
        return obj.loan.get_mode_display()

    @admin.display(description="审核超时", boolean=True)
    def review_overdue_flag(self, obj: Claim) -> bool:
        return obj.review_overdue

    @admin.display(description="贷款")
    def loan_link(self, obj: Claim) -> str:
        url = reverse("admin:fund_loan_change", args=[obj.loan_id])
        return format_html('<a href="{}">{}</a> · {} · {}', url, obj.loan.contract_no, obj.loan.enterprise_name,
                           obj.loan.get_mode_display())

    @admin.display(description="计算过程")
    def calculation_display(self, obj: Claim) -> str:
        return render_to_string("bank/claims/_calculation.html", {"calc": obj.calculation, "claim": obj})

    @admin.display(description="申请材料")
    def documents_display(self, obj: Claim) -> str:
        rows = format_html_join(
            "", '<li>{}：<a href="{}">{}</a>（{} 字节）</li>',
            ((d.get_kind_display(), reverse("claims-portal:document", args=[obj.pk, d.pk]), d.original_name, d.size)
             for d in obj.documents.all()),
        )
        payments = format_html_join(
            "", '<li>担保机构代偿 {} 元（{}）：<a href="{}">{}</a></li>',
            ((p.amount, p.paid_on, reverse("claims-portal:guarantor_voucher", args=[p.pk]), p.voucher_name)
             for p in GuarantorPayment.objects.filter(loan_id=obj.loan_id)),
        )
        return format_html("<ul>{}{}</ul>", rows, payments) if (rows or payments) else "—"

    @admin.display(description="办理记录")
    def history_display(self, obj: Claim) -> str:
        rows = format_html_join(
            "", "<li>{} {} → {} · {} {}</li>",
            ((timezone.localtime(c.changed_at).strftime("%Y-%m-%d %H:%M"), c.get_from_status_display(),
              c.get_to_status_display(), c.actor.username, c.comment) for c in obj.status_changes.select_related("actor")),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

    @admin.display(description="追偿收回")
    def recoveries_display(self, obj: Claim) -> str:
        rows = format_html_join(
            "", '<li><a href="{}">{} 收回 {} 元，应返还 {} 元（{}）</a></li>',
            ((reverse("admin:fund_recovery_change", args=[r.pk]), r.recovered_on, r.gross_amount, r.refund_due,
              r.get_refund_status_display()) for r in obj.recoveries.all()),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

    # --- actions: each calls one service ---------------------------------------------------------

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("fund.handle_claim_review")

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("fund.approve_claim")

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return self.has_review_permission(request) or self.has_approve_permission(request)

    def has_pay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("fund.pay_claim")

    @staticmethod
    def _comment(request: HttpRequest) -> str:
        return (request.POST.get("comment") or "").strip()

    @admin.action(description="开始审核（经办）", permissions=["review"])
    def start_review(self, request, queryset):
        _run_each(self, request, queryset, "开始审核", lambda c: claim_start_review(
            claim=c, actor=request.user, comment=self._comment(request)))

    @admin.action(description="批准（复核）", permissions=["approve"])
    def approve(self, request, queryset):
        _run_each(self, request, queryset, "批准", lambda c: claim_approve(
            claim=c, actor=request.user, comment=self._comment(request)))

    @admin.action(description="退回补正（须填意见）", permissions=["decide"])
    def return_for_correction(self, request, queryset):
        _run_each(self, request, queryset, "退回", lambda c: claim_return(
            claim=c, actor=request.user, comment=self._comment(request)))

    @admin.action(description="驳回（须填理由）", permissions=["decide"])
    def reject(self, request, queryset):
        _run_each(self, request, queryset, "驳回", lambda c: claim_reject(
            claim=c, actor=request.user, reason=self._comment(request)))

    @admin.action(description="支付（经资金池总账）", permissions=["pay"])
    def pay(self, request, queryset):
        _run_each(self, request, queryset, "支付", lambda c: claim_pay(claim=c, actor=request.user))


@admin.register(Recovery)
class RecoveryAdmin(ReadOnlyAdmin):
    action_form = RecoveryActionForm
    list_display = ["claim", "bank", "recovered_on", "gross_amount", "costs", "net_amount", "refund_due",
                    "refund_due_on", "refund_status", "refund_overdue_flag", "refund_received_on"]
    list_filter = ["refund_status", RefundOverdueFilter, "claim__loan__bank", "claim__loan__mode"]
    search_fields = ["claim__loan__contract_no", "claim__loan__enterprise_name"]
    list_select_related = ["claim__loan__bank"]
    date_hierarchy = "recovered_on"
    actions = ["mark_received"]
    readonly_fields = ["claim", "recovered_on", "gross_amount", "costs", "net_amount", "refund_due", "refund_due_on",
                       "refund_status", "refund_received_on", "refund_journal", "received_by", "calculation",
                       "evidence_link", "note", "recorded_by", "recorded_at"]
    fields = readonly_fields

    @admin.display(description="银行")
    def bank(self, obj: Recovery) -> str:
        return obj.claim.loan.bank.short_name

    @admin.display(description="返还逾期", boolean=True)
    def refund_overdue_flag(self, obj: Recovery) -> bool:
        return obj.refund_overdue

    @admin.display(description="追偿凭证")
    def evidence_link(self, obj: Recovery) -> str:
        url = reverse("claims-portal:recovery_evidence", args=[obj.claim_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.evidence_name)

    def has_receive_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("fund.handle_recovery_refund")

    @admin.action(description="确认返还款到账（记入资金池）", permissions=["receive"])
    def mark_received(self, request, queryset):
        received_on = _date(request.POST.get("received_on")) or timezone.localdate()
        _run_each(self, request, queryset, "确认到账", lambda r: recovery_mark_refund_received(
            recovery=r, received_on=received_on, actor=request.user))


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@admin.register(GuarantorPayment)
class GuarantorPaymentAdmin(ReadOnlyAdmin):
    list_display = ["loan", "guarantor", "amount", "paid_on", "voucher_link", "recorded_by", "recorded_at"]
    list_filter = ["guarantor"]
    search_fields = ["loan__contract_no", "loan__enterprise_name"]
    list_select_related = ["loan__bank", "guarantor", "recorded_by"]
    readonly_fields = ["loan", "guarantor", "amount", "paid_on", "voucher_link", "recorded_by", "recorded_at"]
    fields = readonly_fields

    @admin.display(description="代偿凭证")
    def voucher_link(self, obj: GuarantorPayment) -> str:
        return format_html('<a href="{}">{}</a>', reverse("claims-portal:guarantor_voucher", args=[obj.pk]),
                           obj.voucher_name)
