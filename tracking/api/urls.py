"""API routes of the tracking app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from tracking.api import lifecycle, views

router = SimpleRouter(trailing_slash=True)
router.register("conversions", views.ConversionViewSet, basename="conversion")
router.register("claims", lifecycle.ClaimViewSet, basename="claim")

urlpatterns = router.urls
