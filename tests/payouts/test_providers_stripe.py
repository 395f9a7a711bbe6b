"""Stripe Connect provider through the real stripe SDK over httpx, mocked with respx."""

import json
import time
from urllib.parse import parse_qs

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
from payouts.providers.stripe_connect import account_status, signed_headers, transfer_idempotency_key

# stripe-python hands httpx raw bytes as data=…; httpx warns, the request is right.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

API = "https://api.stripe.com"
SECRET = "whsec_test_secret"


@pytest.fixture(autouse=True)
def stripe_settings(settings):
    settings.STRIPE_API_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return settings


def item(reference: str = "payout:1", amount_minor: int = 1250, account: str = "acct_1AffiliateA") -> PayoutItem:
    return PayoutItem(reference=reference, amount_minor=amount_minor, currency="EUR",
                      recipient={"account_id": account}, note="March")


def transfer(reference: str, transfer_id: str, **extra) -> dict:
    return {"id": transfer_id, "object": "transfer", "amount": 1250, "currency": "eur",
            "destination": "acct_1AffiliateA", "transfer_group": "payout-batch:7",
            "metadata": {"reference": reference}, "reversed": False, "amount_reversed": 0, **extra}


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


def test_transfer_request_shape_and_idempotency_key(respx_mock):
    route = respx_mock.post(f"{API}/v1/transfers").mock(
        return_value=httpx.Response(200, json=transfer("payout:1", "tr_1"))
    )

    (result,) = get_provider("stripe").submit_batch("payout-batch:7", [item()])

    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "payout-item:payout:1:v1"
    assert request.headers["Authorization"] == "Bearer sk_test_123"
    assert form(request) == {
        "amount": ["1250"],
        "currency": ["eur"],
        "destination": ["acct_1AffiliateA"],
        "transfer_group": ["payout-batch:7"],
        "metadata[reference]": ["payout:1"],
    }
    assert (result.reference, result.provider_id, result.status, result.provider_status) == (
        "payout:1", "tr_1", PayoutStatus.PAID, "created"
    )


def test_a_retry_sends_the_same_key_and_body(respx_mock):
    route = respx_mock.post(f"{API}/v1/transfers").mock(
        side_effect=[httpx.Response(500, json={"error": {"type": "api_error", "message": "boom"}}),
                     httpx.Response(200, json=transfer("payout:1", "tr_1"))]
    )
    provider = get_provider("stripe")

    with pytest.raises(ProviderUnavailable):
        provider.submit_batch("payout-batch:7", [item()])
    provider.submit_batch("payout-batch:7", [item()])

    first, second = (call.request for call in route.calls)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "payout-item:payout:1:v1"
    assert first.content == second.content


def test_sdk_does_not_retry_on_its_own(respx_mock):
    route = respx_mock.post(f"{API}/v1/transfers").mock(return_value=httpx.Response(503, json={"error": {}}))

    with pytest.raises(ProviderUnavailable):
        get_provider("stripe").submit_batch("payout-batch:7", [item()])

    assert route.call_count == 1


@pytest.mark.parametrize(
    "side_effect",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
     httpx.Response(429, json={"error": {"type": "rate_limit_error", "message": "slow down"}}),
     httpx.Response(409, json={"error": {"type": "api_error", "message": "concurrent request"}})],
)
def test_transient_errors_are_unavailable(respx_mock, side_effect):
    respx_mock.post(f"{API}/v1/transfers").mock(side_effect=[side_effect])

    with pytest.raises(ProviderUnavailable):
        get_provider("stripe").submit_batch("payout-batch:7", [item()])


def test_invalid_request_fails_only_that_item(respx_mock):
    def answer(request: httpx.Request) -> httpx.Response:
        if form(request)["destination"] == ["acct_1Closed000"]:
            return httpx.Response(400, json={"error": {"type": "invalid_request_error", "code": "account_invalid",
                                                       "message": "No such destination.", "param": "destination"}})
        return httpx.Response(200, json=transfer(form(request)["metadata[reference]"][0], "tr_2"))

    respx_mock.post(f"{API}/v1/transfers").mock(side_effect=answer)

    results = get_provider("stripe").submit_batch(
        "payout-batch:7", [item("payout:1", account="acct_1Closed000"), item("payout:2")]
    )

    assert [(r.reference, r.status, r.provider_status) for r in results] == [
        ("payout:1", PayoutStatus.FAILED, "account_invalid"),
        ("payout:2", PayoutStatus.PAID, "created"),
    ]
    assert results[0].error == "Stripe create transfer: No such destination."


