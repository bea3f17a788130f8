from django.urls import path

from . import views

app_name = "enterprise"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.EnterpriseLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("activate/", views.activate, name="activate"),
    path("lookup/", views.lookup, name="lookup"),
    path("loans/<int:pk>/", views.loan_detail, name="loan"),
    path("subsidies/<int:pk>/", views.subsidy_detail, name="subsidy"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("applications/", views.applications, name="applications"),
]
