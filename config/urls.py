from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from registry import views as registry_views

admin.site.site_header = "风险补偿资金池管理系统"
admin.site.site_title = "资金池管理"
admin.site.index_title = "站点管理"

urlpatterns = [
    path("", registry_views.home, name="home"),
    path("healthz", registry_views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
