"""The outbox: other apps report domain events here, inside the transaction that changed the data.

    from webhooks import outbox
    with transaction.atomic():
        conversion.save()
        outbox.emit(network=network, event_type="conversion.created", payload={...},
                    merchant_id=program.merchant_id, affiliate_id=conversion.affiliate_id,
                    idempotency_key=f"conversion:{conversion.pk}:created")

The event and one delivery row per subscribed endpoint are written in the caller's transaction,
so a rolled-back change sends nothing; delivery is enqueued only after commit, and the beat task
`dispatch_due_deliveries` picks up anything whose enqueue was lost.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from network.models import Network
from webhooks import selectors
from webhooks.models import EventType, OutboxEvent, WebhookDelivery


def emit(*, network: Network, event_type: str, payload: dict[str, Any], merchant_id: int | None = None,
         affiliate_id: int | None = None, idempotency_key: str) -> OutboxEvent:
    """Record one event for delivery; emitting the same idempotency key again writes nothing new."""
    if event_type not in EventType.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    if not idempotency_key:
        raise ValueError("emit() needs an idempotency_key")
    with transaction.atomic():  # joins the caller's transaction; a savepoint guards the unique insert
        event, created = OutboxEvent.objects.get_or_create(
            network=network, idempotency_key=idempotency_key,
            defaults={"event_type": event_type, "payload": payload, "merchant_id": merchant_id,
                      "affiliate_id": affiliate_id},
        )
        if not created:
            return event
        now = timezone.now()
        endpoints = selectors.endpoints_for_event(network, event_type=event_type, merchant_id=merchant_id,
                                                  affiliate_id=affiliate_id)
        deliveries = WebhookDelivery.objects.bulk_create([
            WebhookDelivery(network=network, endpoint=endpoint, event=event, next_attempt_at=now)
            for endpoint in endpoints
        ])
        delivery_ids = [delivery.pk for delivery in deliveries]
        if delivery_ids:
            transaction.on_commit(lambda: _enqueue(delivery_ids))
    return event


def _enqueue(delivery_ids: list[int]) -> None:
    from webhooks import tasks

    for delivery_id in delivery_ids:
        tasks.enqueue_webhook_delivery(delivery_id)
