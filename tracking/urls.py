"""Pages and doors of the tracking app (full paths: each app mounts its own prefixes)."""

from django.urls import path

from tracking import lifecycle_views, views

urlpatterns = [
    path("c/<str:code>", views.click, name="tracking-click"),
    path("t/postback", views.postback, name="tracking-postback"),
    path("t/pixel.gif", views.pixel, name="tracking-pixel"),
    path("t/tracker.js", views.tracker_js, name="tracking-tracker-js"),
    path("integrations/stripe/<str:token>/", views.stripe_webhook, name="tracking-stripe-webhook"),
    path("merchant/conversions/", views.MerchantConversionsView.as_view(), name="merchant-conversions"),
    path("merchant/integration/", views.MerchantIntegrationView.as_view(), name="merchant-integration"),
    path("portal/conversions/", views.AffiliateConversionsView.as_view(), name="portal-conversions"),
    path("merchant/review/", lifecycle_views.MerchantReviewView.as_view(), name="merchant-review"),
    path("merchant/review/decline-csv/", lifecycle_views.MerchantDeclineCsvView.as_view(),
         name="merchant-review-decline-csv"),
    path("merchant/review/claims/<int:claim_id>/", lifecycle_views.MerchantClaimAnswerView.as_view(),
         name="merchant-review-claim"),
    path("portal/claims/", lifecycle_views.AffiliateClaimsView.as_view(), name="portal-claims"),
]
