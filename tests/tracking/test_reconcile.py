"""reconcile(): due pending conversions are approved in chunks with their ledger; idempotent; tiers; command; task."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from affiliates.models import ProgramMetrics
from merchants.models import CommissionRule
from payouts import selectors as payout_selectors
from payouts.models import LedgerTransaction
from tests.tracking.factories import click_for, link_for
from tests.tracking.lifecycle_helpers import conversion_for, entries_by_key, ledger_hash, snapshot
from tracking import lifecycle, metrics, reconcile, tasks
from tracking.models import Conversion, ConversionEvent

pytestmark = pytest.mark.django_db


def backlog(tenant, count: int, *, occurred_at=None):
    occurred_at = occurred_at or timezone.now() - timedelta(days=40)
    link = link_for(tenant)
    return [conversion_for(tenant, order_id=f"K-{i}", amount=f"{10 + i}.00", occurred_at=occurred_at, link=link)
            for i in range(count)]


def test_due_conversions_are_approved_in_chunks_with_one_balanced_transaction_each(tenant):
    conversions = backlog(tenant, 5)
    held = conversion_for(tenant, order_id="HELD", occurred_at=timezone.now() - timedelta(days=40))
    lifecycle.hold_conversion(network=tenant.network, conversion_id=held.pk, reason_code="fraud")
    recent = conversion_for(tenant, order_id="RECENT")
    now = timezone.now()
    summary = reconcile.reconcile(now=now, chunk_size=2)
    assert (summary.approved, summary.transactions, summary.chunks) == (5, 5, 3)
    statuses = dict(Conversion.objects.values_list("order_id", "status"))
    assert statuses == {**{c.order_id: "approved" for c in conversions}, "HELD": "hold", "RECENT": "pending"}
    first = conversions[0]
    first.refresh_from_db()
    assert (first.fee_minor, first.approved_at, first.status_reason) == (20, now, reconcile.AUTO_REASON)
    assert entries_by_key(tenant.network)[f"conversion:{first.pk}:approved"] == [
        ("affiliate_payable", -100), ("merchant_balance", 120), ("network_revenue", -20)]
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}
    assert ConversionEvent.objects.filter(kind="transition", to_status="approved").count() == 5
    assert recent.status == "pending"


def test_reconcile_twice_changes_nothing(tenant):
    backlog(tenant, 3)
    now = timezone.now()
    reconcile.reconcile(now=now)
    before = snapshot(), ledger_hash(tenant.network)
    summary = reconcile.reconcile(now=now)
    assert summary.approved == 0
    assert (snapshot(), ledger_hash(tenant.network)) == before


def test_a_chunk_that_fails_leaves_nothing_behind(tenant, monkeypatch):
    backlog(tenant, 3)
    before = snapshot()

    def boom(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(reconcile.ConversionEvent.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        reconcile.reconcile(now=timezone.now())
    assert snapshot() == before
    monkeypatch.undo()
    assert reconcile.reconcile(now=timezone.now()).approved == 3


def test_other_networks_are_reconciled_separately(tenant, other_tenant):
    backlog(tenant, 2)
    conversion_for(other_tenant, order_id="O-1", occurred_at=timezone.now() - timedelta(days=40))
    summary = reconcile.reconcile(now=timezone.now(), network=tenant.network)
    assert summary.approved == 2
    assert Conversion.objects.get(order_id="O-1").status == "pending"
    assert LedgerTransaction.objects.for_network(other_tenant.network).count() == 0


def test_refund_requests_are_processed_by_reconcile(tenant):
    from tracking import services

    conversion = backlog(tenant, 1)[0]
    services.request_reversal(conversion=conversion, source="stripe", external_ref="ch_9", amount_minor=1000,
                              reason="Stripe charge refunded")
    summary = reconcile.reconcile(now=timezone.now())
    conversion.refresh_from_db()
    assert (summary.reversal_requests, summary.approved, conversion.status) == (1, 0, "rejected")


def test_monthly_tier_uplift_is_a_separate_balanced_transaction(tenant):
    rule = CommissionRule.objects.get(program=tenant.program)
    rule.tiers = [{"min_approved": 3, "rate": "15.0"}]
    rule.save()
    link = link_for(tenant)
    january = datetime(2026, 1, 10, 12, tzinfo=UTC)
    created = [conversion_for(tenant, order_id=f"T-{i}", amount="100.00", occurred_at=january + timedelta(hours=i),
                              link=link) for i in range(3)]
    for conversion in created:
        lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    # Before the month is over nothing is closed; once it is, the uplift is 3 × (15 − 10) = 15.00.
    assert reconcile.close_monthly_tiers(network=tenant.network, now=datetime(2026, 1, 31, tzinfo=UTC)) == 0
    now = datetime(2026, 2, 3, tzinfo=UTC)
    assert reconcile.close_monthly_tiers(network=tenant.network, now=now) == 1
    key = f"tier:{rule.pk}:{tenant.affiliate.pk}:2026-01"
    assert entries_by_key(tenant.network)[key] == [
        ("affiliate_payable", -1500), ("merchant_balance", 1800), ("network_revenue", -300)]
    assert LedgerTransaction.objects.get(idempotency_key=key).kind == "bonus"
    assert reconcile.close_monthly_tiers(network=tenant.network, now=now) == 0
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}


def test_tier_month_with_undecided_conversions_stays_open(tenant):
    rule = CommissionRule.objects.get(program=tenant.program)
    rule.tiers = [{"min_approved": 1, "rate": "20.0"}]
    rule.save()
    january = datetime(2026, 1, 10, 12, tzinfo=UTC)
    approved = conversion_for(tenant, order_id="T-A", occurred_at=january)
    lifecycle.approve_conversion(network=tenant.network, conversion_id=approved.pk)
    conversion_for(tenant, order_id="T-P", occurred_at=january)
    assert reconcile.close_monthly_tiers(network=tenant.network, now=datetime(2026, 2, 3, tzinfo=UTC)) == 0


def test_management_command_prints_one_line(tenant):
    backlog(tenant, 2)
    out = StringIO()
    call_command("reconcile", "--now", timezone.now().isoformat(), stdout=out)
    line = out.getvalue().strip()
    assert "\n" not in line
    assert "2 approved" in line and "2 ledger transaction(s)" in line


def test_management_command_refuses_a_bad_now(tenant):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("reconcile", "--now", "yesterday")


def test_task_runs_the_same_code(tenant):
    backlog(tenant, 1)
    assert "1 approved" in tasks.reconcile_all_networks(now=timezone.now().isoformat())
    assert tasks.reconcile_all_networks.acks_late is True


def test_program_metrics_refresh(tenant, other_tenant):
    now = timezone.now()
    link = link_for(tenant)
    for i in range(4):
        click_for(link, created_at=now - timedelta(days=1), visitor_hash=f"x{i}")
    conversions = [conversion_for(tenant, order_id=f"M-{i}", occurred_at=now - timedelta(days=2), link=link)
                   for i in range(3)]
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversions[0].pk)
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversions[1].pk)
    lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversions[1].pk)
    assert metrics.refresh_program_metrics(now=now) == 2
    row = ProgramMetrics.objects.get(program=tenant.program)
    # 4 clicks here + 3 made by conversion_for; 3 conversions; 1 approved (10.00); 1 reversed.
    assert (row.clicks_90d, row.conversions_90d, row.approved_commission_90d_minor,
            row.conversions_count_for_average, row.reversed_90d) == (7, 3, 1000, 1, 1)
    assert ProgramMetrics.objects.get(program=other_tenant.program).clicks_90d == 0
    assert metrics.refresh_program_metrics(now=now) == 2
    assert ProgramMetrics.objects.count() == 2


def test_pending_cost_feeds_the_funding_forecast(tenant):
    from tracking import selectors

    conversion_for(tenant, order_id="PC-1")  # commission 10.00, fee 20 % = 2.00
    since = timezone.now() - timedelta(days=30)
    assert selectors.pending_cost(tenant.network, [tenant.merchant.pk], since) == {(tenant.merchant.pk, "USD"): 1200}


def test_huge_filter_ids_are_400(tenant, staff_api):
    for path in ("/api/v1/claims/?program=99999999999999999999999", "/api/v1/conversions/?affiliate=-1"):
        response = staff_api.get(path)
        assert response.status_code == 400, path


def test_reconcile_emits_approved_events_when_someone_listens(tenant):
    from webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(network=tenant.network, owner_kind="merchant",
                                              owner_id=tenant.merchant.pk, url="https://hooks.example.com/in",
                                              event_types=["conversion.approved"], secret="whsec_dGVzdA==")
    conversions = backlog(tenant, 2)
    reconcile.reconcile(now=timezone.now())
    keys = set(OutboxEvent.objects.filter(event_type="conversion.approved").values_list("idempotency_key", flat=True))
    assert keys == {f"conversion:{c.pk}:approved" for c in conversions}
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
