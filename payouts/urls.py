"""Pages of the payouts app (full paths: each app mounts its own prefixes)."""

from django.urls import path

from payouts import payout_views, views

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
    # Affiliate payouts (docs/payouts.md).
    path("console/payouts/", payout_views.ConsolePayoutsView.as_view(), name="console-payouts"),
    path("console/payouts/<int:pk>/", payout_views.ConsolePayoutBatchView.as_view(), name="console-payout-batch"),
    path("console/payouts/<int:pk>/approve/", payout_views.ConsoleBatchActionView.as_view(operation="approve"),
         name="console-payout-batch-approve"),
    path("console/payouts/<int:pk>/mark-paid/", payout_views.ConsoleBatchActionView.as_view(operation="mark_paid"),
         name="console-payout-batch-mark-paid"),
    path("console/payouts/<int:pk>/payouts/<int:payout_pk>/remove/",
         payout_views.ConsoleBatchActionView.as_view(operation="remove"), name="console-payout-remove"),
    path("console/payouts/<int:pk>/payouts/<int:payout_pk>/mark-paid/",
         payout_views.ConsoleBatchActionView.as_view(operation="mark_paid"), name="console-payout-mark-paid"),
    path("console/payouts/<int:pk>/bank-file/", payout_views.ConsoleBankFileView.as_view(),
         name="console-payout-bank-file"),
    path("portal/payouts/", payout_views.PortalPayoutsView.as_view(), name="portal-payouts"),
    path("portal/payouts/settings/", payout_views.PortalPayoutSettingsView.as_view(), name="portal-payout-settings"),
    path("portal/payouts/settings/stripe/", payout_views.PortalOnboardingView.as_view(provider="stripe"),
         name="portal-payout-stripe-onboarding"),
    path("portal/payouts/settings/payoneer/", payout_views.PortalOnboardingView.as_view(provider="payoneer"),
         name="portal-payout-payoneer-registration"),
    path("integrations/paypal/", payout_views.ProviderWebhookView.as_view(method="paypal"),
         name="payouts-webhook-paypal"),
    path("integrations/payoneer/", payout_views.ProviderWebhookView.as_view(method="payoneer"),
         name="payouts-webhook-payoneer"),
    path("integrations/stripe-connect/", payout_views.ProviderWebhookView.as_view(method="stripe"),
         name="payouts-webhook-stripe-connect"),
    path("integrations/sandbox/", payout_views.ProviderWebhookView.as_view(method="sandbox"),
         name="payouts-webhook-sandbox"),
]
