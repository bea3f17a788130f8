"""/api/bank/ — the bank intake API (banks/api.py)."""

from django.urls import path

from . import api

app_name = "bank-api"

urlpatterns = [
    path("uploads/", api.UploadView.as_view(), name="upload"),
    path("batches/", api.BatchListView.as_view(), name="batches"),
    path("batches/<str:pk>/", api.BatchDetailView.as_view(), name="batch"),
    path("registrations/", api.RegistrationRecordsView.as_view(), name="registrations"),
    path("status-reports/", api.StatusRecordsView.as_view(), name="status-reports"),
    path("loans/", api.LoanListView.as_view(), name="loans"),
    path("loans/<int:pk>/", api.LoanDetailView.as_view(), name="loan"),
    path("exceptions/", api.ExceptionListView.as_view(), name="exceptions"),
]
