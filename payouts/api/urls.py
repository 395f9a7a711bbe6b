"""API routes of the payouts app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from payouts.api import views

router = SimpleRouter(trailing_slash=True)
router.register("merchant-funding", views.MerchantFundingViewSet, basename="merchant-funding")
router.register("invoices", views.InvoiceViewSet, basename="invoice")

urlpatterns = [
    path("balances/", views.BalanceView.as_view(), name="api-balances"),
    *router.urls,
]
