"""Pages of the payouts app (full paths: each app mounts its own prefixes)."""

from django.urls import path

from payouts import views

urlpatterns = [
    path("console/ledger/", views.ConsoleLedgerView.as_view(), name="console-ledger"),
    path("console/funding/", views.ConsoleFundingView.as_view(), name="console-funding"),
    path("console/invoices/", views.ConsoleInvoicesView.as_view(), name="console-invoices"),
    path("console/invoices/<int:pk>/", views.ConsoleInvoiceDetailView.as_view(), name="console-invoice"),
    path("console/invoices/<int:pk>/csv/", views.ConsoleInvoiceCsvView.as_view(), name="console-invoice-csv"),
    path("merchant/billing/", views.MerchantBillingView.as_view(), name="merchant-billing"),
    path("merchant/invoices/<int:pk>/", views.MerchantInvoiceDetailView.as_view(), name="merchant-invoice"),
    path("merchant/invoices/<int:pk>/csv/", views.MerchantInvoiceCsvView.as_view(), name="merchant-invoice-csv"),
    path("portal/earnings/", views.AffiliateEarningsView.as_view(), name="portal-earnings"),
]
