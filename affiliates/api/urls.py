"""API routes of the affiliates app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from affiliates.api import views

router = SimpleRouter(trailing_slash=True)
router.register("affiliates", views.AffiliateViewSet, basename="affiliate")
router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")
router.register("links", views.TrackingLinkViewSet, basename="link")
router.register("coupons", views.CouponViewSet, basename="coupon")
router.register("program-invitations", views.ProgramInvitationViewSet, basename="program-invitation")

urlpatterns = [
    path("marketplace/", views.MarketplaceView.as_view(), name="api-marketplace"),
    path("programs/<int:pk>/apply/", views.ApplyView.as_view(), name="api-program-apply"),
    *router.urls,
]
