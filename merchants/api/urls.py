"""API routes of the merchants app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from merchants.api import views

router = SimpleRouter(trailing_slash=True)
router.register("merchants", views.MerchantViewSet, basename="merchant")
router.register("programs", views.ProgramViewSet, basename="program")

urlpatterns = [*router.urls]
