"""Public JSON, mounted at /api/public/."""

from django.urls import path

from . import api

app_name = "public-api"

urlpatterns = [
    path("stats/", api.public_stats, name="stats"),
]
