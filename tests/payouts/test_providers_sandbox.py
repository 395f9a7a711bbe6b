"""Sandbox provider (deterministic behaviours, idempotency, fault injection) and the registry."""

import pytest
from django.core.exceptions import ValidationError

from payouts.providers import (
    METHODS,
    PayoutItem,
    PayoutProvider,
    PayoutStatus,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    WebhookRejected,
    get_provider,
    is_configured,
    sandbox,
)


@pytest.fixture(autouse=True)
def _clean_sandbox():
    sandbox.reset()
    yield
    sandbox.reset()


def item(reference: str, amount_minor: int = 1000, behaviour: str | None = None) -> PayoutItem:
    recipient = {"behaviour": behaviour} if behaviour else {}
    return PayoutItem(reference=reference, amount_minor=amount_minor, currency="EUR", recipient=recipient)


def test_behaviour_on_command_and_by_amount():
    items = [item("p:1", behaviour="succeed"), item("p:2", behaviour="fail"), item("p:3", behaviour="delay"),
             item("p:4", amount_minor=1013), item("p:5", amount_minor=1042), item("p:6", amount_minor=1000),
             item("p:7", amount_minor=1013, behaviour="succeed")]

    results = get_provider("sandbox").submit_batch("payout-batch:1", items)

    assert [(r.reference, r.status) for r in results] == [
        ("p:1", "paid"), ("p:2", "failed"), ("p:3", "pending"), ("p:4", "failed"), ("p:5", "pending"),
        ("p:6", "paid"), ("p:7", "paid"),
    ]
    assert results[1].error == "Sandbox: told to fail."


def test_resubmission_moves_money_once_and_counts_calls():
    provider = get_provider("sandbox")

    first = provider.submit_batch("payout-batch:1", [item("p:1")])
    second = provider.submit_batch("payout-batch:1", [item("p:1")])

    assert first == second
    assert (sandbox.calls("p:1"), sandbox.effects("p:1")) == (2, 1)


def test_failed_items_move_no_money():
    get_provider("sandbox").submit_batch("payout-batch:1", [item("p:1", behaviour="fail")])

    assert sandbox.effects("p:1") == 0


def test_delayed_items_pay_after_polls():
    provider = get_provider("sandbox")
    provider.submit_batch("payout-batch:1", [item("p:1", behaviour="delay")])

    polls = [provider.fetch_status("payout-batch:1", [item("p:1", behaviour="delay")])[0].status for _ in range(3)]

    assert polls == [PayoutStatus.PENDING, PayoutStatus.PAID, PayoutStatus.PAID]


def test_advance_settles_delayed_items():
    provider = get_provider("sandbox")
    provider.submit_batch("payout-batch:1", [item("p:1", behaviour="delay"), item("p:2", behaviour="delay")])

    assert sandbox.advance() == 2
    assert [r.status for r in provider.fetch_status("payout-batch:1", [item("p:1"), item("p:2")])] == ["paid", "paid"]
    assert sandbox.advance() == 0


def test_unknown_reference_is_unknown():
    (result,) = get_provider("sandbox").fetch_status("payout-batch:1", [item("p:never")])

    assert (result.status, result.provider_status) == (PayoutStatus.UNKNOWN, "not_found")


def test_fault_unavailable_after_commit_then_retry_is_exactly_once():
    provider = get_provider("sandbox")
    sandbox.set_fault("unavailable_after", every=1)

    with pytest.raises(ProviderUnavailable):
        provider.submit_batch("payout-batch:1", [item("p:1")])
    sandbox.set_fault("none")
    (result,) = provider.submit_batch("payout-batch:1", [item("p:1")])

    assert result.status == PayoutStatus.PAID
    assert (sandbox.calls("p:1"), sandbox.effects("p:1")) == (2, 1)


def test_fault_every_third_call():
    provider = get_provider("sandbox")
    sandbox.set_fault("unavailable_before", every=3)
    outcomes = []
    for number in range(6):
        try:
            provider.submit_batch("payout-batch:1", [item(f"p:{number}")])
            outcomes.append("ok")
        except ProviderUnavailable:
            outcomes.append("503")

    assert outcomes == ["ok", "ok", "503", "ok", "ok", "503"]
    assert (sandbox.effects("p:2"), sandbox.effects("p:5")) == (0, 0)


def test_fault_reject():
    sandbox.set_fault("reject", every=1)

    with pytest.raises(ProviderRejected):
        get_provider("sandbox").submit_batch("payout-batch:1", [item("p:1")])


def test_signed_webhook_parses_and_bad_signature_is_rejected():
    get_provider("sandbox").submit_batch("payout-batch:1", [item("p:1", behaviour="delay")])
    headers, body = sandbox.webhook_body(event_id="evt-1", reference="p:1", status="paid")

    (event,) = get_provider("sandbox").parse_webhook(headers, body)

    assert (event.provider_event_id, event.reference, event.status) == ("evt-1", "p:1", PayoutStatus.PAID)
    assert event.provider_id.startswith("sbx_")
    with pytest.raises(WebhookRejected):
        get_provider("sandbox").parse_webhook({"X-Sandbox-Signature": "0" * 64}, body)


def test_validate_recipient():
    provider = get_provider("sandbox")

    assert provider.validate_recipient({}) == {"behaviour": "auto", "label": ""}
    with pytest.raises(ValidationError) as excinfo:
        provider.validate_recipient({"behaviour": "explode"})
    assert list(excinfo.value.message_dict) == ["details.behaviour"]


# -- registry --------------------------------------------------------------------------------------

@pytest.fixture
def configured(settings):
    settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET = "id", "secret"
    settings.PAYONEER_PROGRAM_ID, settings.PAYONEER_TOKEN = "1", "tok"
    settings.STRIPE_API_KEY = "sk_test_1"
    return settings


def test_every_method_has_a_provider_with_the_interface(configured):
    providers = {method: get_provider(method) for method in METHODS}

    assert {method: provider.name for method, provider in providers.items()} == {
        "paypal": "paypal", "payoneer": "payoneer", "stripe": "stripe", "bank": "bank", "sandbox": "sandbox"
    }
    assert all(isinstance(provider, PayoutProvider) for provider in providers.values())


@pytest.mark.parametrize(
    ("method", "setting", "message"),
    [("paypal", "PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_ID"), ("payoneer", "PAYONEER_PROGRAM_ID", "PAYONEER_PROGRAM_ID"),
     ("stripe", "STRIPE_API_KEY", "STRIPE_API_KEY")],
)
def test_missing_credentials(configured, method, setting, message):
    setattr(configured, setting, "")

    with pytest.raises(ProviderNotConfigured, match=message):
        get_provider(method)
    assert is_configured(method) is False
    assert is_configured("sandbox") is True


def test_unknown_method():
    with pytest.raises(ProviderNotConfigured, match="Unknown payout method 'cheque'"):
        get_provider("cheque")