def test_idempotency_mismatch_stops_the_batch(respx_mock):
    respx_mock.post(f"{API}/v1/transfers").mock(
        return_value=httpx.Response(400, json={"error": {"type": "idempotency_error",
                                                         "message": "Keys can only be used with the same parameters."}})
    )

    with pytest.raises(ProviderRejected) as excinfo:
        get_provider("stripe").submit_batch("payout-batch:7", [item()])

    assert excinfo.value.code == "idempotency_error"


def test_bad_api_key_is_not_configured(respx_mock):
    respx_mock.post(f"{API}/v1/transfers").mock(
        return_value=httpx.Response(401, json={"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
    )

    with pytest.raises(ProviderNotConfigured):
        get_provider("stripe").submit_batch("payout-batch:7", [item()])


def test_fetch_status_lists_the_transfer_group(respx_mock):
    route = respx_mock.get(f"{API}/v1/transfers").mock(
        return_value=httpx.Response(200, json={
            "object": "list", "url": "/v1/transfers", "has_more": False,
            "data": [transfer("payout:1", "tr_1"), transfer("payout:2", "tr_2", reversed=True, amount_reversed=1250)],
        })
    )

    results = get_provider("stripe").fetch_status(
        "payout-batch:7", [item("payout:1"), item("payout:2"), item("payout:3")]
    )

    assert dict(route.calls.last.request.url.params) == {"transfer_group": "payout-batch:7", "limit": "100"}
    assert [(r.reference, r.provider_id, r.status, r.provider_status) for r in results] == [
        ("payout:1", "tr_1", PayoutStatus.PAID, "created"),
        ("payout:2", "tr_2", PayoutStatus.FAILED, "reversed"),
        ("payout:3", None, PayoutStatus.UNKNOWN, "not_found"),
    ]


def test_onboarding_creates_an_express_account_and_a_link(respx_mock):
    accounts = respx_mock.post(f"{API}/v1/accounts").mock(
        return_value=httpx.Response(200, json={"id": "acct_1NewExpress", "object": "account", "type": "express"})
    )
    links = respx_mock.post(f"{API}/v1/account_links").mock(
        return_value=httpx.Response(200, json={"object": "account_link", "url": "https://connect.stripe.com/setup/e/x"})
    )

    link = get_provider("stripe").onboarding_link(
        reference="affiliate:9", email="ann@example.com", country="de",
        refresh_url="https://net.example.com/portal/payouts/stripe/refresh/",
        return_url="https://net.example.com/portal/payouts/stripe/return/",
    )

    assert (link.account_id, link.url) == ("acct_1NewExpress", "https://connect.stripe.com/setup/e/x")
    assert accounts.calls.last.request.headers["Idempotency-Key"] == "connect-account:affiliate:9:v1"
    assert form(accounts.calls.last.request) == {
        "type": ["express"], "capabilities[transfers][requested]": ["true"], "metadata[reference]": ["affiliate:9"],
        "email": ["ann@example.com"], "country": ["DE"],
    }
    assert form(links.calls.last.request) == {
        "account": ["acct_1NewExpress"], "type": ["account_onboarding"],
        "refresh_url": ["https://net.example.com/portal/payouts/stripe/refresh/"],
        "return_url": ["https://net.example.com/portal/payouts/stripe/return/"],
    }


def test_onboarding_reuses_a_stored_account(respx_mock):
    respx_mock.post(f"{API}/v1/account_links").mock(
        return_value=httpx.Response(200, json={"object": "account_link", "url": "https://connect.stripe.com/setup/e/y"})
    )

    link = get_provider("stripe").onboarding_link(
        reference="affiliate:9", account_id="acct_1Existing", refresh_url="https://a.example/r", return_url="https://a.example/b"
    )

    assert link.account_id == "acct_1Existing"
    assert respx_mock.calls.call_count == 1


# -- webhooks --------------------------------------------------------------------------------------

def event(event_type: str, obj: dict, event_id: str = "evt_1") -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}).encode()


@pytest.mark.parametrize(
    ("event_type", "obj", "status", "word"),
    [("transfer.created", transfer("payout:1", "tr_1"), "paid", "created"),
     ("transfer.updated", transfer("payout:1", "tr_1"), "paid", "created"),
     ("transfer.reversed", transfer("payout:1", "tr_1", reversed=True, amount_reversed=1250), "failed", "reversed"),
     ("transfer.reversed", transfer("payout:1", "tr_1", amount_reversed=250), "paid", "partially_reversed")],
)
def test_signed_transfer_events_parse(event_type, obj, status, word):
    body = event(event_type, obj)

    (parsed,) = get_provider("stripe").parse_webhook(signed_headers(body, SECRET), body)

    assert (parsed.provider_event_id, parsed.event_type, parsed.reference, parsed.provider_id, parsed.status,
            parsed.provider_status, parsed.provider_batch_id) == (
        "evt_1", event_type, "payout:1", "tr_1", status, word, "payout-batch:7"
    )


