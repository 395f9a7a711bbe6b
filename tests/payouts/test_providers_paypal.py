"""PayPal Payouts provider: request shapes, batch-level idempotency, status mapping, webhooks."""

import base64
import json

import httpx
import pytest
from django.core.exceptions import ValidationError

from payouts.providers import (
    PayoutItem,
    PayoutStatus,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
    get_provider,
)
from payouts.providers.paypal import ITEM_STATUS, PayPalProvider, map_item_status, sender_batch_id_for

BASE = "https://api-m.sandbox.paypal.com"


@pytest.fixture(autouse=True)
def paypal_settings(settings):
    settings.PAYPAL_API_BASE = BASE
    settings.PAYPAL_CLIENT_ID = "client-id"
    settings.PAYPAL_CLIENT_SECRET = "client-secret"
    settings.PAYPAL_WEBHOOK_ID = "WH-ID-1"
    return settings


@pytest.fixture
def token_route(respx_mock):
    return respx_mock.post(f"{BASE}/v1/oauth2/token").mock(
        return_value=httpx.Response(200, json={"access_token": "A21AA-token", "token_type": "Bearer", "expires_in": 32400})
    )


def items() -> list[PayoutItem]:
    return [
        PayoutItem(reference="payout:1", amount_minor=1250, currency="EUR", recipient={"email": "ann@example.com"},
                   note="Commissions March"),
        PayoutItem(reference="payout:2", amount_minor=100000, currency="JPY", recipient={"email": "bo@example.com"},
                   note="Commissions March"),
    ]


def created(batch_id: str = "BATCH123") -> httpx.Response:
    return httpx.Response(
        201,
        json={
            "batch_header": {
                "payout_batch_id": batch_id,
                "batch_status": "PENDING",
                "sender_batch_header": {"sender_batch_id": "payout-batch:7:paypal"},
            },
            "links": [{"href": f"{BASE}/v1/payments/payouts/{batch_id}", "rel": "self", "method": "GET"}],
        },
    )


def batch_body(batch_id: str, statuses: dict[str, str], batch_status: str = "SUCCESS") -> dict:
    return {
        "batch_header": {"payout_batch_id": batch_id, "batch_status": batch_status},
        "items": [
            {
                "payout_item_id": f"ITEM-{reference}",
                "transaction_status": status,
                "payout_batch_id": batch_id,
                "payout_item": {"sender_item_id": reference, "receiver": "x@example.com"},
                **({"errors": {"name": "RECEIVER_UNREGISTERED", "message": "No account."}} if status == "FAILED" else {}),
            }
            for reference, status in statuses.items()
        ],
        "links": [],
    }


def test_submit_sends_the_documented_request(respx_mock, token_route):
    payouts = respx_mock.post(f"{BASE}/v1/payments/payouts").mock(return_value=created())

    results = get_provider("paypal").submit_batch("payout-batch:7", items())

    token_request = token_route.calls.last.request
    assert token_request.headers["Authorization"] == "Basic " + base64.b64encode(b"client-id:client-secret").decode()
    assert token_request.content == b"grant_type=client_credentials"
    request = payouts.calls.last.request
    assert request.headers["Authorization"] == "Bearer A21AA-token"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["PayPal-Request-Id"] == "payout-batch:7:paypal"
    assert json.loads(request.content) == {
        "sender_batch_header": {
            "sender_batch_id": "payout-batch:7:paypal",
            "recipient_type": "EMAIL",
            "email_subject": "You have a payout",
        },
        "items": [
            {"recipient_type": "EMAIL", "receiver": "ann@example.com", "sender_item_id": "payout:1",
             "note": "Commissions March", "amount": {"value": "12.50", "currency": "EUR"}},
            {"recipient_type": "EMAIL", "receiver": "bo@example.com", "sender_item_id": "payout:2",
             "note": "Commissions March", "amount": {"value": "100000", "currency": "JPY"}},
        ],
    }
    assert [(r.reference, r.status, r.provider_batch_id, r.provider_id) for r in results] == [
        ("payout:1", PayoutStatus.SUBMITTED, "BATCH123", None),
        ("payout:2", PayoutStatus.SUBMITTED, "BATCH123", None),
    ]


def test_token_is_cached_until_expiry(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/payments/payouts").mock(return_value=created())
    provider = get_provider("paypal")

    provider.submit_batch("payout-batch:7", items())
    provider.submit_batch("payout-batch:7", items())

    assert token_route.call_count == 1


def test_expired_token_is_refreshed_once_on_401(respx_mock):
    tokens = respx_mock.post(f"{BASE}/v1/oauth2/token").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "old", "expires_in": 3600}),
            httpx.Response(200, json={"access_token": "new", "expires_in": 3600}),
        ]
    )
    payouts = respx_mock.post(f"{BASE}/v1/payments/payouts").mock(
        side_effect=[httpx.Response(401, json={"error": "invalid_token"}), created()]
    )

    results = get_provider("paypal").submit_batch("payout-batch:7", items())

    assert tokens.call_count == 2
    assert [call.request.headers["Authorization"] for call in payouts.calls] == ["Bearer old", "Bearer new"]
    assert results[0].status == PayoutStatus.SUBMITTED


