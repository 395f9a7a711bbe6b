"""Serializers of the webhooks API: plain shapes, no logic."""

from rest_framework import serializers

from webhooks.models import (
    POSTBACK_EVENT_TYPES,
    AffiliatePostback,
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)

POSTBACK_EVENT_CHOICES = [(str(value), value.label) for value in POSTBACK_EVENT_TYPES]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "owner_kind", "owner_id", "created_at",
                  "previous_secret_expires_at"]
        read_only_fields = fields


class WebhookEndpointWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False)
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False,
                                        required=False)
    is_active = serializers.BooleanField(required=False)


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """Returned by create and rotate-secret only: the secret is shown this once."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.public_id", read_only=True)
    event_type = serializers.ChoiceField(source="event.event_type", choices=EventType.choices, read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event_id", "event_type", "status", "attempts", "next_attempt_at",
                  "last_attempt_at", "delivered_at", "last_status_code", "last_error", "response_excerpt",
                  "created_at"]
        read_only_fields = fields


class AffiliatePostbackSerializer(serializers.ModelSerializer):
    program = serializers.IntegerField(source="program_id", allow_null=True, read_only=True)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=POSTBACK_EVENT_CHOICES))

    class Meta:
        model = AffiliatePostback
        fields = ["id", "program", "url_template", "event_types", "is_active", "created_at"]
        read_only_fields = fields


class AffiliatePostbackWriteSerializer(serializers.Serializer):
    program = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)
    url_template = serializers.CharField(max_length=2000,
                                         help_text="GET URL with macros {click_id} {sub1}…{sub5} {order_id} "
                                                   "{commission} {currency} {status}.")
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=POSTBACK_EVENT_CHOICES),
                                        allow_empty=False)
    is_active = serializers.BooleanField(required=False, default=True)


class AffiliatePostbackUpdateSerializer(serializers.Serializer):
    program = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    url_template = serializers.CharField(max_length=2000, required=False)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=POSTBACK_EVENT_CHOICES),
                                        allow_empty=False, required=False)
    is_active = serializers.BooleanField(required=False)
