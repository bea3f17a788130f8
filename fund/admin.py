from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from . import admin_ledger
from .admin_claims import ClaimAdmin as ClaimAdmin  # registers the claim admins
from .models import CooperationChange, GuarantorPartnership, Loan, ParameterSet, Partnership, Programme


class ParameterSetInline(admin.StackedInline):
    model = ParameterSet
    extra = 0
    show_change_link = True
    fields = ["effective_from", "note", "treasury_contribution", "leverage_target"]


@admin.register(Programme)
class ProgrammeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "start_date", "end_date", "pool_dashboard"]
    search_fields = ["code", "name"]
    inlines = [ParameterSetInline]

    def get_urls(self):
        return admin_ledger.programme_urls(self) + super().get_urls()

    @admin.display(description="资金池")
    def pool_dashboard(self, obj):
        return admin_ledger.dashboard_link(obj)


@admin.register(ParameterSet)
class ParameterSetAdmin(SimpleHistoryAdmin):
    list_display = ["programme", "effective_from", "treasury_contribution", "bank_mode_pool_share",
                    "guarantor_mode_pool_share", "interest_subsidy_percent", "note"]
    list_filter = ["programme"]
    date_hierarchy = "effective_from"
    readonly_fields = ["created_at"]


@admin.register(Partnership)
class PartnershipAdmin(SimpleHistoryAdmin):
    list_display = ["bank", "programme", "committed_lending", "pool_allocation", "state", "state_reason"]
    list_filter = ["programme", "state"]
    search_fields = ["bank__name"]
    list_select_related = ["bank", "programme"]
    readonly_fields = ["state", "state_reason"]


@admin.register(GuarantorPartnership)
class GuarantorPartnershipAdmin(SimpleHistoryAdmin):
    list_display = ["guarantor", "programme", "state", "state_reason"]
    list_filter = ["programme", "state"]
    list_select_related = ["guarantor", "programme"]
    readonly_fields = ["state", "state_reason"]


@admin.register(CooperationChange)
class CooperationChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "partnership", "guarantor_partnership", "from_state", "to_state", "rule", "reason",
                    "actor"]
    list_filter = ["to_state", "rule"]
    list_select_related = ["partnership__bank", "guarantor_partnership__guarantor", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Loan)
class LoanAdmin(SimpleHistoryAdmin):
    list_display = ["contract_no", "bank", "enterprise_name", "mode", "principal", "annual_rate", "disbursed_on",
                    "outstanding_principal", "status", "classification"]
    list_filter = ["programme", "bank", "mode", "status", "classification", "enterprise__region"]
    search_fields = ["contract_no", "enterprise__credit_code", "enterprise_name"]
    date_hierarchy = "disbursed_on"
    list_select_related = ["bank", "enterprise"]
    raw_id_fields = ["enterprise"]
    readonly_fields = ["registered_at", "registered_by", "source_batch", "outstanding_principal", "overdue_days",
                       "classification", "status", "settled_on", "interest_paid_total",
                       "guarantee_fee_paid_total", "last_report_month", "ever_overdue", "nonperforming_since"]