def test_hand_computed_hmac_is_accepted():
    import hashlib
    import hmac

    body = event("transfer.created", transfer("payout:1", "tr_1"))
    timestamp = int(time.time())
    signature = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()

    (parsed,) = get_provider("stripe").parse_webhook({"stripe-signature": f"t={timestamp},v1={signature}"}, body)

    assert parsed.status == PayoutStatus.PAID


def test_account_updated_reports_payability():
    account = {"id": "acct_1AffiliateA", "object": "account", "charges_enabled": False, "payouts_enabled": True,
               "details_submitted": True, "capabilities": {"transfers": "active"},
               "requirements": {"currently_due": [], "past_due": [], "disabled_reason": None},
               "metadata": {"reference": "affiliate:9"}}
    body = event("account.updated", account)

    (parsed,) = get_provider("stripe").parse_webhook(signed_headers(body, SECRET), body)

    assert parsed.provider_id == "acct_1AffiliateA"
    assert parsed.reference == "affiliate:9"
    assert parsed.detail == {
        "account_id": "acct_1AffiliateA", "charges_enabled": False, "payouts_enabled": True, "details_submitted": True,
        "transfers_capability": "active", "currently_due": [], "past_due": [], "disabled_reason": "", "ready": True,
    }


def test_account_with_requirements_is_not_ready():
    status = account_status({"id": "acct_1X", "payouts_enabled": False, "capabilities": {"transfers": "inactive"},
                             "requirements": {"currently_due": ["external_account"],
                                              "disabled_reason": "requirements.past_due"}})

    assert (status["ready"], status["currently_due"], status["disabled_reason"]) == (
        False, ["external_account"], "requirements.past_due"
    )


def test_unrelated_events_are_ignored():
    body = event("charge.succeeded", {"id": "ch_1"})

    assert get_provider("stripe").parse_webhook(signed_headers(body, SECRET), body) == []


def test_wrong_secret_is_rejected():
    body = event("transfer.created", transfer("payout:1", "tr_1"))

    with pytest.raises(WebhookRejected) as excinfo:
        get_provider("stripe").parse_webhook(signed_headers(body, "whsec_other"), body)

    assert excinfo.value.code == "bad_signature"


def test_tampered_body_is_rejected():
    body = event("transfer.created", transfer("payout:1", "tr_1"))
    headers = signed_headers(body, SECRET)

    with pytest.raises(WebhookRejected):
        get_provider("stripe").parse_webhook(headers, body.replace(b"payout:1", b"payout:2"))


def test_stale_signature_is_rejected():
    body = event("transfer.created", transfer("payout:1", "tr_1"))
    headers = signed_headers(body, SECRET, timestamp=int(time.time()) - 3600)

    with pytest.raises(WebhookRejected, match="tolerance"):
        get_provider("stripe").parse_webhook(headers, body)


def test_missing_signature_is_rejected():
    with pytest.raises(WebhookRejected):
        get_provider("stripe").parse_webhook({}, event("transfer.created", transfer("payout:1", "tr_1")))


def test_webhooks_need_the_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = event("transfer.created", transfer("payout:1", "tr_1"))

    with pytest.raises(ProviderNotConfigured, match="STRIPE_WEBHOOK_SECRET"):
        get_provider("stripe").parse_webhook(signed_headers(body, SECRET), body)


# -- recipients and configuration ------------------------------------------------------------------

def test_idempotency_key_is_deterministic():
    assert transfer_idempotency_key("payout:123") == "payout-item:payout:123:v1"


def test_validate_recipient():
    provider = get_provider("stripe")

    assert provider.validate_recipient({"account_id": "acct_1AffiliateA"}) == {"account_id": "acct_1AffiliateA"}
    with pytest.raises(ValidationError) as excinfo:
        provider.validate_recipient({"account_id": "cus_123"})
    assert list(excinfo.value.message_dict) == ["details.account_id"]


def test_missing_api_key(settings):
    settings.STRIPE_API_KEY = ""

    with pytest.raises(ProviderNotConfigured, match="STRIPE_API_KEY"):
        get_provider("stripe")
