from django.urls import path

from . import api

app_name = "fund"

urlpatterns = [
    path("leverage/", api.LeverageView.as_view(), name="leverage"),
]
