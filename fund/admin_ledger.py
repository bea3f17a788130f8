"""Admin for the ledger: read-only journals (with lines), accounts, pool payments and
reconciliation runs, plus the pool dashboard and the contribution form (bureau staff).

Registered from fund/admin.py; the dashboard and form hang off the Programme admin's URLs.
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from fund.forms import ContributionForm
from fund.models import Account, Journal, JournalLine, PoolPayment, Programme, ReconciliationRun
from fund.models.ledger import DEBIT_NORMAL
from fund.selectors import (
    contributions_by_partner,
    leverage_by_bank,
    leverage_overall,
    loan_risk,
    pool_summary,
    subsidy_budget_balance,
)
from fund.selectors.ledger import sum_side
from fund.selectors.suspension import NO_LOANS, programme_stops, suspended_partnerships
from fund.services import contribution_record, interest_credit, ledger_reconcile, subsidy_budget_fund
from registry.errors import BusinessError
from registry.models import Bank, Guarantor


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    fields = ["account", "side", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin):
    list_display = ["id", "posted_on", "kind", "programme", "total", "reference", "reverses", "reversal_link",
                    "actor"]
    list_filter = ["programme", "kind"]
    search_fields = ["reference", "memo", "idempotency_key"]
    date_hierarchy = "posted_on"
    list_select_related = ["programme", "actor", "reverses", "reversed_by"]
    inlines = [JournalLineInline]
    fields = ["programme", "kind", "posted_on", "reference", "memo", "reverses", "reversal_link", "actor",
              "created_at", "idempotency_key"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_total=sum_side("D", "lines__"))

    @admin.display(description=_("金额(元)"), ordering="_total")
    def total(self, obj: Journal):
        return f"{obj._total:,.2f}" if hasattr(obj, "_total") else "-"

    @admin.display(description=_("冲销凭证"))
    def reversal_link(self, obj: Journal):
        reversal = getattr(obj, "reversed_by", None)
        if reversal is None:
            return "-"
        url = reverse("admin:fund_journal_change", args=[reversal.pk])
        return format_html('<a href="{}">凭证#{}</a>', url, reversal.pk)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "programme", "kind", "debit", "credit", "balance"]
    list_filter = ["programme", "kind"]
    list_select_related = ["programme", "bank", "guarantor"]
    fields = ["programme", "kind", "bank", "guarantor", "opened_at", "debit", "credit", "balance"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _debit=sum_side("D", "lines__"), _credit=sum_side("C", "lines__")
        )

    @admin.display(description=_("借方合计"), ordering="_debit")
    def debit(self, obj: Account):
        return f"{obj._debit:,.2f}"

    @admin.display(description=_("贷方合计"), ordering="_credit")
    def credit(self, obj: Account):
        return f"{obj._credit:,.2f}"

    @admin.display(description=_("余额(元)"))
    def balance(self, obj: Account):
        value = obj._debit - obj._credit if obj.kind in DEBIT_NORMAL else obj._credit - obj._debit
        return f"{value:,.2f}"


@admin.register(PoolPayment)
class PoolPaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "requested_on", "programme", "reference", "requested_amount", "paid_amount",
                    "unpaid_amount", "journal", "actor"]
    list_filter = ["programme"]
    search_fields = ["reference", "idempotency_key"]
    date_hierarchy = "requested_on"
    list_select_related = ["programme", "journal", "actor"]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "as_of", "ok", "mismatch_count", "warning_count", "journals_checked",
                    "accounts_checked", "triggered_by"]
    list_filter = ["ok", "triggered_by"]
    fields = ["started_at", "as_of", "triggered_by", "ok", "mismatch_count", "warning_count", "journals_checked",
              "accounts_checked", "findings_list"]
    readonly_fields = fields
    change_list_template = "admin/fund/reconciliationrun/change_list.html"

    @admin.display(description=_("核对结果"))
    def findings_list(self, obj: ReconciliationRun):
        if not obj.findings:
            return "账实相符，无不符项"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>[{}] {}</li>", (
                ("不符" if f.get("severity") == "error" else "提示", f.get("message", "")) for f in obj.findings
            )),
        )

    def get_urls(self):
        from django.urls import path

        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="fund_reconciliationrun_run"),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        limit = ReconciliationRun._meta.get_field("triggered_by").max_length  # a long username overflowed it
        run = ledger_reconcile(triggered_by=f"admin:{request.user.username}"[:limit])
        level = messages.SUCCESS if run.ok else messages.ERROR
        self.message_user(request, f"对账完成：不符 {run.mismatch_count} 项，提示 {run.warning_count} 项", level)
        return redirect("admin:fund_reconciliationrun_change", run.pk)


# --- pages hung off the Programme admin ----------------------------------------------


def _as_of(request: HttpRequest) -> date:
    try:
        return date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        return timezone.localdate()


def pool_dashboard_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """资金池看板: balance, contributions by partner, leverage per bank, suspended banks and why."""
    if not request.user.has_perm("fund.view_journal"):
        raise PermissionDenied
    programme = get_object_or_404(Programme, pk=pk)
    as_of = _as_of(request)
    overall_risk, risk_by_bank = loan_risk(programme=programme, as_of=as_of)
    try:
        overall = leverage_overall(programme=programme, as_of=as_of)
        banks = leverage_by_bank(programme=programme, as_of=as_of)
        stops = programme_stops(programme=programme, on=as_of)
    except BusinessError as exc:  # no parameter set in force yet
        model_admin.message_user(request, exc.message, messages.ERROR)
        overall, banks, stops = None, [], []
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{programme.name} · 资金池看板",
        "opts": Programme._meta,
        "programme": programme,
        "as_of": as_of,
        "pool": pool_summary(programme=programme, as_of=as_of),
        "subsidy_budget": subsidy_budget_balance(programme=programme, as_of=as_of),
        "contributions": contributions_by_partner(programme=programme, as_of=as_of),
        "overall": overall,
        "banks": [(item, risk_by_bank.get(item.partnership.bank_id, NO_LOANS)) for item in banks],
        "overall_risk": overall_risk,
        "suspended": suspended_partnerships(programme=programme),
        "stops": stops,
        "last_run": ReconciliationRun.objects.first(),
        "can_record": request.user.has_perm("fund.handle_contribution"),
    }
    return TemplateResponse(request, "admin/fund/pool_dashboard.html", context)


def contribution_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """A small staff form that records money received through the ledger services."""
    if not request.user.has_perm("fund.handle_contribution"):
        raise PermissionDenied
    programme = get_object_or_404(Programme, pk=pk)
    form = ContributionForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        try:
            journal = _record(programme=programme, data=form.cleaned_data, actor=request.user)
        except BusinessError as exc:
            model_admin.message_user(request, exc.message, messages.ERROR)
        else:
            model_admin.message_user(request, f"已记账：凭证#{journal.pk}", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:fund_programme_dashboard", args=[programme.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{programme.name} · 登记资金到账",
        "opts": Programme._meta,
        "programme": programme,
        "form": form,
    }
    return TemplateResponse(request, "admin/fund/contribution_form.html", context)


def _record(*, programme: Programme, data: dict, actor) -> Journal:
    common = {"programme": programme, "amount": data["amount"], "on": data["on"],
              "idempotency_key": data["idempotency_key"], "actor": actor, "memo": data["memo"]}
    if data["entry"] == "interest":
        return interest_credit(**common)
    if data["entry"] == "subsidy_budget":
        return subsidy_budget_fund(**common)
    kind, _, ident = data["payer"].partition(":")
    if kind == "bank":
        return contribution_record(payer_kind="bank", bank=get_object_or_404(Bank, pk=ident), **common)
    if kind == "guarantor":
        return contribution_record(payer_kind="guarantor", guarantor=get_object_or_404(Guarantor, pk=ident),
                                   **common)
    return contribution_record(payer_kind="treasury", **common)


def programme_urls(model_admin: admin.ModelAdmin) -> list:
    from django.urls import path

    def wrap(view):
        return model_admin.admin_site.admin_view(lambda request, pk: view(model_admin, request, pk))

    return [
        path("<int:pk>/dashboard/", wrap(pool_dashboard_view), name="fund_programme_dashboard"),
        path("<int:pk>/contribution/", wrap(contribution_view), name="fund_programme_contribution"),
    ]


def dashboard_link(obj: Programme) -> str:
    return format_html('<a href="{}">资金池看板</a>', reverse("admin:fund_programme_dashboard", args=[obj.pk]))