def test_retry_after_5xx_sends_the_same_sender_batch_id(respx_mock, token_route):
    payouts = respx_mock.post(f"{BASE}/v1/payments/payouts").mock(
        side_effect=[httpx.Response(503, json={"name": "SERVICE_UNAVAILABLE"}), created()]
    )
    provider = get_provider("paypal")

    with pytest.raises(ProviderUnavailable):
        provider.submit_batch("payout-batch:7", items())
    provider.submit_batch("payout-batch:7", items())

    first, second = (call.request for call in payouts.calls)
    assert first.content == second.content
    assert first.headers["PayPal-Request-Id"] == second.headers["PayPal-Request-Id"] == "payout-batch:7:paypal"


@pytest.mark.parametrize(
    "side_effect",
    [httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused"), httpx.Response(429, json={}),
     httpx.Response(500, text="<html>oops</html>")],
)
def test_transient_failures_are_unavailable(respx_mock, token_route, side_effect):
    respx_mock.post(f"{BASE}/v1/payments/payouts").mock(side_effect=[side_effect])

    with pytest.raises(ProviderUnavailable):
        get_provider("paypal").submit_batch("payout-batch:7", items())


def test_validation_error_is_rejected(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/payments/payouts").mock(
        return_value=httpx.Response(
            400,
            json={"name": "VALIDATION_ERROR", "message": "Invalid request.",
                  "details": [{"field": "items[0].receiver", "issue": "Receiver is invalid."}]},
        )
    )

    with pytest.raises(ProviderRejected) as excinfo:
        get_provider("paypal").submit_batch("payout-batch:7", items())

    assert excinfo.value.code == "http_400"
    assert "items[0].receiver Receiver is invalid." in excinfo.value.message


def test_bad_credentials_are_not_configured(respx_mock):
    respx_mock.post(f"{BASE}/v1/oauth2/token").mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))

    with pytest.raises(ProviderNotConfigured):
        get_provider("paypal").submit_batch("payout-batch:7", items())


def test_already_used_sender_batch_id_reads_the_existing_batch(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/payments/payouts").mock(
        return_value=httpx.Response(
            400,
            json={
                "name": "USER_BUSINESS_ERROR",
                "message": "User business error.",
                "details": [{
                    "field": "SENDER_BATCH_ID",
                    "issue": "Batch with given sender_batch_id already exists",
                    "link": [{"href": "https://api.sandbox.paypal.com/v1/payments/payouts/ORIG42", "rel": "self",
                              "method": "GET"}],
                }],
            },
        )
    )
    existing = respx_mock.get(f"{BASE}/v1/payments/payouts/ORIG42").mock(
        return_value=httpx.Response(200, json=batch_body("ORIG42", {"payout:1": "SUCCESS"}))
    )

    results = get_provider("paypal").submit_batch("payout-batch:7", items())

    assert existing.call_count == 1
    assert dict(existing.calls.last.request.url.params) == {"page": "1", "page_size": "1000", "total_required": "true"}
    assert [(r.reference, r.status, r.provider_id, r.provider_batch_id) for r in results] == [
        ("payout:1", PayoutStatus.PAID, "ITEM-payout:1", "ORIG42"),
        # Not in the original batch: PayPal will never pay it under this sender_batch_id.
        ("payout:2", PayoutStatus.UNKNOWN, None, "ORIG42"),
    ]


def test_already_used_link_to_a_foreign_host_is_not_followed(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/payments/payouts").mock(
        return_value=httpx.Response(
            400,
            json={"name": "USER_BUSINESS_ERROR", "details": [{
                "field": "SENDER_BATCH_ID", "issue": "Batch with given sender_batch_id already exists",
                "link": [{"href": "https://evil.example.com/v1/payments/payouts/X", "rel": "self"}]}]},
        )
    )

    results = get_provider("paypal").submit_batch("payout-batch:7", items())

    assert {r.status for r in results} == {PayoutStatus.UNKNOWN}


