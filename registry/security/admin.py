"""Admin pieces: the legal-representative PII form/admin mixins and the audit-chain anchors.

``registry/admin.py`` uses ``LegalRepFormMixin`` on the Enterprise form and
``LegalRepAdminMixin`` on the Enterprise admin:

- the ID number and phone are write-only inputs (never rendered back), stored encrypted;
- the change page shows them masked (read-only fields);
- a holder of ``registry.view_pii`` may open "查看明文", a POST that writes an audit event.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from registry.models import AuditChainAnchor

from . import pii
from .services import PII_PERMISSION, enterprise_pii_reveal

SENSITIVE_FIELDS = ("legal_rep_id", "legal_rep_phone")


class LegalRepFormMixin(forms.Form):
    """Write-only inputs for the legal representative's ID number and phone."""

    legal_rep_id = forms.CharField(
        label="法定代表人身份证号", required=False, max_length=25,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="加密保存，页面只显示脱敏值；留空则不修改。",
    )
    legal_rep_phone = forms.CharField(
        label="法定代表人手机号", required=False, max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="加密保存，页面只显示脱敏值；留空则不修改。",
    )
    clear_legal_rep_pii = forms.BooleanField(label="清除已登记的身份证号和手机号", required=False)

    def clean_legal_rep_id(self) -> str:
        value = self.cleaned_data.get("legal_rep_id", "").strip()
        try:
            return pii.normalize_id_number(value) if value else ""
        except pii.PIIError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_legal_rep_phone(self) -> str:
        value = self.cleaned_data.get("legal_rep_phone", "").strip()
        try:
            return pii.normalize_phone(value) if value else ""
        except pii.PIIError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if cleaned.get("clear_legal_rep_pii"):
            instance.set_legal_rep_id("")
            instance.set_legal_rep_phone("")
        if cleaned.get("legal_rep_id"):
            instance.set_legal_rep_id(cleaned["legal_rep_id"])
        if cleaned.get("legal_rep_phone"):
            instance.set_legal_rep_phone(cleaned["legal_rep_phone"])
        return cleaned


class LegalRepAdminMixin:
    """Masked read-only display, a reveal page for ``registry.view_pii``, sensitive POST params."""

    pii_readonly_fields = ("legal_rep_id_display", "legal_rep_phone_display")

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.pii_readonly_fields]

    def _reveal_link(self, obj) -> str:
        info = (obj._meta.app_label, obj._meta.model_name)
        return reverse("admin:{}_{}_reveal_pii".format(*info), args=[obj.pk])

    @admin.display(description="法定代表人身份证号(脱敏)")
    def legal_rep_id_display(self, obj) -> str:
        if not obj or not obj.pk:
            return "—"
        masked = obj.legal_rep_id_masked or "—"
        if obj.legal_rep_id_encrypted or obj.legal_rep_phone_encrypted:
            return format_html('{} <a href="{}">查看明文</a>', masked, self._reveal_link(obj))
        return masked

    @admin.display(description="法定代表人手机号(脱敏)")
    def legal_rep_phone_display(self, obj) -> str:
        return (obj.legal_rep_phone_masked if obj and obj.pk else "") or "—"

    @method_decorator(sensitive_post_parameters(*SENSITIVE_FIELDS))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return [
            path("<path:object_id>/reveal-pii/", self.admin_site.admin_view(self.reveal_pii_view),
                 name="{}_{}_reveal_pii".format(*info)),
            *super().get_urls(),
        ]

    @method_decorator(never_cache)
    def reveal_pii_view(self, request, object_id):
        if not request.user.has_perm(PII_PERMISSION):
            raise PermissionDenied("无权查看个人信息明文")
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        values = enterprise_pii_reveal(enterprise=obj, actor=request.user) if request.method == "POST" else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "values": values,
            "change_url_name": f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change",
            "title": "查看个人信息明文",
        }
        return TemplateResponse(request, "security/pii_reveal.html", context)


@admin.register(AuditChainAnchor)
class AuditChainAnchorAdmin(admin.ModelAdmin):
    list_display = ["created_at", "first_event_id", "pruned_count", "pruned_before", "prev_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
