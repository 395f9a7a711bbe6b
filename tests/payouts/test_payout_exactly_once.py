"""Fault injection: every affiliate is paid exactly once, keys never change, the ledger balances (L1, L8)."""

import contextlib
from datetime import timedelta

import pytest

from payouts import hooks, payout_services
from payouts.models import Payout, PayoutEvent, ProviderWebhookEvent
from payouts.providers import ProviderUnavailable, sandbox
from payouts.providers.sandbox import SandboxProvider
from tests import factories
from tests.payouts.payout_helpers import NOW, assert_ledger_sound, available, earn, profile

pytestmark = pytest.mark.django_db


def approved_batch(tenant, affiliates, *, behaviour="succeed", amount=6000):
    for affiliate in affiliates:
        profile(tenant, affiliate, details={"behaviour": behaviour})
        earn(tenant, amount, affiliate=affiliate)
    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch
    payout_services.approve_payout_batch(network=tenant.network, batch_id=batch.pk, actor=tenant.owner, now=NOW)
    return batch


def references(batch):
    return list(batch.payouts.order_by("pk").values_list("reference", flat=True))


def test_running_the_submit_task_twice_pays_once(tenant):
    batch = approved_batch(tenant, [tenant.affiliate])
    from payouts import tasks

    tasks.submit_payout_batch.delay(tenant.network.pk, batch.pk)
    tasks.submit_payout_batch.delay(tenant.network.pk, batch.pk)

    (ref,) = references(batch)
    assert (sandbox.calls(ref), sandbox.effects(ref)) == (1, 1)
    assert Payout.objects.get().status == Payout.Status.PAID
    batch.refresh_from_db()
    assert batch.status == "completed"
    assert available(tenant) == 0
    assert_ledger_sound(tenant.network)


def test_crash_after_submitting_committed_before_the_call_resends_after_a_key_check(tenant, monkeypatch):
    batch = approved_batch(tenant, [tenant.affiliate])
    original = SandboxProvider.submit_batch

    def killed(self, *args, **kwargs):
        raise SystemExit("worker killed before the request left")

    monkeypatch.setattr(SandboxProvider, "submit_batch", killed)
    with pytest.raises(SystemExit):
        payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    payout = Payout.objects.get()
    assert payout.status == Payout.Status.SUBMITTING and payout.attempts == 1
    monkeypatch.setattr(SandboxProvider, "submit_batch", original)

    # Within the lease nobody touches it (the first worker may still be running) ...
    payout_services.poll_payouts(network=tenant.network, now=NOW + timedelta(minutes=5))
    assert Payout.objects.get().status == Payout.Status.SUBMITTING
    # ... after it, the provider is asked by key (never seen) and only then is it sent.
    payout_services.poll_payouts(network=tenant.network, now=NOW + timedelta(minutes=11))

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID and payout.attempts == 2
    assert (sandbox.calls(payout.reference), sandbox.effects(payout.reference)) == (1, 1)
    assert_ledger_sound(tenant.network)


def test_crash_after_the_provider_paid_but_before_we_recorded_does_not_resend(tenant, monkeypatch):
    batch = approved_batch(tenant, [tenant.affiliate])
    original = SandboxProvider.submit_batch

    def paid_then_killed(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise SystemExit("worker killed while reading the answer")

    monkeypatch.setattr(SandboxProvider, "submit_batch", paid_then_killed)
    with pytest.raises(SystemExit):
        payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    monkeypatch.setattr(SandboxProvider, "submit_batch", original)

    payout_services.poll_payouts(network=tenant.network, now=NOW + timedelta(minutes=11))

    payout = Payout.objects.get()
    assert payout.status == Payout.Status.PAID
    assert (sandbox.calls(payout.reference), sandbox.effects(payout.reference)) == (1, 1)  # found by key
    assert_ledger_sound(tenant.network)


def test_provider_5xx_then_success(tenant):
    batch = approved_batch(tenant, [tenant.affiliate])
    sandbox.set_fault("unavailable_before", every=1)

    with pytest.raises(ProviderUnavailable):
        payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    assert Payout.objects.get().status == Payout.Status.SUBMITTING
    assert_ledger_sound(tenant.network)
    sandbox.reset()
    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)

    payout = Payout.objects.get()
    assert payout.status == Payout.Status.PAID
    assert (sandbox.calls(payout.reference), sandbox.effects(payout.reference)) == (2, 1)
    assert_ledger_sound(tenant.network)


