"""Admin: intake batches and status reports, read-only (they change only through intake)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import IntakeBatch, StatusReport


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IntakeBatch)
class IntakeBatchAdmin(ReadOnlyAdmin):
    list_display = ("uploaded_at", "bank", "programme", "kind", "source", "filename", "status", "rows_total",
                    "error_count", "warning_count", "is_correction", "uploaded_by")
    list_filter = ("status", "kind", "source", "bank", "programme", "is_correction")
    list_select_related = ("bank", "programme", "uploaded_by")
    search_fields = ("id", "filename", "sha256", "bank__name", "bank__code")
    date_hierarchy = "uploaded_at"
    readonly_fields = ("issues_preview",)
    exclude = ("issues",)

    @admin.display(description=_("问题清单（前 200 条）"))
    def issues_preview(self, obj: IntakeBatch) -> str:
        lines = [
            f"[{i['level']}] 第{i['row'] or '-'}行 {i['column']} {i['value']}: {i['message']} {i['rule']}".strip()
            for i in obj.issues[:200]
        ]
        return "\n".join(lines) or "—"


@admin.register(StatusReport)
class StatusReportAdmin(ReadOnlyAdmin):
    list_display = ("loan", "month", "outstanding_principal", "overdue_days", "classification", "status",
                    "settled_on", "is_current", "is_correction", "batch")
    list_filter = ("status", "classification", "is_current", "is_correction", "loan__bank")
    list_select_related = ("loan", "loan__bank", "batch")
    search_fields = ("loan__contract_no", "loan__enterprise__credit_code")
    date_hierarchy = "month"
    raw_id_fields = ("loan", "batch", "supersedes")
