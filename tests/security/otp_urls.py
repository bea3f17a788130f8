"""A URLconf for the second-factor tests: an admin site with dummy approval actions and views."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from registry.models import Bank
from registry.security.otp import ensure_second_factor, require_verified_otp, second_factor_required

site = admin.AdminSite(name="admin")


@admin.action(description="审批（测试）")
def approve_selected(modeladmin, request, queryset):
    modeladmin.message_user(request, f"approved {queryset.count()}")


@admin.action(description="拨付（测试，动作内自查）")
def release_funds(modeladmin, request, queryset):
    ensure_second_factor(request)
    modeladmin.message_user(request, "released")


@admin.action(description="拨付（测试，装饰器）")
@second_factor_required
def transfer(modeladmin, request, queryset):
    modeladmin.message_user(request, "transferred")


@admin.action(description="发布（测试，复核权限）", permissions=["approve"])
def publish(modeladmin, request, queryset):
    modeladmin.message_user(request, "published")


class BankAdmin(admin.ModelAdmin):
    actions = [approve_selected, release_funds, transfer, publish]

    def has_approve_permission(self, request):
        return True


site.register(Bank, BankAdmin)


@require_verified_otp
def approve_view(request):
    return HttpResponse("approved")


urlpatterns = [
    path("admin/", site.urls),
    path("security/", include("registry.security.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dummy/approve/", approve_view),
]
