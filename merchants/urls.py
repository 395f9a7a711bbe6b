"""Pages of the merchants app (full paths: each app mounts its own prefixes)."""

from django.urls import path

from merchants import views

urlpatterns = [
    path("merchant/", views.MerchantHomeView.as_view(), name="merchant-home"),
    path("merchant/apply/", views.MerchantApplyView.as_view(), name="merchant-apply"),
    path("merchant/programs/", views.ProgramListView.as_view(), name="merchant-programs"),
    path("merchant/programs/new/", views.ProgramCreateView.as_view(), name="merchant-program-new"),
    path("merchant/programs/<int:pk>/", views.ProgramDetailView.as_view(), name="merchant-program"),
    path("merchant/programs/<int:pk>/edit/", views.ProgramEditView.as_view(), name="merchant-program-edit"),
    path("merchant/programs/<int:pk>/status/", views.ProgramStatusView.as_view(), name="merchant-program-status"),
    path("merchant/programs/<int:pk>/rules/", views.ProgramRulesView.as_view(), name="merchant-program-rules"),
    path("merchant/programs/<int:pk>/terms/", views.ProgramTermsView.as_view(), name="merchant-program-terms"),
    path("merchant/programs/<int:pk>/creatives/", views.CreativesView.as_view(), name="merchant-program-creatives"),
    path("merchant/programs/<int:pk>/creatives/<int:creative_id>/toggle/", views.CreativeToggleView.as_view(),
         name="merchant-creative-toggle"),
    path("merchant/programs/<int:pk>/settings/", views.ProgramSettingsView.as_view(),
         name="merchant-program-settings"),
    path("merchant/team/", views.TeamView.as_view(), name="merchant-team"),
    path("merchant/team/<int:membership_id>/", views.TeamMemberView.as_view(), name="merchant-team-member"),
    path("console/merchants/", views.ConsoleMerchantListView.as_view(), name="console-merchants"),
    path("console/merchants/<int:pk>/", views.ConsoleMerchantDetailView.as_view(), name="console-merchant"),
]
