from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Bank,
    DomainEvent,
    Enterprise,
    Guarantor,
    IndustryDivision,
    IndustrySection,
    LprRate,
    Region,
    SmeThreshold,
    User,
)
from .rules import RuleError, normalize_industry, validate_uscc
from .security.admin import LegalRepAdminMixin, LegalRepFormMixin
from .services import enterprise_save


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "kind"]
    search_fields = ["code", "name", "short_name"]


@admin.register(IndustrySection)
class IndustrySectionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "three_sector"]
    search_fields = ["code", "name"]


@admin.register(IndustryDivision)
class IndustryDivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "section", "is_service"]
    list_filter = ["is_service", "section"]
    search_fields = ["code", "name"]
    list_select_related = ["section"]


@admin.register(LprRate)
class LprRateAdmin(SimpleHistoryAdmin):
    list_display = ["effective_from", "rate_percent"]
    date_hierarchy = "effective_from"


@admin.register(SmeThreshold)
class SmeThresholdAdmin(SimpleHistoryAdmin):
    list_display = ["group", "codes", "indicator_1", "indicator_2", "small_min_1", "medium_min_1", "large_min_1"]


@admin.register(Bank)
class BankAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "short_name"]
    search_fields = ["code", "name", "short_name"]


@admin.register(Guarantor)
class GuarantorAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "short_name"]
    search_fields = ["code", "name", "short_name"]


class EnterpriseForm(LegalRepFormMixin, forms.ModelForm):
    """Validates the credit code (R6) and industry code (R8) with the pure rules, errors in Chinese."""

    class Meta:
        model = Enterprise
        fields = ["credit_code", "name", "region", "industry_code", "employees", "revenue_10k", "assets_10k",
                  "is_private", "legal_rep_name"]

    def clean_credit_code(self):
        try:
            return validate_uscc(self.cleaned_data["credit_code"])
        except RuleError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_industry_code(self):
        try:
            return normalize_industry(self.cleaned_data["industry_code"]).code
        except RuleError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(Enterprise)
class EnterpriseAdmin(LegalRepAdminMixin, SimpleHistoryAdmin):
    list_display = ["credit_code", "name", "region", "industry_code", "size_class", "is_private"]
    list_filter = ["region", "size_class", "is_private", "industry__section"]
    search_fields = ["credit_code", "name"]
    list_select_related = ["region"]
    readonly_fields = ["size_class", "created_at"]
    exclude = ["industry"]

    form = EnterpriseForm

    def save_model(self, request, obj, form, change):
        enterprise_save(enterprise=obj, actor=request.user)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "is_staff", "bank", "guarantor", "enterprise", "is_active"]
    list_filter = ["is_staff", "is_active", "groups", "bank", "guarantor"]
    list_select_related = ["bank", "guarantor", "enterprise"]
    raw_id_fields = ["enterprise"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("所属机构"), {"fields": ("bank", "guarantor", "enterprise")}),
    )


@admin.register(DomainEvent)
class DomainEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "event_type", "object_type", "object_id", "actor"]
    list_filter = ["event_type", "object_type"]
    search_fields = ["object_id", "event_type"]
    date_hierarchy = "occurred_at"
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
