"""Building batches: thresholds, rollover, netting, holds, one batch per period, the command."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from network.models import Network
from payouts import payout_services
from payouts.models import Payout, PayoutBatch
from tests import factories
from tests.payouts.helpers import approve
from tests.payouts.payout_helpers import NOW, assert_ledger_sound, available, earn, profile, snapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("balance", "paid"), [(4999, False), (5000, True), (5001, True)])
def test_threshold_below_at_above_the_network_minimum(tenant, balance, paid):
    profile(tenant)
    earn(tenant, balance)

    result = payout_services.build_payout_batch(network=tenant.network, now=NOW)

    payouts = list(result.batch.payouts.values_list("amount_minor", flat=True))
    assert payouts == ([balance] if paid else [])
    assert available(tenant) == (0 if paid else balance)  # below: rolls over untouched
    assert_ledger_sound(tenant.network)


def test_a_personal_threshold_above_the_minimum_rolls_smaller_balances_over(tenant):
    profile(tenant, threshold="80.00")
    earn(tenant, 7000)

    first = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch
    earn(tenant, 1500, key="conversion:99:approved")
    second = payout_services.build_payout_batch(network=tenant.network, now=datetime(2026, 4, 15, tzinfo=UTC)).batch

    assert first.payouts.count() == 0
    assert list(second.payouts.values_list("amount_minor", flat=True)) == [8500]  # 70 rolled over + 15


def test_a_reversal_is_netted_before_the_threshold(tenant):
    profile(tenant)
    earn(tenant, 9000)
    posted = approve(tenant, key="conversion:5:approved", commission=2000, fee=0)
    from payouts import fees

    fees.post_reversal(network=tenant.network, original=posted, commission_minor=2000,
                       idempotency_key="conversion:5:reversal:1")
    earn(tenant, 1, key="conversion:6:approved")

    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch

    assert list(batch.payouts.values_list("amount_minor", flat=True)) == [9001]


def test_a_negative_balance_after_payout_is_netted_by_later_approvals(tenant):
    profile(tenant)
    posted = approve(tenant, key="conversion:1:approved", commission=6000, fee=0)
    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch
    payout_services.approve_payout_batch(network=tenant.network, batch_id=batch.pk, actor=tenant.owner)
    payout_services.submit_payout_batch(network=tenant.network, batch_id=batch.pk, now=NOW)
    from payouts import fees

    fees.post_reversal(network=tenant.network, original=posted, commission_minor=2000,
                       idempotency_key="conversion:1:reversal:1")
    assert available(tenant) == -2000
    earn(tenant, 6000, key="conversion:2:approved")

    april = payout_services.build_payout_batch(network=tenant.network, now=datetime(2026, 4, 15, tzinfo=UTC)).batch
    may = payout_services.build_payout_batch(network=tenant.network, now=datetime(2026, 5, 15, tzinfo=UTC)).batch

    assert april.payouts.count() == 0  # 40.00 net: below the 50.00 minimum
    assert may.payouts.count() == 0
    earn(tenant, 1000, key="conversion:3:approved")
    june = payout_services.build_payout_batch(network=tenant.network, now=datetime(2026, 6, 15, tzinfo=UTC)).batch
    assert list(june.payouts.values_list("amount_minor", flat=True)) == [5000]
    assert_ledger_sound(tenant.network)


def test_building_twice_for_the_same_period_builds_nothing_new(tenant):
    profile(tenant)
    earn(tenant, 6000)
    first = payout_services.build_payout_batch(network=tenant.network, now=NOW)
    earn(tenant, 6000, key="conversion:late:approved")
    before = snapshot()

    second = payout_services.build_payout_batch(network=tenant.network, now=datetime(2026, 4, 1, tzinfo=UTC))

    assert first.created and not second.created
    assert second.batch.pk == first.batch.pk and snapshot() == before
    assert available(tenant) == 6000  # the late approval waits for April's batch


def test_affiliates_on_hold_are_exceptions_and_keep_their_balance(tenant):
    no_tax = factories.AffiliateFactory(network=tenant.network, name="No Tax")
    no_profile = factories.AffiliateFactory(network=tenant.network, name="No Profile")
    profile(tenant, no_tax, tax={})
    for affiliate in (no_tax, no_profile):
        earn(tenant, 6000, affiliate=affiliate)

    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch

    assert batch.payouts.count() == 0
    assert sorted((e["name"], e["reasons"][0][:20]) for e in batch.exceptions) == [
        ("No Profile", "No payout method: ad"), ("No Tax", "No tax declaration: ")]
    assert available(tenant, no_tax) == 6000


def test_a_stripe_account_not_ready_is_on_hold_with_the_reason(tenant):
    profile(tenant, method="stripe", details={"account_id": "acct_123456789"})
    earn(tenant, 6000)

    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch

    assert batch.exceptions[0]["reasons"] == ["Finish the Stripe onboarding."]


def test_each_currency_is_its_own_payout_and_ledger(tenant):
    profile(tenant)
    earn(tenant, 6000)
    earn(tenant, 7000, currency="EUR")

    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch

    assert sorted(batch.payouts.values_list("currency", "amount_minor")) == [("EUR", 7000), ("USD", 6000)]
    assert Payout.objects.get(currency="EUR").reference == f"payout:{batch.pk}-{tenant.affiliate.pk}-EUR"
    assert_ledger_sound(tenant.network)


def test_other_networks_balances_are_not_in_the_batch(tenant, other_tenant):
    profile(other_tenant)
    earn(other_tenant, 6000)

    batch = payout_services.build_payout_batch(network=tenant.network, now=NOW).batch

    assert batch.payouts.count() == 0 and Payout.objects.count() == 0


@pytest.mark.parametrize(("schedule", "now", "key"), [
    ("monthly", datetime(2026, 3, 14, 23, tzinfo=UTC), "2026-02"),
    ("monthly", datetime(2026, 3, 15, 0, tzinfo=UTC), "2026-03"),
    ("twice_monthly", datetime(2026, 3, 15, tzinfo=UTC), "2026-03-01"),
    ("twice_monthly", datetime(2026, 3, 16, tzinfo=UTC), "2026-03-16"),
    ("net", datetime(2026, 3, 30, tzinfo=UTC), "net-2026-01"),
    ("net", datetime(2026, 3, 31, tzinfo=UTC), "net-2026-02"),
])
def test_due_period_per_schedule(tenant, schedule, now, key):
    network = tenant.network
    network.payout_schedule, network.payout_net_days = schedule, 30

    assert payout_services.due_period(network=network, now=now)[0] == key


def test_next_payout_date(tenant):
    network = tenant.network
    assert str(payout_services.next_payout_date(network=network, now=datetime(2026, 3, 15, tzinfo=UTC))) == "2026-04-15"
    network.payout_schedule = Network.PayoutSchedule.TWICE_MONTHLY
    assert str(payout_services.next_payout_date(network=network, now=datetime(2026, 3, 2, tzinfo=UTC))) == "2026-03-16"


def test_the_command_builds_once(tenant):
    profile(tenant)
    earn(tenant, 6000)
    out = StringIO()

    call_command("build_payouts", "--network", tenant.network.slug, "--now", "2026-03-15T09:00:00+00:00", stdout=out)
    call_command("build_payouts", "--network", tenant.network.slug, "--now", "2026-03-20T09:00:00", stdout=out)

    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert (first["created"], first["payouts"], first["period"]) == (True, 1, "2026-03")
    assert (second["created"], second["batch"]) == (False, first["batch"])
    assert PayoutBatch.objects.count() == 1


def test_the_command_refuses_an_unknown_network_and_a_bad_time(tenant):
    with pytest.raises(CommandError, match="No network"):
        call_command("build_payouts", "--network", "nope")
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("build_payouts", "--network", tenant.network.slug, "--now", "yesterday")
    assert PayoutBatch.objects.count() == 0


def test_the_beat_task_builds_for_every_network(tenant, other_tenant):
    from payouts import tasks

    tasks.build_due_payouts.delay(now="2026-03-15T09:00:00+00:00")

    assert sorted(PayoutBatch.objects.values_list("network__slug", "period_key")) == [
        ("acme", "2026-03"), ("rival", "2026-03")]
