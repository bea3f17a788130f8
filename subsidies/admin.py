"""Bureau staff's side of the subsidies: review, approve, batch, export, pay; other subsidies;
enterprise portal activation codes.  Every write goes through a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from fund.models import Loan
from registry.errors import BusinessError
from registry.models import DomainEvent, User

from . import services
from .models import (
    ActivationCode,
    BatchStatus,
    BorrowerAccount,
    LoanApplication,
    OtherSubsidy,
    PaymentBatch,
    Subsidy,
    SubsidyDocument,
    SubsidyStatus,
)


class ReadOnlyMixin:
    """Records written only by services: staff look, services change."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _run(modeladmin: admin.ModelAdmin, request: HttpRequest, objects, call, done: str) -> None:
    """Call ``call(obj)`` for each object; report successes and each refusal."""
    ok = 0
    for obj in objects:
        try:
            call(obj)
            ok += 1
        except BusinessError as exc:
            modeladmin.message_user(request, f"{obj}：{exc.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{done} {ok} 笔", messages.SUCCESS)


class RejectForm(forms.Form):
    reason = forms.CharField(label="驳回理由（企业可见）", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class PayForm(forms.Form):
    voucher_reference = forms.CharField(label="国库支付凭证号", max_length=64)
    paid_on = forms.DateField(label="支付日期", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}))


@admin.register(Subsidy)
class SubsidyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "enterprise", "contract", "kind", "amount", "status", "flagged", "settled_on", "batch"]
    list_filter = ["status", "kind", "flagged", "programme"]
    search_fields = ["enterprise__credit_code", "enterprise__name", "loan__contract_no"]
    list_select_related = ["enterprise", "loan", "batch"]
    date_hierarchy = "settled_on"
    actions = ["start_review", "approve", "make_batch"]
    fieldsets = [
        (None, {"fields": ["loan", "enterprise", "kind", "status", "status_reason", "amount", "flagged", "flag_reason",
                           "workflow"]}),
        ("计算过程", {"fields": ["calculation_display", "parameter_set", "reference_rate", "reference_rate_source"]}),
        ("申请", {"fields": ["applied_by", "applied_at", "payee_name", "payee_bank", "payee_account",
                           "documents_display"]}),
        ("审核与支付", {"fields": ["reviewed_by", "reviewed_at", "approved_by", "approved_at", "batch", "paid_by",
                              "paid_at", "paid_on", "payment_reference", "journal_id"]}),
        ("办理记录", {"fields": ["timeline_display"]}),
    ]
    readonly_fields = ["calculation_display", "documents_display", "timeline_display", "workflow"]

    @admin.display(description="贷款", ordering="loan__contract_no")
    def contract(self, obj: Subsidy) -> str:
        return obj.loan.contract_no

    @admin.display(description="计算过程")
    def calculation_display(self, obj: Subsidy) -> str:
        return render_to_string("subsidies/_calculation.html", {"calc": obj.calculation})

    @admin.display(description="申请材料")
    def documents_display(self, obj: Subsidy) -> str:
        docs = obj.documents.all()
        if not docs:
            return "—"
        return format_html_join(
            "", '<div><a href="{}">{}：{}</a>（{} 字节）</div>',
            ((reverse("enterprise:document", args=[d.pk]), d.get_doc_type_display(), d.original_name, d.size)
             for d in docs),
        )

    @admin.display(description="审计事件")
    def timeline_display(self, obj: Subsidy) -> str:
        events = DomainEvent.objects.filter(object_type=Subsidy._meta.label_lower, object_id=str(obj.pk)).select_related(
            "actor").order_by("occurred_at", "id")
        return format_html_join("", "<div>{} · {} · {} {}</div>", (
            (timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M"), e.event_type,
             e.actor.username if e.actor else "系统", e.params.get("reason", "")) for e in events))

    @admin.display(description="操作")
    def workflow(self, obj: Subsidy) -> str:
        if obj.status in (SubsidyStatus.APPLIED, SubsidyStatus.UNDER_REVIEW):
            return format_html('<a class="button" href="{}">驳回…</a>', reverse("admin:subsidies_subsidy_reject",
                                                                          args=[obj.pk]))
        return "—"

    def has_review_permission(self, request):
        return request.user.has_perm("subsidies.handle_subsidy_review")

    def has_approve_permission(self, request):
        return request.user.has_perm("subsidies.approve_subsidy")

    @admin.action(description="开始审核所选补贴（经办）", permissions=["review"])
    def start_review(self, request, queryset):
        _run(self, request, queryset, lambda s: services.subsidy_transition(
            subsidy=s, to=SubsidyStatus.UNDER_REVIEW, actor=request.user), "已开始审核")

    @admin.action(description="核准所选补贴（复核）", permissions=["approve"])
    def approve(self, request, queryset):
        _run(self, request, queryset, lambda s: services.subsidy_transition(
            subsidy=s, to=SubsidyStatus.APPROVED, actor=request.user), "已核准")

    @admin.action(description="将所选已核准补贴编入新的支付批次（经办）", permissions=["review"])
    def make_batch(self, request, queryset):
        by_programme: dict[int, list[Subsidy]] = {}
        for s in queryset.select_related("programme"):
            by_programme.setdefault(s.programme_id, []).append(s)
        for items in by_programme.values():
            try:
                batch = services.payment_batch_create(programme=items[0].programme, actor=request.user, subsidies=items)
            except BusinessError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"已生成支付批次 {batch.reference}，共 {len(items)} 笔", messages.SUCCESS)

    def get_urls(self):
        return [
            path("<int:pk>/reject/", self.admin_site.admin_view(self.reject_view), name="subsidies_subsidy_reject"),
            *super().get_urls(),
        ]

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        subsidy = get_object_or_404(Subsidy, pk=pk)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.REJECTED, actor=request.user,
                                            reason=form.cleaned_data["reason"])
            except BusinessError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, "已驳回，企业将看到驳回理由", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:subsidies_subsidy_change", args=[pk]))
        return TemplateResponse(request, "admin/subsidies/form.html", {
            **self.admin_site.each_context(request), "title": f"驳回补贴：{subsidy}", "form": form, "opts": self.opts,
            "submit": "驳回",
        })


