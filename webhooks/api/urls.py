"""API routes of the webhooks app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from webhooks.api import views

router = SimpleRouter(trailing_slash=True)
router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("postbacks", views.AffiliatePostbackViewSet, basename="postback")

urlpatterns = router.urls
