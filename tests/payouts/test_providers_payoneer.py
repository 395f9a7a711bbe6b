"""Payoneer mass payouts provider: request shapes, status-before-resubmit, errors, callbacks."""

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
from payouts.providers.payoneer import map_status

BASE = "https://api.sandbox.payoneer.com"
PROGRAM = f"{BASE}/v4/programs/100086"


@pytest.fixture(autouse=True)
def payoneer_settings(settings):
    settings.PAYONEER_API_BASE = BASE
    settings.PAYONEER_PROGRAM_ID = "100086"
    settings.PAYONEER_TOKEN = "tok_payoneer"
    settings.PAYONEER_WEBHOOK_SECRET = "callback-secret"
    return settings


def items() -> list[PayoutItem]:
    return [
        PayoutItem(reference="payout:1", amount_minor=1250, currency="USD", recipient={"payee_id": "affiliate-1"},
                   note="Commissions March"),
        PayoutItem(reference="payout:2", amount_minor=7, currency="USD", recipient={"payee_id": "affiliate-2"}),
    ]


def status_route(respx_mock, reference: str, response: httpx.Response):
    return respx_mock.get(f"{PROGRAM}/payouts/{reference.replace(':', '%3A')}/status").mock(return_value=response)


def test_first_attempt_posts_the_documented_body(respx_mock):
    route = respx_mock.post(f"{PROGRAM}/masspayouts").mock(
        return_value=httpx.Response(200, json={"result": "Payments Created"})
    )

    results = get_provider("payoneer").submit_batch("payout-batch:7", items(), first_attempt=True)

    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer tok_payoneer"
    assert request.headers["Content-Type"] == "application/json"
    # Amounts are exact decimal numbers in the JSON text, never floats.
    assert request.content == (
        b'{"Payments":[{"client_reference_id":"payout:1","payee_id":"affiliate-1","amount":12.50,'
        b'"currency":"USD","description":"Commissions March"},{"client_reference_id":"payout:2",'
        b'"payee_id":"affiliate-2","amount":0.07,"currency":"USD","description":"payout-batch:7"}]}'
    )
    assert [(r.reference, r.status) for r in results] == [
        ("payout:1", PayoutStatus.SUBMITTED), ("payout:2", PayoutStatus.SUBMITTED)
    ]


def test_resubmit_asks_status_first_and_sends_only_unknown_items(respx_mock):
    known = status_route(respx_mock, "payout:1", httpx.Response(
        200, json={"result": {"status": "Transferred", "payout_id": "PO-1", "amount": 12.50, "currency": "USD"}}
    ))
    unknown = status_route(respx_mock, "payout:2", httpx.Response(404, json={"error": "Payout not found", "code": 2306}))
    post = respx_mock.post(f"{PROGRAM}/masspayouts").mock(return_value=httpx.Response(200, json={"result": "ok"}))

    results = get_provider("payoneer").submit_batch("payout-batch:7", items())

    assert known.call_count == unknown.call_count == 1
    assert [p["client_reference_id"] for p in json.loads(post.calls.last.request.content)["Payments"]] == ["payout:2"]
    assert [(r.reference, r.status, r.provider_id) for r in results] == [
        ("payout:1", PayoutStatus.PAID, "PO-1"), ("payout:2", PayoutStatus.SUBMITTED, None)
    ]


def test_resubmit_of_known_items_sends_nothing(respx_mock):
    for reference in ("payout:1", "payout:2"):
        status_route(respx_mock, reference, httpx.Response(200, json={"result": {"status": "Pending"}}))

    results = get_provider("payoneer").submit_batch("payout-batch:7", items())

    assert [r.status for r in results] == [PayoutStatus.PENDING, PayoutStatus.PENDING]
    assert respx_mock.calls.call_count == 2  # the two status GETs, no POST


def test_retry_after_5xx_sends_the_same_body(respx_mock):
    post = respx_mock.post(f"{PROGRAM}/masspayouts").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json={"result": "ok"})]
    )
    provider = get_provider("payoneer")

    with pytest.raises(ProviderUnavailable):
        provider.submit_batch("payout-batch:7", items(), first_attempt=True)
    provider.submit_batch("payout-batch:7", items(), first_attempt=True)

    assert post.calls[0].request.content == post.calls[1].request.content


def test_batch_validation_error_rejects_all(respx_mock):
    respx_mock.post(f"{PROGRAM}/masspayouts").mock(
        return_value=httpx.Response(400, json={"error": "Invalid payee", "description": "Payee affiliate-2 not active"})
    )

    with pytest.raises(ProviderRejected, match="Payee affiliate-2 not active"):
        get_provider("payoneer").submit_batch("payout-batch:7", items(), first_attempt=True)


