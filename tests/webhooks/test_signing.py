"""Signatures verify with an independent Standard Webhooks implementation; rotation signs with both secrets."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from tests.webhooks.factories import WebhookDeliveryFactory, WebhookEndpointFactory
from webhooks import services
from webhooks.models import DeliveryStatus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def independent_verify(secret: str, headers: dict[str, str], body: bytes) -> list[bool]:
    """What a receiver writes from the spec alone: one bool per signature in the header."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    results = []
    for part in headers["webhook-signature"].split(" "):
        version, _, signature = part.partition(",")
        results.append(version == "v1" and hmac.compare_digest(signature, expected))
    return results


def send(delivery_id: int, now: datetime) -> httpx.Request:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(url__startswith="https://").mock(return_value=httpx.Response(200, text="ok"))
        services.attempt_webhook_delivery(delivery_id=delivery_id, now=now)
    assert route.call_count == 1
    return route.calls[0].request


@pytest.mark.django_db
def test_a_delivery_carries_standard_webhooks_headers_that_verify_independently(allow_private):
    delivery = WebhookDeliveryFactory(next_attempt_at=NOW)
    request = send(delivery.pk, NOW)
    headers = {name: request.headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    assert headers["webhook-id"] == delivery.event.public_id
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert request.headers["content-type"] == "application/json"
    assert independent_verify(delivery.endpoint.secret, headers, request.content) == [True]
    body = json.loads(request.content)
    assert body == {"id": delivery.event.public_id, "type": "conversion.created",
                    "created_at": delivery.event.created_at.isoformat(), "network": delivery.network.slug,
                    "data": {"conversion": {"id": 1, "amount": "12.50", "currency": "EUR"}}}


@pytest.mark.django_db
def test_a_tampered_body_or_a_wrong_secret_does_not_verify(allow_private):
    delivery = WebhookDeliveryFactory(next_attempt_at=NOW)
    request = send(delivery.pk, NOW)
    headers = dict(request.headers)
    assert independent_verify(delivery.endpoint.secret, headers, request.content + b" ") == [False]
    other = WebhookEndpointFactory(network=delivery.network).secret
    assert independent_verify(other, headers, request.content) == [False]


@pytest.mark.django_db
def test_during_rotation_both_secrets_sign_and_the_old_one_is_dropped_after_expiry(allow_private):
    endpoint = WebhookEndpointFactory()
    old_secret = endpoint.secret
    rotated = services.rotate_endpoint_secret(network=endpoint.network, endpoint_id=endpoint.pk, now=NOW)
    assert rotated.secret != old_secret
    assert rotated.previous_secret == old_secret
    assert rotated.previous_secret_expires_at == NOW + timedelta(hours=24)

    during = WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=NOW)
    request = send(during.pk, NOW + timedelta(hours=23))
    headers = dict(request.headers)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert independent_verify(rotated.secret, headers, request.content) == [True, False]
    assert independent_verify(old_secret, headers, request.content) == [False, True]

    after = WebhookDeliveryFactory(endpoint=endpoint, next_attempt_at=NOW)
    request = send(after.pk, NOW + timedelta(hours=24, seconds=1))
    headers = dict(request.headers)
    assert independent_verify(rotated.secret, headers, request.content) == [True]
    assert independent_verify(old_secret, headers, request.content) == [False]
    after.refresh_from_db()
    assert after.status == DeliveryStatus.DELIVERED


def test_secrets_have_the_whsec_format():
    from webhooks import signing

    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
