"""API routes of the payouts app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from payouts.api import views

router = SimpleRouter(trailing_slash=True)
router.register("merchant-funding", views.MerchantFundingViewSet, basename="merchant-funding")
router.register("invoices", views.InvoiceViewSet, basename="invoice")
router.register("payout-batches", views.PayoutBatchViewSet, basename="payout-batch")
router.register("payouts", views.PayoutViewSet, basename="payout")

urlpatterns = [
    path("balances/", views.BalanceView.as_view(), name="api-balances"),
    path("payout-profile/", views.PayoutProfileView.as_view(), name="api-payout-profile"),
    *router.urls,
]
