"""Staff side of the statistics: snapshots (build, publish, exports), the dashboard, data quality
(R42) and the drill-down list of loans behind a figure.  Views only translate input and call
selectors or one service.
"""

from __future__ import annotations

import hashlib
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from fund.models import LoanMode, Programme
from registry.errors import BusinessError
from registry.models import Bank, IndustryDivision, IndustrySection, Region

from . import charts, labels, pdf, xlsx
from .display import display
from .models import Dashboard, DataQuality, LoanDrilldown, Snapshot, SnapshotStatus
from .selectors.quality import bank_quality
from .selectors.snapshots import latest_published, snapshot_rows
from .selectors.stats import DIMENSIONS, Filters, indicators
from .services import serialize_rows, snapshot_discard, snapshot_publish
from .tasks import build_snapshot
from .views import svg_response

DIMENSION_TITLES = {
    "overall": "总体", "region": "按市(州)", "section": "按行业门类", "division": "按行业大类", "bank": "按合作银行",
    "mode": "按担保模式", "month": "按签约月份", "size": "按企业规模",
}
# Drill-down: the LoanDrilldown changelist's filter for each dimension's key.
DRILL_PARAMS = {
    "region": "enterprise__region__code__exact",
    "section": "enterprise__industry__section__code__exact",
    "division": "enterprise__industry__code__exact",
    "bank": "bank__id__exact",
    "mode": "mode__exact",
    "size": "enterprise__size_class__exact",
}


def _programmes() -> QuerySet[Programme]:
    return Programme.objects.order_by("code")