def test_fetch_status_follows_pages(respx_mock, token_route):
    first = batch_body("B1", {"payout:1": "SUCCESS"})
    first["links"] = [{"rel": "next", "href": f"{BASE}/v1/payments/payouts/B1?page=2"}]
    respx_mock.get(f"{BASE}/v1/payments/payouts/B1", params={"page": "1"}).mock(
        return_value=httpx.Response(200, json=first)
    )
    respx_mock.get(f"{BASE}/v1/payments/payouts/B1", params={"page": "2"}).mock(
        return_value=httpx.Response(200, json=batch_body("B1", {"payout:2": "FAILED"}))
    )
    batch_items = [PayoutItem(reference=item.reference, amount_minor=item.amount_minor, currency=item.currency,
                              recipient=item.recipient, provider_batch_id="B1") for item in items()]

    results = get_provider("paypal").fetch_status("payout-batch:7", batch_items)

    assert [(r.reference, r.status, r.provider_status, r.error) for r in results] == [
        ("payout:1", PayoutStatus.PAID, "SUCCESS", None),
        ("payout:2", PayoutStatus.FAILED, "FAILED", "No account."),
    ]


def test_fetch_status_without_batch_id_is_unknown_and_calls_nothing(respx_mock):
    results = get_provider("paypal").fetch_status("payout-batch:7", items())

    assert [r.status for r in results] == [PayoutStatus.UNKNOWN, PayoutStatus.UNKNOWN]
    assert respx_mock.calls.call_count == 0


@pytest.mark.parametrize(
    ("transaction_status", "expected"),
    [("SUCCESS", "paid"), ("FAILED", "failed"), ("RETURNED", "failed"), ("BLOCKED", "failed"),
     ("REFUNDED", "failed"), ("REVERSED", "failed"), ("PENDING", "pending"), ("UNCLAIMED", "pending"),
     ("ONHOLD", "pending"), ("SOMETHING_NEW", "unknown")],
)
def test_item_status_mapping(transaction_status, expected):
    assert map_item_status(transaction_status) == expected


def test_status_table_covers_every_documented_item_status():
    documented = {"SUCCESS", "FAILED", "PENDING", "UNCLAIMED", "RETURNED", "ONHOLD", "BLOCKED", "REFUNDED", "REVERSED"}
    assert documented <= set(ITEM_STATUS)


def test_sender_batch_id_depends_only_on_the_batch():
    assert sender_batch_id_for("payout-batch:7") == "payout-batch:7:paypal"


# -- webhooks --------------------------------------------------------------------------------------

WEBHOOK_HEADERS = {
    "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    "PAYPAL-CERT-URL": "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42",
    "PAYPAL-TRANSMISSION-ID": "103e3700-8b0c-11ee-9c43-5d6d0b3b9f2d",
    "PAYPAL-TRANSMISSION-SIG": "c2lnbmF0dXJl",
    "PAYPAL-TRANSMISSION-TIME": "2025-03-03T10:00:00Z",
}


def item_event(event_type: str, status: str) -> dict:
    return {
        "id": "WH-7Y7254563A4550640-11V2185806837105M",
        "event_type": event_type,
        "resource_type": "payouts_item",
        "resource": {
            "payout_item_id": "8AELMXH8UB2P8",
            "transaction_status": status,
            "payout_batch_id": "BATCH123",
            "payout_item": {"sender_item_id": "payout:1", "receiver": "ann@example.com"},
        },
    }


