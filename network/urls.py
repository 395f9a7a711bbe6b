"""The project's URLs; each area lives in its app (see ../shared/CONTRACT.md, "Web")."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from network import views

api_v1 = [
    path("", include("network.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("merchants.api.urls")),
    path("", include("affiliates.api.urls")),
    path("", include("payouts.api.urls")),
    path("", include("tracking.api.urls")),
    path("", include("reports.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.HomeView.as_view(), name="home"),
    path("switch/", views.SwitchView.as_view(), name="switch"),
    path("console/", views.ConsoleHomeView.as_view(), name="console-home"),
    path("console/staff/", views.StaffListView.as_view(), name="console-staff"),
    path("console/staff/invite/", views.StaffInviteView.as_view(), name="console-staff-invite"),
    path("console/staff/<int:pk>/", views.StaffMemberView.as_view(), name="console-staff-member"),
    path("console/settings/", views.NetworkSettingsPageView.as_view(), name="console-settings"),
    path("console/domains/", views.DomainsView.as_view(), name="console-domains"),
    path("console/domains/<int:pk>/remove/", views.DomainRemoveView.as_view(), name="console-domain-remove"),
    path("console/audit/", views.AuditLogView.as_view(), name="console-audit"),
    path("console/api-keys/", views.ConsoleApiKeysView.as_view(), name="console-api-keys"),
    path("console/api-keys/<int:pk>/revoke/", views.ConsoleApiKeyRevokeView.as_view(), name="console-api-key-revoke"),
    path("merchant/api-keys/", views.MerchantApiKeysView.as_view(), name="merchant-api-keys"),
    path("merchant/api-keys/<int:pk>/revoke/", views.MerchantApiKeyRevokeView.as_view(),
         name="merchant-api-key-revoke"),
    path("portal/api-keys/", views.PortalApiKeysView.as_view(), name="portal-api-keys"),
    path("portal/api-keys/<int:pk>/revoke/", views.PortalApiKeyRevokeView.as_view(), name="portal-api-key-revoke"),
    path("keys/", views.MyApiKeysView.as_view(), name="my-api-keys"),
    path("invitations/<str:token>/", views.InvitationView.as_view(), name="invitation"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("", include("webhooks.urls")),
    path("", include("merchants.urls")),
    path("", include("affiliates.urls")),
    path("", include("payouts.urls")),
    path("", include("tracking.urls")),
    path("", include("reports.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
