"""API routes of the reports app, mounted under /api/v1/."""

from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports/performance/", views.PerformanceView.as_view(), name="api-reports-performance"),
]
