"""Admin for superusers: read-mostly views of endpoints, events and deliveries."""

from django.contrib import admin

from webhooks.models import AffiliatePostback, OutboxEvent, PostbackDelivery, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "network", "owner_kind", "owner_id", "is_active", "created_at"]
    list_filter = ["owner_kind", "is_active"]
    exclude = ["secret", "previous_secret"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["public_id", "network", "event_type", "created_at"]
    list_filter = ["event_type"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "endpoint", "event", "status", "attempts", "next_attempt_at", "last_status_code"]
    list_filter = ["status"]


@admin.register(AffiliatePostback)
class AffiliatePostbackAdmin(admin.ModelAdmin):
    list_display = ["url_template", "network", "affiliate_id", "program_id", "is_active"]


@admin.register(PostbackDelivery)
class PostbackDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "postback", "event_type", "status", "attempts", "next_attempt_at", "last_status_code"]
    list_filter = ["status"]
