"""Routes of the tenancy API."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from network.api import views

router = SimpleRouter(trailing_slash=True)
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("staff", views.StaffViewSet, basename="staff")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("network/", views.NetworkSettingsView.as_view(), name="api-network"),
    *router.urls,
]
