"""Pages of the webhooks app."""

from django.urls import path

from webhooks import views

urlpatterns = [
    path("console/webhooks/", views.StaffWebhookLogView.as_view(), name="console-webhooks"),
    path("console/webhooks/deliveries/<int:pk>/redeliver/", views.StaffRedeliverView.as_view(),
         name="console-webhook-redeliver"),
    path("merchant/webhooks/", views.MerchantWebhookLogView.as_view(), name="merchant-webhooks"),
    path("merchant/webhooks/deliveries/<int:pk>/redeliver/", views.MerchantRedeliverView.as_view(),
         name="merchant-webhook-redeliver"),
    path("portal/webhooks/", views.AffiliateWebhookLogView.as_view(), name="portal-webhooks"),
    path("portal/webhooks/deliveries/<int:pk>/redeliver/", views.AffiliateRedeliverView.as_view(),
         name="portal-webhook-redeliver"),
    path("portal/postbacks/", views.PostbacksView.as_view(), name="portal-postbacks"),
]