def test_timeout_is_unavailable(respx_mock):
    respx_mock.post(f"{PROGRAM}/masspayouts").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(ProviderUnavailable):
        get_provider("payoneer").submit_batch("payout-batch:7", items(), first_attempt=True)


def test_fetch_status(respx_mock):
    status_route(respx_mock, "payout:1", httpx.Response(
        200, json={"result": {"status": "Cancelled", "status_description": "Payee inactive"}}
    ))
    status_route(respx_mock, "payout:2", httpx.Response(404, json={"code": 2306}))

    results = get_provider("payoneer").fetch_status("payout-batch:7", items())

    assert [(r.reference, r.status, r.provider_status, r.error) for r in results] == [
        ("payout:1", PayoutStatus.FAILED, "Cancelled", "Payee inactive"),
        ("payout:2", PayoutStatus.UNKNOWN, "not_found", "Payoneer does not know this client_reference_id."),
    ]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Transferred", "paid"), ("COMPLETED", "paid"), ("Pending", "pending"), ("In Process", "pending"),
     ("pending_approval", "pending"), ("Cancelled", "failed"), ("Canceled", "failed"), ("Failed", "failed"),
     ("Declined", "failed"), ("Returned", "failed"), ("Mystery", "unknown"), ("", "unknown")],
)
def test_status_mapping(word, expected):
    assert map_status(word) == expected


def test_registration_link(respx_mock):
    route = respx_mock.post(f"{PROGRAM}/payees/registration-link").mock(
        return_value=httpx.Response(200, json={"result": {"registration_link": "https://payouts.sandbox.payoneer.com/r/abc"}})
    )

    link = get_provider("payoneer").onboarding_link(payee_id="affiliate-1", redirect_url="https://net.example.com/portal/")

    assert json.loads(route.calls.last.request.content) == {
        "payee_id": "affiliate-1", "redirect_url": "https://net.example.com/portal/"
    }
    assert (link.url, link.account_id) == ("https://payouts.sandbox.payoneer.com/r/abc", "affiliate-1")


@pytest.mark.parametrize(("code", "expected"), [(1, "active"), (0, "pending"), (99, "inactive"), (5, "unknown")])
def test_payee_status(respx_mock, code, expected):
    respx_mock.get(f"{PROGRAM}/payees/affiliate-1/status").mock(
        return_value=httpx.Response(200, json={"result": {"status": {"type": code, "description": "x"}}})
    )

    assert get_provider("payoneer").payee_status(payee_id="affiliate-1") == expected


def test_callback_with_the_secret_is_parsed():
    body = b"PaymentRequestAccepted=true&client_reference_id=payout%3A1&payeeid=affiliate-1&token=callback-secret"

    (event,) = get_provider("payoneer").parse_webhook({}, body)

    assert (event.reference, event.event_type, event.status, event.detail) == (
        "payout:1", "paymentrequestaccepted", PayoutStatus.PENDING, {"payee_id": "affiliate-1"}
    )
    assert "token" not in event.raw


def test_same_callback_twice_has_the_same_event_id():
    body = b"CancelPayout=true&client_reference_id=payout%3A1&token=callback-secret"
    provider = get_provider("payoneer")

    first, second = provider.parse_webhook({}, body)[0], provider.parse_webhook({}, body)[0]

    assert first.provider_event_id == second.provider_event_id
    assert first.status == PayoutStatus.FAILED


def test_callback_secret_may_come_in_a_header():
    (event,) = get_provider("payoneer").parse_webhook(
        {"X-Payoneer-Token": "callback-secret"}, b"CancelPayout=true&client_reference_id=payout%3A1"
    )

    assert event.reference == "payout:1"


@pytest.mark.parametrize("body", [b"CancelPayout=true&token=wrong", b"CancelPayout=true", b"\xff\xfe"])
def test_callback_without_the_secret_is_rejected(body):
    with pytest.raises(WebhookRejected):
        get_provider("payoneer").parse_webhook({}, body)


def test_callbacks_need_a_configured_secret(settings):
    settings.PAYONEER_WEBHOOK_SECRET = ""

    with pytest.raises(ProviderNotConfigured):
        get_provider("payoneer").parse_webhook({}, b"token=")


def test_validate_recipient():
    provider = get_provider("payoneer")

    assert provider.validate_recipient({"payee_id": " affiliate-1 "}) == {"payee_id": "affiliate-1"}
    with pytest.raises(ValidationError) as excinfo:
        provider.validate_recipient({"payee_id": "has spaces/and slashes"})
    assert list(excinfo.value.message_dict) == ["details.payee_id"]


def test_missing_settings(settings):
    settings.PAYONEER_TOKEN = ""

    with pytest.raises(ProviderNotConfigured, match="PAYONEER_TOKEN"):
        get_provider("payoneer")
