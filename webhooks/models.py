"""Outbound webhooks and affiliate postbacks: endpoints, the outbox, deliveries and their attempts.

The webhooks app sits just above `network`, so merchants, affiliates and programs are referenced
by plain integer ids (owner_id, merchant_id, affiliate_id, program_id), never by foreign key.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.models import NetworkOwned


class EventType(models.TextChoices):
    """Every event an endpoint can subscribe to."""

    ENROLLMENT_CREATED = "enrollment.created", _("Enrollment created")
    ENROLLMENT_APPROVED = "enrollment.approved", _("Enrollment approved")
    CONVERSION_CREATED = "conversion.created", _("Conversion created")
    CONVERSION_APPROVED = "conversion.approved", _("Conversion approved")
    CONVERSION_REVERSED = "conversion.reversed", _("Conversion reversed")
    PAYOUT_PAID = "payout.paid", _("Payout paid")
    PAYOUT_FAILED = "payout.failed", _("Payout failed")


# Affiliate postbacks fire on conversions only: what media buyers' trackers expect.
POSTBACK_EVENT_TYPES = (EventType.CONVERSION_CREATED, EventType.CONVERSION_APPROVED, EventType.CONVERSION_REVERSED)


class OwnerKind(models.TextChoices):
    STAFF = "staff", _("Network staff")
    MERCHANT = "merchant", _("Merchant")
    AFFILIATE = "affiliate", _("Affiliate")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    # A 4xx answer other than 429: the receiver refused it, retrying would not help.
    FAILED = "failed", _("Failed")
    # Every retry used up on network errors or 5xx.
    DEAD = "dead", _("Gave up")


# Which status may follow which; "pending → pending" is a scheduled retry, the others a redeliver.
DELIVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    DeliveryStatus.PENDING: frozenset({DeliveryStatus.PENDING, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED,
                                       DeliveryStatus.DEAD}),
    DeliveryStatus.DELIVERED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.DEAD: frozenset({DeliveryStatus.PENDING}),
}


def new_event_id() -> str:
    """A public, globally unique event id; the `webhook-id` header receivers deduplicate on."""
    return f"evt_{uuid.uuid4().hex}"


class WebhookEndpoint(NetworkOwned):
    """A URL that receives signed event notifications for one staff team, merchant or affiliate."""

    owner_kind = models.CharField(max_length=16, choices=OwnerKind.choices)
    # The merchant or affiliate id; null for network staff.
    owner_id = models.BigIntegerField(null=True, blank=True)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # "whsec_<base64>"; the previous secret keeps signing until it expires, so receivers can rotate.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["network", "owner_kind", "owner_id"])]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(NetworkOwned):
    """One domain event, written in the same transaction as the change it reports."""

    public_id = models.CharField(max_length=40, unique=True, default=new_event_id)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField(default=dict)
    merchant_id = models.BigIntegerField(null=True, blank=True)
    affiliate_id = models.BigIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["network", "idempotency_key"],
                                               name="outbox_event_unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.public_id}"


class WebhookDelivery(NetworkOwned):
    """One event on its way to one endpoint: its retry schedule and last outcome."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Attempts since the delivery was (re)queued; the attempt log keeps every one.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_unique")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class AffiliatePostback(NetworkOwned):
    """An affiliate's GET postback URL with macros, fired on their conversions."""

    affiliate_id = models.BigIntegerField()
    # Null fires for every program; otherwise only for that program's conversions.
    program_id = models.BigIntegerField(null=True, blank=True)
    url_template = models.CharField(max_length=2000)
    event_types = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["network", "affiliate_id"])]

    def __str__(self) -> str:
        return self.url_template


class PostbackDelivery(NetworkOwned):
    """One rendered postback URL on its way out, with the same retry policy as webhooks."""

    postback = models.ForeignKey(AffiliatePostback, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    url = models.CharField(max_length=4000)
    # Lets the caller retry `fire_affiliate_postbacks` without firing twice; blank = no key given.
    idempotency_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["postback", "idempotency_key"],
                                               condition=~models.Q(idempotency_key=""),
                                               name="postback_delivery_unique_idempotency_key")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.url} ({self.status})"


class DeliveryAttempt(NetworkOwned):
    """One HTTP attempt of a webhook or postback delivery: the log behind the delivery page."""

    webhook_delivery = models.ForeignKey(WebhookDelivery, null=True, blank=True, on_delete=models.CASCADE,
                                         related_name="attempt_log")
    postback_delivery = models.ForeignKey(PostbackDelivery, null=True, blank=True, on_delete=models.CASCADE,
                                          related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    outcome = models.CharField(max_length=16, choices=DeliveryStatus.choices)

    class Meta:
        ordering = ["attempted_at", "id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(webhook_delivery__isnull=False, postback_delivery__isnull=True)
            | models.Q(webhook_delivery__isnull=True, postback_delivery__isnull=False),
            name="delivery_attempt_one_parent")]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