def test_chaos_a_third_of_calls_fail_and_every_affiliate_is_paid_exactly_once(tenant, monkeypatch):
    affiliates = [tenant.affiliate] + [factories.AffiliateFactory(network=tenant.network) for _ in range(11)]
    batch = approved_batch(tenant, affiliates)
    refs_at_build = references(batch)
    ids = list(batch.payouts.order_by("pk").values_list("pk", flat=True))
    original = SandboxProvider.submit_batch
    kills = {"left": 2}

    def sometimes_killed(self, batch_reference, items, **kwargs):
        result = original(self, batch_reference, items, **kwargs)
        if kills["left"]:
            kills["left"] -= 1
            raise SystemExit("worker killed mid-batch")
        return result

    now = NOW
    for round_index, mode in enumerate(["unavailable_after", "unavailable_before", "reject", "none"]):
        sandbox.set_fault(mode, every=3)
        monkeypatch.setattr(SandboxProvider, "submit_batch", sometimes_killed if round_index == 0 else original)
        for _ in range(2):  # every per-payout task runs twice
            for payout_id in ids:
                with contextlib.suppress(ProviderUnavailable, SystemExit):
                    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=now,
                                                        payout_ids=[payout_id])
        now += timedelta(minutes=11)  # leases of killed workers run out
        payout_services.poll_payouts(network=tenant.network, now=now)
    sandbox.reset()
    payout_services.poll_payouts(network=tenant.network, now=now + timedelta(minutes=11))

    assert references(batch) == refs_at_build  # keys identical across retries
    for payout in Payout.objects.all():
        # rejected calls fail the payout (money back to the balance), never pay it
        assert payout.status in (Payout.Status.PAID, Payout.Status.FAILED)
        assert sandbox.effects(payout.reference) == (1 if payout.status == Payout.Status.PAID else 0)
    paid = Payout.objects.filter(status=Payout.Status.PAID).count()
    assert paid + Payout.objects.filter(status=Payout.Status.FAILED).count() == 12 and paid >= 8
    for affiliate in affiliates:
        failed = Payout.objects.filter(affiliate=affiliate, status=Payout.Status.FAILED).exists()
        assert available(tenant, affiliate) == (6000 if failed else 0)
    assert_ledger_sound(tenant.network)


def test_duplicate_webhooks_change_nothing(tenant, client):
    batch = approved_batch(tenant, [tenant.affiliate], behaviour="delay")
    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    payout = Payout.objects.get()
    assert payout.status == Payout.Status.SUBMITTED
    headers, body = sandbox.webhook_body(event_id="evt_1", reference=payout.reference, status="paid")

    answers = [client.post("/integrations/sandbox/", body, content_type="application/json",
                           headers=headers).json()["outcomes"] for _ in range(5)]

    assert answers == [["submitted -> paid"]] + [["duplicate"]] * 4
    assert ProviderWebhookEvent.objects.count() == 1
    assert PayoutEvent.objects.filter(to_status=Payout.Status.PAID).count() == 1
    assert sandbox.effects(payout.reference) == 1
    assert_ledger_sound(tenant.network)


def test_out_of_order_webhooks_keep_the_latest_truth(tenant, client):
    batch = approved_batch(tenant, [tenant.affiliate], behaviour="delay")
    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    payout = Payout.objects.get()

    def send(event_id, status):
        headers, body = sandbox.webhook_body(event_id=event_id, reference=payout.reference, status=status)
        return client.post("/integrations/sandbox/", body, content_type="application/json", headers=headers)

    assert send("evt_paid", "paid").json()["outcomes"] == ["submitted -> paid"]
    assert send("evt_pending_late", "pending").json()["outcomes"] == ["paid -> paid"]
    assert send("evt_submitted_late", "submitted").json()["outcomes"] == ["paid -> paid"]
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    # a failure after payment is a return: the money is owed to the affiliate again
    assert send("evt_failed", "failed").json()["outcomes"] == ["paid -> returned"]
    assert send("evt_paid_again", "paid").json()["outcomes"] == ["returned -> returned"]
    assert available(tenant) == 6000
    assert_ledger_sound(tenant.network)


def test_a_bad_signature_is_400_and_changes_nothing(tenant, client):
    batch = approved_batch(tenant, [tenant.affiliate], behaviour="delay")
    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    payout = Payout.objects.get()
    _, body = sandbox.webhook_body(event_id="evt_1", reference=payout.reference, status="paid")

    response = client.post("/integrations/sandbox/", body, content_type="application/json",
                           headers={"X-Sandbox-Signature": "0" * 64})

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_webhook"
    assert ProviderWebhookEvent.objects.count() == 0
    assert Payout.objects.get().status == Payout.Status.SUBMITTED


def test_failed_payouts_go_back_to_the_balance_with_the_reason(tenant):
    batch = approved_batch(tenant, [tenant.affiliate], behaviour="fail")

    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)

    payout = Payout.objects.get()
    assert (payout.status, payout.failure_reason) == (Payout.Status.FAILED, "Sandbox: told to fail.")
    assert available(tenant) == 6000
    assert_ledger_sound(tenant.network)


def test_settled_hooks_run_once_with_the_covered_conversions_and_retry_after_a_failure(tenant):
    calls = []
    broken = {"on": True}

    def hook(*, network, payout, conversion_ids):
        if broken["on"]:
            raise RuntimeError("tracking is down")
        calls.append((network.pk, payout.reference, conversion_ids))

    hooks.register_payout_settled(hook)
    try:
        profile(tenant)
        earn(tenant, 3000, key="conversion:11:approved")
        earn(tenant, 3000, key="conversion:12:approved")
        batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch
        payout_services.approve_payout_batch(network=tenant.network, batch_id=batch.pk, actor=tenant.owner)
        payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
        payout = Payout.objects.get()
        assert payout_services.run_settled_hooks(network=tenant.network, payout_id=payout.pk) is False
        broken["on"] = False

        payout_services.poll_payouts(network=tenant.network, now=NOW)
        payout_services.poll_payouts(network=tenant.network, now=NOW)
    finally:
        hooks.unregister_payout_settled(hook)

    assert calls == [(tenant.network.pk, payout.reference, [11, 12])]
