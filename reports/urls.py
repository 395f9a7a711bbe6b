"""Pages of the reports app: dashboards and their CSV exports in the portal, merchant area and console."""

from django.urls import path

from reports import views

urlpatterns = [
    path("portal/reports/", views.PortalReportsView.as_view(), name="portal-reports"),
    path("portal/reports/export/<slug:table>.csv", views.PortalExportView.as_view(), name="portal-reports-export"),
    path("merchant/reports/", views.MerchantReportsView.as_view(), name="merchant-reports"),
    path("merchant/reports/export/<slug:table>.csv", views.MerchantExportView.as_view(),
         name="merchant-reports-export"),
    path("console/reports/", views.ConsoleReportsView.as_view(), name="console-reports"),
    path("console/reports/export/<slug:table>.csv", views.ConsoleExportView.as_view(),
         name="console-reports-export"),
]
