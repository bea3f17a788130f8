from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from registry import views as registry_views
from reporting import views as reporting_views

admin.site.site_header = "风险补偿资金池管理系统"
admin.site.site_title = "资金池管理"
admin.site.index_title = "站点管理"

urlpatterns = [
    path("", reporting_views.stats_page, name="home"),
    path("stats/", include("reporting.urls")),
    path("api/public/", include("reporting.api_urls")),
    path("api/reports/", include("reporting.reports_urls")),
    path("healthz", registry_views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("security/", include("registry.security.urls")),
    path("enterprise/", include("subsidies.urls")),
    path("bank/claims/", include("fund.claims_portal_urls")),
    path("bank/", include("banks.urls")),
    path("api/fund/", include("fund.urls")),
    path("api/bank/", include("banks.api_urls")),
    path("api/claims/", include("fund.claims_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),  # CSP: no inline script
]
