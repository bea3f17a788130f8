"""The bank portal (/bank/); /bank/claims/ is routed separately (fund.claims_views)."""

from django.urls import path

from banks import views

app_name = "bank"

urlpatterns = [
    path("", views.home, name="home"),
    path("templates/<str:kind>.xlsx", views.template_download, name="template"),
    path("uploads/new/", views.upload_new, name="upload_new"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<uuid:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<uuid:pk>/progress.json", views.batch_progress, name="batch_progress"),
    path("batches/<uuid:pk>/annotated.xlsx", views.batch_annotated, name="batch_annotated"),
    path("loans/", views.loan_list, name="loan_list"),
    path("loans/<int:pk>/", views.loan_detail, name="loan_detail"),
    path("loans/<int:pk>/activation-code/", views.loan_activation_code, name="loan_activation_code"),
    path("exceptions/", views.exceptions, name="exceptions"),
    path("applications/", views.applications, name="applications"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
]
