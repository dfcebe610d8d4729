"""The SOC dashboard's page and its charts' CSV."""

from django.urls import path

from socdesk.reports import views

app_name = "reports"

urlpatterns = [
    path("dashboard", views.dashboard, name="dashboard"),
    path("dashboard/<slug:chart>.csv", views.dashboard_csv, name="dashboard_csv"),
]
