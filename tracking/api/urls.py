"""API routes of the tracking app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from tracking.api import views

router = SimpleRouter(trailing_slash=True)
router.register("conversions", views.ConversionViewSet, basename="conversion")

urlpatterns = router.urls
