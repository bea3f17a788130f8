"""Bank-portal pages for compensation claims, mounted at /bank/claims/."""

from django.urls import path

from fund import claims_views as views

app_name = "claims-portal"

urlpatterns = [
    path("", views.claim_list_view, name="list"),
    path("new/", views.claim_new, name="new"),
    path("guarantor-payments/", views.guarantor_payments, name="guarantor_payments"),
    path("guarantor-payments/<int:payment_pk>/voucher/", views.guarantor_voucher, name="guarantor_voucher"),
    path("<int:pk>/", views.claim_detail, name="detail"),
    path("<int:pk>/edit/", views.claim_update_view, name="update"),
    path("<int:pk>/documents/", views.claim_upload, name="upload"),
    path("<int:pk>/documents/<int:document_pk>/", views.document_download, name="document"),
    path("<int:pk>/documents/<int:document_pk>/delete/", views.claim_document_delete, name="document_delete"),
    path("<int:pk>/submit/", views.claim_submit_view, name="submit"),
    path("<int:pk>/notice.pdf", views.notice_pdf, name="notice"),
    path("<int:pk>/recoveries/", views.recovery_new, name="recovery_new"),
    path("<int:pk>/recoveries/<int:recovery_pk>/evidence/", views.recovery_evidence, name="recovery_evidence"),
    path("<int:pk>/close-pursuit/", views.claim_close_pursuit_view, name="close_pursuit"),
]
