"""Pages and doors of the tracking app (full paths: each app mounts its own prefixes)."""

from django.urls import path

from tracking import views

urlpatterns = [
    path("c/<str:code>", views.click, name="tracking-click"),
    path("t/postback", views.postback, name="tracking-postback"),
    path("t/pixel.gif", views.pixel, name="tracking-pixel"),
    path("t/tracker.js", views.tracker_js, name="tracking-tracker-js"),
    path("integrations/stripe/<str:token>/", views.stripe_webhook, name="tracking-stripe-webhook"),
    path("merchant/conversions/", views.MerchantConversionsView.as_view(), name="merchant-conversions"),
    path("merchant/integration/", views.MerchantIntegrationView.as_view(), name="merchant-integration"),
    path("portal/conversions/", views.AffiliateConversionsView.as_view(), name="portal-conversions"),
]
