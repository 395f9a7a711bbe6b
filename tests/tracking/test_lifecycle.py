"""Lifecycle services: approve, reject, hold, release, full and partial reversal, paid, refunds, events."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from payouts import selectors as payout_selectors
from payouts.models import LedgerTransaction
from tests.tracking.lifecycle_helpers import balance_of, conversion_for, entries_by_key, snapshot
from tracking import lifecycle, services
from tracking.models import ConversionEvent, ReversalRequest

pytestmark = pytest.mark.django_db

APPROVAL = [("affiliate_payable", -1000), ("merchant_balance", 1200), ("network_revenue", -200)]


def test_approve_posts_one_balanced_transaction_and_an_event(tenant):
    conversion = conversion_for(tenant)
    approved = lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk,
                                            actor=tenant.merchant_user, reason="checked")
    assert (approved.status, approved.fee_minor) == ("approved", 200)
    assert entries_by_key(tenant.network) == {f"conversion:{conversion.pk}:approved": APPROVAL}
    event = ConversionEvent.objects.filter(conversion=conversion, kind="transition").get()
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        "pending", "approved", tenant.merchant_user, "checked")
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}
    balance = balance_of(tenant)
    assert (balance.pending_minor, balance.approved_minor, balance.available_minor) == (0, 1000, 1000)


def test_approving_twice_changes_nothing(tenant):
    conversion = conversion_for(tenant)
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    before = snapshot()
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    assert snapshot() == before


def test_pending_commission_is_the_pending_balance(tenant):
    conversion_for(tenant, order_id="P-1")
    conversion_for(tenant, order_id="P-2", amount="50.00")
    balance = balance_of(tenant)
    assert (balance.pending_minor, balance.approved_minor) == (1500, 0)


def test_reject_needs_a_reason_code_and_changes_nothing_without_one(tenant):
    conversion = conversion_for(tenant)
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        lifecycle.reject_conversion(network=tenant.network, conversion_id=conversion.pk, reason_code="")
    assert "reason_code" in error.value.message_dict
    with pytest.raises(ValidationError):
        lifecycle.reject_conversion(network=tenant.network, conversion_id=conversion.pk, reason_code="nope")
    assert snapshot() == before


def test_reject_then_approve_is_refused_and_nothing_posts(tenant):
    conversion = conversion_for(tenant)
    rejected = lifecycle.reject_conversion(network=tenant.network, conversion_id=conversion.pk,
                                           reason_code="test_order", reason="our QA order")
    assert (rejected.status, rejected.reason_code, rejected.status_reason) == ("rejected", "test_order", "our QA order")
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    assert "status" in error.value.message_dict
    assert snapshot() == before


def test_hold_and_release(tenant):
    conversion = conversion_for(tenant)
    held = lifecycle.hold_conversion(network=tenant.network, conversion_id=conversion.pk, reason_code="fraud")
    assert held.status == "hold"
    released = lifecycle.release_conversion(network=tenant.network, conversion_id=conversion.pk, reason="fine")
    assert released.status == "pending"
    assert list(ConversionEvent.objects.filter(conversion=conversion, kind="transition")
                .values_list("from_status", "to_status")) == [("pending", "hold"), ("hold", "pending")]


def test_full_reversal_posts_the_opposite(tenant):
    conversion = conversion_for(tenant)
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    reversed_ = lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk,
                                             reason="chargeback", reason_code="fraud")
    assert (reversed_.status, reversed_.reversed_amount_minor, reversed_.reversed_commission_minor) == (
        "reversed", 10000, 1000)
    entries = entries_by_key(tenant.network)
    assert entries[f"conversion:{conversion.pk}:reversed"] == [
        ("affiliate_payable", 1000), ("merchant_balance", -1200), ("network_revenue", 200)]
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}
    assert balance_of(tenant).approved_minor == 0
    with pytest.raises(ValidationError):
        lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk)


def test_partial_reversals_are_proportional_and_sum_to_the_original(tenant):
    conversion = conversion_for(tenant, amount="99.99")  # commission 10 % = 999 (half-even of 999.9 → 1000)
    conversion.refresh_from_db()
    commission = conversion.commission_minor
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    first = lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk, amount_minor=3333)
    assert (first.status, first.reversed_amount_minor, first.reversal_count) == ("approved", 3333, 1)
    assert first.reversed_commission_minor == round(commission * 3333 / 9999)
    with pytest.raises(ValidationError) as error:
        lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk, amount_minor=9999)
    assert "amount" in error.value.message_dict
    second = lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk, amount_minor=3333)
    last = lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk)
    assert second.reversal_count == 2
    assert (last.status, last.reversed_amount_minor, last.reversed_commission_minor) == ("reversed", 9999, commission)
    keys = sorted(entries_by_key(tenant.network))
    assert keys == sorted([f"conversion:{conversion.pk}:approved", f"conversion:{conversion.pk}:reversal:1",
                           f"conversion:{conversion.pk}:reversal:2", f"conversion:{conversion.pk}:reversed"])
    assert balance_of(tenant).approved_minor == 0
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}
    revenue = sum(amount for entries in entries_by_key(tenant.network).values() for kind, amount in entries
                  if kind == "network_revenue")
    assert revenue == 0


def test_reversal_of_a_pending_conversion_is_refused(tenant):
    conversion = conversion_for(tenant)
    before = snapshot()
    with pytest.raises(ValidationError):
        lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk)
    assert snapshot() == before


def test_mark_paid_then_reverse_leaves_a_negative_payable(tenant):
    from payouts import ledger

    conversion = conversion_for(tenant)
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    # The payout of 10.00 (reserve and settle) as the payouts app posts it.
    for kind, lines in ((ledger.Kind.PAYOUT_RESERVE, ledger.payout_reserve_lines),
                        (ledger.Kind.PAYOUT_SETTLE, ledger.payout_settle_lines)):
        ledger.post(network=tenant.network, idempotency_key=f"payout:1:{kind}", kind=kind,
                    lines=lines(network=tenant.network, affiliate=tenant.affiliate, amount_minor=1000, currency="USD"))
    assert lifecycle.mark_conversions_paid(network=tenant.network, conversion_ids=[conversion.pk],
                                           payout_ref="payout:1") == 1
    assert lifecycle.mark_conversions_paid(network=tenant.network, conversion_ids=[conversion.pk],
                                           payout_ref="payout:1") == 0
    conversion.refresh_from_db()
    assert (conversion.status, conversion.payout_ref) == ("paid", "payout:1")
    lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk)
    balance = balance_of(tenant)
    assert (balance.available_minor, balance.paid_minor) == (-1000, 1000)


def test_refund_request_reverses_approved_and_rejects_pending(tenant):
    approved = conversion_for(tenant, order_id="R-1")
    lifecycle.approve_conversion(network=tenant.network, conversion_id=approved.pk)
    pending = conversion_for(tenant, order_id="R-2")
    partial, _ = services.request_reversal(conversion=approved, source="stripe", external_ref="ch_1",
                                           amount_minor=2500, reason="Stripe charge refunded")
    services.request_reversal(conversion=pending, source="stripe", external_ref="ch_2",
                              amount_minor=10000, reason="Stripe charge refunded")
    assert lifecycle.process_open_reversal_requests(network=tenant.network) == 2
    approved.refresh_from_db()
    pending.refresh_from_db()
    assert (approved.status, approved.reversed_amount_minor, approved.reversed_commission_minor) == (
        "approved", 2500, 250)
    assert (pending.status, pending.reason_code) == ("rejected", "returned")
    assert set(ReversalRequest.objects.values_list("status", flat=True)) == {"done"}
    before = snapshot()
    assert lifecycle.process_reversal_request(network=tenant.network, request_id=partial.pk).status == "done"
    assert snapshot() == before


def test_unattributed_conversion_cannot_be_approved(tenant):
    conversion, _ = services.record_conversion(program=tenant.program, order_id="U-1", amount="10.00",
                                               currency="USD", source="api")
    assert conversion.status == "rejected"
    with pytest.raises(ValidationError):
        lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    assert LedgerTransaction.objects.count() == 0


def test_other_network_cannot_touch_the_conversion(tenant, other_tenant):
    conversion = conversion_for(tenant)
    before = snapshot()
    with pytest.raises(ValidationError):
        lifecycle.approve_conversion(network=other_tenant.network, conversion_id=conversion.pk)
    assert snapshot() == before


def test_approval_emits_an_outbox_event(tenant):
    from webhooks.models import OutboxEvent

    conversion = conversion_for(tenant)
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk,
                                 now=timezone.now() + timedelta(seconds=1))
    event = OutboxEvent.objects.get(idempotency_key=f"conversion:{conversion.pk}:approved")
    assert (event.event_type, event.payload["commission"], event.payload["status"]) == (
        "conversion.approved", "10.00", "approved")


def test_recording_emits_conversion_created(tenant):
    from webhooks.models import OutboxEvent

    conversion = conversion_for(tenant, order_id="EV-1")
    event = OutboxEvent.objects.get(idempotency_key=f"conversion:{conversion.pk}:created")
    assert (event.event_type, event.payload["order_id"], event.affiliate_id) == (
        "conversion.created", "EV-1", tenant.affiliate.pk)


def test_payout_settled_hook_marks_conversions_paid(tenant):
    from payouts import hooks

    conversion = conversion_for(tenant, order_id="HOOK-1")
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    assert lifecycle.on_payout_settled in hooks.settled_hooks()

    class Payout:
        pk, reference = 7, "PO-7"

    for _ in range(2):  # hooks run at least once: the second run changes nothing
        hooks.run_payout_settled(network=tenant.network, payout=Payout(), conversion_ids=[conversion.pk])
    conversion.refresh_from_db()
    assert (conversion.status, conversion.payout_ref) == ("paid", "PO-7")
    assert ConversionEvent.objects.filter(conversion=conversion, to_status="paid").count() == 1


def test_approving_a_held_conversion_releases_it_first(tenant):
    conversion = conversion_for(tenant, order_id="HA-1")
    lifecycle.hold_conversion(network=tenant.network, conversion_id=conversion.pk, reason_code="fraud")
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk, actor=tenant.merchant_user)
    assert list(ConversionEvent.objects.filter(conversion=conversion, kind="transition")
                .values_list("from_status", "to_status")) == [("pending", "hold"), ("hold", "pending"),
                                                               ("pending", "approved")]