class BatchSubsidyInline(ReadOnlyMixin, admin.TabularInline):
    model = Subsidy
    fields = ["enterprise", "loan", "kind", "amount", "status", "approved_by", "payment_reference"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["reference", "programme", "status", "total", "count", "created_by", "created_at", "paid_on",
                    "voucher_reference"]
    list_filter = ["status", "programme"]
    search_fields = ["reference", "voucher_reference"]
    list_select_related = ["programme", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["links"]
    fields = ["reference", "programme", "status", "total", "links", "created_by", "created_at", "exported_at",
              "voucher_reference", "paid_on", "paid_by", "paid_at"]
    inlines = [BatchSubsidyInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subsidy_count=Count("subsidies"))

    @admin.display(description="笔数", ordering="subsidy_count")
    def count(self, obj: PaymentBatch) -> int:
        return obj.subsidy_count

    @admin.display(description="操作")
    def links(self, obj: PaymentBatch) -> str:
        export = reverse("admin:subsidies_paymentbatch_export", args=[obj.pk])
        if obj.status == BatchStatus.OPEN:
            pay = reverse("admin:subsidies_paymentbatch_pay", args=[obj.pk])
            return format_html('<a class="button" href="{}">导出支付清单(Excel)</a> <a class="button" href="{}">确认已支付…</a>',
                               export, pay)
        return format_html('<a class="button" href="{}">导出支付清单(Excel)</a>', export)

    def get_urls(self):
        return [
            path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="subsidies_paymentbatch_export"),
            path("<int:pk>/pay/", self.admin_site.admin_view(self.pay_view), name="subsidies_paymentbatch_pay"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(PaymentBatch.objects.select_related("programme"), pk=pk)
        try:
            content = services.payment_batch_export(batch=batch, actor=request.user)
        except BusinessError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:subsidies_paymentbatch_change", args=[pk]))
        response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="subsidy-batch-{batch.reference}.xlsx"'
        return response

    def pay_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(PaymentBatch, pk=pk)
        form = PayForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.payment_batch_mark_paid(batch=batch, voucher_reference=form.cleaned_data["voucher_reference"],
                                                 paid_on=form.cleaned_data["paid_on"], actor=request.user)
            except BusinessError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"支付批次 {batch.reference} 已确认支付并记账", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:subsidies_paymentbatch_change", args=[pk]))
        return TemplateResponse(request, "admin/subsidies/form.html", {
            **self.admin_site.each_context(request), "title": f"确认支付：{batch.reference}（合计 {batch.total:,.2f} 元）",
            "form": form, "opts": self.opts, "submit": "确认已支付并记账",
        })


@admin.register(OtherSubsidy)
class OtherSubsidyAdmin(admin.ModelAdmin):
    list_display = ["loan", "kind", "source", "amount", "rate", "recorded_by", "recorded_at"]
    list_filter = ["kind"]
    search_fields = ["loan__contract_no", "loan__enterprise__credit_code", "source"]
    list_select_related = ["loan", "recorded_by"]
    raw_id_fields = ["loan"]
    fields = ["loan", "kind", "source", "amount", "rate", "note"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            saved = services.other_subsidy_record(
                loan=obj.loan, kind=obj.kind, source=obj.source, amount=obj.amount, rate=obj.rate, note=obj.note,
                actor=request.user,
            )
        except BusinessError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk


@admin.register(SubsidyDocument)
class SubsidyDocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["subsidy", "doc_type", "download", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["doc_type"]
    list_select_related = ["subsidy__loan", "uploaded_by"]
    exclude = ["file"]

    @admin.display(description="文件")
    def download(self, obj: SubsidyDocument) -> str:
        return format_html('<a href="{}">{}</a>', reverse("enterprise:document", args=[obj.pk]), obj.original_name)


@admin.register(LoanApplication)
class LoanApplicationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["enterprise", "bank", "programme", "amount", "status", "created_at", "decided_at"]
    list_filter = ["status", "programme", "bank"]
    search_fields = ["enterprise__credit_code", "enterprise__name"]
    list_select_related = ["enterprise", "bank", "programme"]
    date_hierarchy = "created_at"


@admin.register(ActivationCode)
class ActivationCodeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["enterprise", "issued_by", "issued_at", "expires_at", "state_label", "used_at"]
    list_select_related = ["enterprise", "issued_by"]
    search_fields = ["enterprise__credit_code", "enterprise__name"]
    exclude = ["code_hash"]

    @admin.display(description="状态")
    def state_label(self, obj: ActivationCode) -> str:
        return obj.state_label


@admin.register(BorrowerAccount)
class BorrowerAccountAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Registered borrowers and their portal accounts; the action issues one-time activation codes."""

    list_display = ["credit_code", "name", "is_borrower", "has_account"]
    search_fields = ["credit_code", "name"]
    fields = ["credit_code", "name", "region", "is_borrower", "has_account"]
    readonly_fields = ["is_borrower", "has_account"]
    actions = ["issue_codes"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            borrower=Exists(Loan.objects.filter(enterprise=OuterRef("pk"))),
            account=Exists(User.objects.filter(enterprise=OuterRef("pk"), is_active=True)),
        )

    @admin.display(description="有备案贷款", boolean=True, ordering="borrower")
    def is_borrower(self, obj) -> bool:
        return obj.borrower

    @admin.display(description="已开通账户", boolean=True, ordering="account")
    def has_account(self, obj) -> bool:
        return obj.account

    def has_issue_permission(self, request):
        return request.user.has_perm("subsidies.add_activationcode")

    @admin.action(description="签发企业门户激活码（7 天有效，仅显示一次）", permissions=["issue"])
    def issue_codes(self, request, queryset):
        issued, refused = [], []
        for enterprise in queryset:
            try:
                issued.append((enterprise, services.activation_code_issue(enterprise=enterprise, actor=request.user)))
            except BusinessError as exc:
                refused.append((enterprise, exc.message))
        return TemplateResponse(request, "admin/subsidies/activation_codes.html", {
            **self.admin_site.each_context(request), "title": "企业门户激活码", "issued": issued, "refused": refused,
            "opts": self.opts, "activate_url": request.build_absolute_uri(reverse("enterprise:activate")),
        })
