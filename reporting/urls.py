"""Public statistics pages, mounted at /stats/ (the page itself is also served at /)."""

from django.urls import path

from . import views

app_name = "stats"

urlpatterns = [
    path("", views.stats_page, name="page"),
    path("charts/<int:snapshot_id>/<slug:name>.svg", views.stats_chart, name="chart"),
]
