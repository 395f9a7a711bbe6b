"""Pages of the affiliates app (full paths: each app mounts its own prefixes)."""

from django.urls import path

from affiliates import views

urlpatterns = [
    path("join/", views.JoinView.as_view(), name="affiliate-join"),
    path("portal/", views.PortalHomeView.as_view(), name="portal-home"),
    path("portal/marketplace/", views.MarketplacePageView.as_view(), name="portal-marketplace"),
    path("portal/programs/<int:pk>/", views.ProgramPageView.as_view(), name="portal-program"),
    path("portal/my-programs/", views.MyProgramsView.as_view(), name="portal-my-programs"),
    path("portal/my-programs/<int:pk>/accept-terms/", views.AcceptTermsView.as_view(), name="portal-accept-terms"),
    path("portal/links/", views.LinksView.as_view(), name="portal-links"),
    path("portal/creatives/", views.CreativesView.as_view(), name="portal-creatives"),
    path("portal/team/", views.TeamView.as_view(), name="portal-team"),
    path("merchant/enrollments/", views.MerchantEnrollmentsView.as_view(), name="merchant-enrollments"),
    path("merchant/enrollments/bulk/", views.MerchantBulkDecisionView.as_view(), name="merchant-enrollments-bulk"),
    path("merchant/enrollments/<int:pk>/<slug:decision>/", views.MerchantEnrollmentDecisionView.as_view(),
         name="merchant-enrollment-decision"),
    path("merchant/coupons/", views.MerchantCouponsView.as_view(), name="merchant-coupons"),
    path("merchant/program-invitations/", views.MerchantProgramInvitationsView.as_view(),
         name="merchant-program-invitations"),
    path("console/affiliates/", views.ConsoleAffiliatesView.as_view(), name="console-affiliates"),
    path("console/affiliates/<int:pk>/<slug:move>/", views.ConsoleAffiliateStatusView.as_view(),
         name="console-affiliate-status"),
]