@pytest.mark.parametrize(
    ("event_type", "transaction_status", "expected"),
    [("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", "SUCCESS", "paid"), ("PAYMENT.PAYOUTS-ITEM.FAILED", "FAILED", "failed"),
     ("PAYMENT.PAYOUTS-ITEM.RETURNED", "RETURNED", "failed"), ("PAYMENT.PAYOUTS-ITEM.BLOCKED", "BLOCKED", "failed"),
     ("PAYMENT.PAYOUTS-ITEM.CANCELED", "RETURNED", "failed"), ("PAYMENT.PAYOUTS-ITEM.REFUNDED", "REFUNDED", "failed"),
     ("PAYMENT.PAYOUTS-ITEM.HELD", "ONHOLD", "pending"), ("PAYMENT.PAYOUTS-ITEM.UNCLAIMED", "UNCLAIMED", "pending")],
)
def test_verified_item_webhook_becomes_an_event(respx_mock, token_route, event_type, transaction_status, expected):
    verify = respx_mock.post(f"{BASE}/v1/notifications/verify-webhook-signature").mock(
        return_value=httpx.Response(200, json={"verification_status": "SUCCESS"})
    )
    event = item_event(event_type, transaction_status)
    body = json.dumps(event).encode()

    events = get_provider("paypal").parse_webhook(WEBHOOK_HEADERS, body)

    assert json.loads(verify.calls.last.request.content) == {
        "auth_algo": "SHA256withRSA",
        "cert_url": WEBHOOK_HEADERS["PAYPAL-CERT-URL"],
        "transmission_id": WEBHOOK_HEADERS["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": "c2lnbmF0dXJl",
        "transmission_time": "2025-03-03T10:00:00Z",
        "webhook_id": "WH-ID-1",
        "webhook_event": event,
    }
    assert [(e.provider_event_id, e.event_type, e.reference, e.provider_id, e.status, e.provider_batch_id)
            for e in events] == [
        ("WH-7Y7254563A4550640-11V2185806837105M", event_type, "payout:1", "8AELMXH8UB2P8", expected, "BATCH123")
    ]


def test_webhook_headers_are_case_insensitive(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/notifications/verify-webhook-signature").mock(
        return_value=httpx.Response(200, json={"verification_status": "SUCCESS"})
    )
    headers = {key.lower(): value for key, value in WEBHOOK_HEADERS.items()}

    events = get_provider("paypal").parse_webhook(
        headers, json.dumps(item_event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", "SUCCESS")).encode()
    )

    assert events[0].status == PayoutStatus.PAID


def test_bad_signature_is_rejected(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/notifications/verify-webhook-signature").mock(
        return_value=httpx.Response(200, json={"verification_status": "FAILURE"})
    )

    with pytest.raises(WebhookRejected) as excinfo:
        get_provider("paypal").parse_webhook(
            WEBHOOK_HEADERS, json.dumps(item_event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", "SUCCESS")).encode()
        )

    assert excinfo.value.code == "bad_signature"


def test_missing_signature_headers_are_rejected_without_calling_paypal(respx_mock):
    headers = {key: value for key, value in WEBHOOK_HEADERS.items() if key != "PAYPAL-TRANSMISSION-SIG"}

    with pytest.raises(WebhookRejected):
        get_provider("paypal").parse_webhook(headers, json.dumps(item_event("X", "SUCCESS")).encode())

    assert respx_mock.calls.call_count == 0


def test_cert_url_off_paypal_is_rejected(respx_mock):
    headers = {**WEBHOOK_HEADERS, "PAYPAL-CERT-URL": "https://evil.example.com/cert.pem"}

    with pytest.raises(WebhookRejected) as excinfo:
        get_provider("paypal").parse_webhook(headers, json.dumps(item_event("X", "SUCCESS")).encode())

    assert excinfo.value.code == "bad_cert_url"
    assert respx_mock.calls.call_count == 0


def test_garbage_body_is_rejected(respx_mock):
    with pytest.raises(WebhookRejected):
        get_provider("paypal").parse_webhook(WEBHOOK_HEADERS, b"not json")


def test_verification_outage_is_unavailable(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/notifications/verify-webhook-signature").mock(return_value=httpx.Response(502))

    with pytest.raises(ProviderUnavailable):
        get_provider("paypal").parse_webhook(
            WEBHOOK_HEADERS, json.dumps(item_event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", "SUCCESS")).encode()
        )


def test_webhooks_need_a_webhook_id(settings, respx_mock):
    settings.PAYPAL_WEBHOOK_ID = ""

    with pytest.raises(ProviderNotConfigured):
        get_provider("paypal").parse_webhook(WEBHOOK_HEADERS, json.dumps(item_event("X", "SUCCESS")).encode())


def test_batch_denied_event_has_no_reference(respx_mock, token_route):
    respx_mock.post(f"{BASE}/v1/notifications/verify-webhook-signature").mock(
        return_value=httpx.Response(200, json={"verification_status": "SUCCESS"})
    )
    event = {"id": "WH-B", "event_type": "PAYMENT.PAYOUTSBATCH.DENIED",
             "resource": {"batch_header": {"payout_batch_id": "BATCH123", "batch_status": "DENIED"}}}

    (parsed,) = get_provider("paypal").parse_webhook(WEBHOOK_HEADERS, json.dumps(event).encode())

    assert (parsed.reference, parsed.provider_batch_id, parsed.status) == (None, "BATCH123", PayoutStatus.FAILED)


# -- recipients and configuration ------------------------------------------------------------------

def test_validate_recipient_normalizes_email():
    assert PayPalProvider.from_settings().validate_recipient({"email": " Ann@Example.COM "}) == {
        "email": "ann@example.com"
    }


def test_validate_recipient_names_the_field():
    with pytest.raises(ValidationError) as excinfo:
        PayPalProvider.from_settings().validate_recipient({"email": "not-an-email"})

    assert list(excinfo.value.message_dict) == ["details.email"]


def test_missing_credentials_say_which_settings(settings):
    settings.PAYPAL_CLIENT_SECRET = ""

    with pytest.raises(ProviderNotConfigured, match="PAYPAL_CLIENT_SECRET"):
        get_provider("paypal")