class DashboardForm(forms.Form):
    programme = forms.ModelChoiceField(label="项目", queryset=Programme.objects.none(), required=False)
    as_of = forms.DateField(label="统计截止日", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.ChoiceField(label="市(州)", required=False)
    section = forms.ChoiceField(label="行业门类", required=False)
    division = forms.ChoiceField(label="行业大类", required=False)
    bank = forms.ChoiceField(label="合作银行", required=False)
    mode = forms.ChoiceField(label="担保模式", required=False, choices=[("", "全部"), *LoanMode.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = _programmes()
        self.fields["region"].choices = [("", "全部"), *Region.objects.values_list("code", "name")]
        self.fields["section"].choices = [("", "全部"), *[(c, f"{c} {n}") for c, n in
                                                          IndustrySection.objects.values_list("code", "name")]]
        self.fields["division"].choices = [("", "全部"), *[(c, f"{c} {n}") for c, n in IndustryDivision.objects
                                                           .filter(is_service=True).values_list("code", "name")]]
        self.fields["bank"].choices = [("", "全部"), *[(str(i), n) for i, n in Bank.objects.values_list("id", "name")]]


def _dashboard_params(request: HttpRequest, default_as_of: date | None = None):
    form = DashboardForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    programme = data.get("programme") or _programmes().first()
    as_of = data.get("as_of") or default_as_of
    if as_of is None:
        latest = latest_published(programme_code=programme.code) if programme else None
        as_of = latest.as_of if latest else timezone.localdate()
    if not form.is_bound:
        form = DashboardForm(initial={"programme": programme, "as_of": as_of})
    filters = Filters(region=data.get("region") or "", section=data.get("section") or "",
                      division=data.get("division") or "", bank_id=int(data["bank"]) if data.get("bank") else None,
                      mode=data.get("mode") or "")
    return form, programme, as_of, filters


def _cached_rows(programme: Programme, as_of: date, filters: Filters) -> dict[str, list[dict]]:
    """Live indicators (serialized), cached briefly so the page and its charts compute them once."""
    key = "reporting:dash:" + hashlib.sha256(
        repr((programme.pk, as_of.isoformat(), sorted(filters.as_params().items()))).encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        figures = indicators(programme=programme, as_of=as_of, filters=filters)
        rows = {dim: serialize_rows(figures.rows(dim)) for dim in DIMENSIONS}
        cache.set(key, rows, 120)
    return rows


def _drill_url(programme: Programme, as_of: date, filters: Filters, dimension: str | None = None,
               key: str | None = None) -> str:
    params = {"programme__id__exact": programme.pk, "signed_on__lte": as_of.isoformat()}
    for name, value in filters.as_params().items():
        if name == "bank":
            params["bank__id__exact"] = value
        else:
            params[DRILL_PARAMS[name]] = value
    if dimension == "month" and key:
        year, month = key.split("-")
        params["signed_on__year"], params["signed_on__month"] = int(year), int(month)
    elif dimension == "bank" and key:
        params["bank__id__exact"] = Bank.objects.filter(code=key).values_list("pk", flat=True).first() or 0
    elif dimension in DRILL_PARAMS and key:
        params[DRILL_PARAMS[dimension]] = key
    return reverse("admin:reporting_loandrilldown_changelist") + "?" + urlencode(params)


def _table(dimension: str, rows: list[dict], drill=None) -> dict:
    columns = labels.columns_for(dimension)
    return {
        "dimension": dimension,
        "title": DIMENSION_TITLES[dimension],
        "headers": [labels.SHORT_LABELS.get(c, labels.label(c)) for c in columns],
        "rows": [{"name": r["name"], "cells": [display(c, r["metrics"].get(c)) for c in columns],
                  "drill": drill(dimension, r["key"]) if drill else None} for r in rows],
    }


def _chart_cells(rows: list[dict]) -> list[dict]:
    return [{"name": r["name"], "principal": r["metrics"]["principal"], "borrowers": r["metrics"]["borrowers"],
             "suppressed": False, "loans": r["metrics"]["loans"]} for r in rows if r["metrics"]["loans"]]


def staff_chart(name: str, rows: dict[str, list[dict]]) -> bytes:
    from .views import chart_for_document

    overall = rows["overall"][0]["metrics"]
    if name == "bank":
        banks = [r for r in rows["bank"] if r["metrics"].get("leverage") is not None]
        return charts.grouped_bar(
            title="各银行放大倍数", labels=[r["name"] for r in banks], unit="倍",
            series={"实际": [float(r["metrics"]["leverage"]) for r in banks],
                    "目标": [float(r["metrics"]["leverage_target"] or 0) for r in banks]},
        )
    doc = {"by_region": _chart_cells(rows["region"]), "by_industry": _chart_cells(rows["division"]),
           "by_month": _chart_cells(rows["month"]), "leverage": overall.get("leverage"),
           "leverage_target": overall.get("leverage_target"),
           "leverage_expected_multiple": overall.get("leverage_expected_multiple")}
    return chart_for_document(name, doc)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """统计看板: every indicator live, with filters, charts and drill-down."""

    def get_urls(self):
        return [
            path("chart/<slug:name>.svg", self.admin_site.admin_view(self.chart_view), name="reporting_dashboard_chart"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return self.dashboard(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        snapshot = get_object_or_404(Snapshot, pk=object_id)
        return self.dashboard(request, default_as_of=snapshot.as_of)

    def dashboard(self, request: HttpRequest, default_as_of: date | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        form, programme, as_of, filters = _dashboard_params(request, default_as_of)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "统计看板",
                   "form": form, "programme": programme, "as_of": as_of}
        if programme is not None:
            rows = _cached_rows(programme, as_of, filters)
            query = request.GET.urlencode()

            def drill(dimension, key):
                return _drill_url(programme, as_of, filters, dimension, key)

            overall = rows["overall"][0]["metrics"]
            context.update(
                headline=[(labels.label(k), display(k, v, money_in_wan=False)) for k, v in overall.items()
                          if k in labels.METRICS],
                tables=[_table(d, rows[d], drill) for d in DIMENSIONS if d != "overall"],
                all_loans_url=_drill_url(programme, as_of, filters),
                chart_urls={name: reverse("admin:reporting_dashboard_chart", args=[name]) + "?" + query
                            for name in ("region", "industry", "month", "bank", "leverage")},
                latest=latest_published(programme_code=programme.code),
                filtered=not filters.is_empty,
            )
        return TemplateResponse(request, "reporting/admin/dashboard.html", context)

    def chart_view(self, request: HttpRequest, name: str) -> HttpResponse:
        if not self.has_view_permission(request) or name not in ("region", "industry", "month", "bank", "leverage"):
            raise Http404
        _form, programme, as_of, filters = _dashboard_params(request)
        if programme is None:
            raise Http404
        return svg_response(staff_chart(name, _cached_rows(programme, as_of, filters)), public=False)


@admin.register(DataQuality)
class DataQualityAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """R42: each bank's reporting quality by month, beside its leverage and overdue rate."""

    def changelist_view(self, request, extra_context=None):
        return self.quality(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self.quality(request)

    def quality(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        form, programme, as_of, _filters = _dashboard_params(request)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "银行报送质量",
                   "form": form, "programme": programme, "as_of": as_of, "banks": []}
        if programme is not None:
            rows = _cached_rows(programme, as_of, Filters())
            overdue = {r["key"]: r["metrics"]["overdue_rate"] for r in rows["bank"]}
            context["banks"] = bank_quality(programme=programme, as_of=as_of, overdue_rates=overdue)
        return TemplateResponse(request, "reporting/admin/quality.html", context)


class BuildForm(forms.Form):
    programme = forms.ModelChoiceField(label="项目", queryset=Programme.objects.none())
    as_of = forms.DateField(label="统计截止日", widget=forms.DateInput(attrs={"type": "date"}))
    publish = forms.BooleanField(label="生成后立即发布（需“发布统计快照”权限）", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = _programmes()


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["id", "programme", "as_of", "status", "source", "created_at", "published_at", "build_ms",
                    "downloads"]
    list_filter = ["programme", "status"]
    list_select_related = ["programme"]
    date_hierarchy = "as_of"
    readonly_fields = ["programme", "as_of", "status", "source", "created_at", "created_by", "build_ms",
                       "published_at", "published_by", "suppression_min"]
    exclude = ["public_json"]
    actions = ["publish_selected", "discard_drafts"]
    change_form_template = "reporting/admin/snapshot_change.html"
    change_list_template = "reporting/admin/snapshot_changelist.html"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("reporting.approve_snapshot")

    def has_build_permission(self, request) -> bool:
        return request.user.has_perm("reporting.add_snapshot")

    @admin.display(description="导出")
    def downloads(self, obj: Snapshot) -> str:
        return format_html('<a href="{}">PDF</a> · <a href="{}">Excel</a>',
                           reverse("admin:reporting_snapshot_pdf", args=[obj.pk]),
                           reverse("admin:reporting_snapshot_xlsx", args=[obj.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("build/", view(self.build_view), name="reporting_snapshot_build"),
            path("<int:pk>/report.pdf", view(self.pdf_view), name="reporting_snapshot_pdf"),
            path("<int:pk>/report.xlsx", view(self.xlsx_view), name="reporting_snapshot_xlsx"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_build": self.has_build_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        snapshot = get_object_or_404(Snapshot, pk=object_id)
        rows = snapshot_rows(snapshot)
        tables = [_table(d, rows.get(d, [])) for d in DIMENSIONS if d != "overall"]
        overall = rows.get("overall", [{}])[0].get("metrics", {})
        extra = {
            "headline": [(labels.label(k), display(k, v, money_in_wan=False)) for k, v in overall.items()
                         if k in labels.METRICS],
            "tables": tables,
            "pdf_url": reverse("admin:reporting_snapshot_pdf", args=[snapshot.pk]),
            "xlsx_url": reverse("admin:reporting_snapshot_xlsx", args=[snapshot.pk]),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def build_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_build_permission(request):
            raise Http404
        form = BuildForm(request.POST or None, initial={"as_of": timezone.localdate(),
                                                        "programme": _programmes().first()})
        if request.method == "POST" and form.is_valid():
            publish = form.cleaned_data["publish"]
            if publish and not self.has_approve_permission(request):
                messages.error(request, "您没有发布统计快照的权限，请只生成草稿")
            else:
                try:
                    result = build_snapshot.delay(form.cleaned_data["programme"].pk,
                                                  form.cleaned_data["as_of"].isoformat(), publish, request.user.pk)
                except BusinessError as exc:
                    messages.error(request, exc.message)
                else:
                    if result.ready():
                        messages.success(request, f"已生成统计快照 #{result.get()['snapshot_id']}")
                    else:
                        messages.success(request, "已提交生成统计快照的任务，稍后刷新列表查看")
                    return HttpResponseRedirect(reverse("admin:reporting_snapshot_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "生成统计快照",
                   "form": form}
        return TemplateResponse(request, "reporting/admin/snapshot_build.html", context)

    def _snapshot_for_export(self, request, pk: int) -> Snapshot:
        if not self.has_view_permission(request):
            raise Http404
        return get_object_or_404(Snapshot.objects.select_related("programme"), pk=pk)

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        snapshot = self._snapshot_for_export(request, pk)
        response = HttpResponse(pdf.snapshot_pdf(snapshot), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="statistics-{snapshot.as_of:%Y%m%d}-{pk}.pdf"'
        return response

    def xlsx_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        snapshot = self._snapshot_for_export(request, pk)
        response = HttpResponse(
            xlsx.snapshot_workbook(snapshot),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="statistics-{snapshot.as_of:%Y%m%d}-{pk}.xlsx"'
        return response

    @admin.action(description="发布所选草稿快照（发布后不可更改）", permissions=["approve"])
    def publish_selected(self, request, queryset):
        done = 0
        for snapshot in queryset.filter(status=SnapshotStatus.DRAFT).order_by("pk"):
            try:
                snapshot_publish(snapshot=snapshot, actor=request.user)
                done += 1
            except BusinessError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, f"已发布 {done} 个快照", messages.SUCCESS)

    @admin.action(description="删除所选草稿快照", permissions=["build"])
    def discard_drafts(self, request, queryset):
        done = 0
        for snapshot in queryset.order_by("pk"):
            try:
                snapshot_discard(snapshot=snapshot, actor=request.user)
                done += 1
            except BusinessError as exc:
                self.message_user(request, f"#{snapshot.pk}：{exc.message}", messages.ERROR)
        self.message_user(request, f"已删除 {done} 个草稿快照", messages.SUCCESS)


@admin.register(LoanDrilldown)
class LoanDrilldownAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The loans behind a figure (read only; each links to the register's own page)."""

    list_display = ["contract", "bank", "enterprise_name", "region", "industry", "mode", "principal", "annual_rate",
                    "signed_on", "outstanding_principal", "status", "classification"]
    list_filter = ["programme", "bank", "mode", "status", "classification", "enterprise__region",
                   "enterprise__industry__section", "enterprise__industry", "enterprise__size_class",
                   "enterprise__is_private"]
    search_fields = ["contract_no", "enterprise__credit_code", "enterprise_name"]
    date_hierarchy = "signed_on"
    list_select_related = ["bank", "enterprise__region", "enterprise__industry"]
    list_per_page = 50

    @admin.display(description="借款合同编号", ordering="contract_no")
    def contract(self, obj) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:fund_loan_change", args=[obj.pk]), obj.contract_no)

    @admin.display(description="市(州)", ordering="enterprise__region")
    def region(self, obj) -> str:
        return obj.enterprise.region.name

    @admin.display(description="行业", ordering="enterprise__industry")
    def industry(self, obj) -> str:
        return str(obj.enterprise.industry)
