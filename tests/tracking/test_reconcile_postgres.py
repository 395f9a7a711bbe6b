"""Concurrency with real transactions on PostgreSQL: parallel reconcile runs, approve racing reject."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from payouts import selectors as payout_selectors
from payouts.models import LedgerTransaction
from tests.tracking.factories import link_for
from tests.tracking.lifecycle_helpers import conversion_for, ledger_hash
from tracking import lifecycle, reconcile
from tracking.models import Conversion, ConversionEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks (SKIP LOCKED) and real concurrent transactions need PostgreSQL"),
]


class Rollback(Exception):
    pass


def run_in_threads(functions):
    barrier = threading.Barrier(len(functions))
    outcomes: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            outcomes[index] = ("ok", function())
        except Exception as error:  # the test inspects every outcome
            outcomes[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_four_parallel_reconciles_write_exactly_the_ledger_of_one(tenant):
    link = link_for(tenant)
    occurred = timezone.now() - timedelta(days=40)
    conversions = [conversion_for(tenant, order_id=f"P-{i}", amount=f"{5 + i % 17}.{i % 100:02d}",
                                  occurred_at=occurred, link=link) for i in range(120)]
    now = timezone.now()
    # What one run writes, measured inside a transaction that is then rolled back.
    try:
        with transaction.atomic():
            single = reconcile.reconcile(now=now, network=tenant.network, chunk_size=7)
            expected = ledger_hash(tenant.network)
            raise Rollback
    except Rollback:
        pass
    assert single.approved == 120
    assert LedgerTransaction.objects.count() == 0

    outcomes = run_in_threads([lambda: reconcile.reconcile(now=now, network=tenant.network, chunk_size=7)] * 4)
    assert [kind for kind, _ in outcomes] == ["ok"] * 4, outcomes
    assert sum(summary.approved for _, summary in outcomes) == 120
    assert ledger_hash(tenant.network) == expected
    assert Conversion.objects.filter(status="approved").count() == len(conversions)
    assert ConversionEvent.objects.filter(to_status="approved").count() == 120
    assert LedgerTransaction.objects.filter(kind="approval").count() == 120
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}


def test_approve_and_reject_racing_exactly_one_wins(tenant):
    link = link_for(tenant)
    conversions = [conversion_for(tenant, order_id=f"R-{i}", link=link) for i in range(8)]
    for conversion in conversions:
        outcomes = run_in_threads([
            lambda c=conversion: lifecycle.approve_conversion(network=tenant.network, conversion_id=c.pk),
            lambda c=conversion: lifecycle.reject_conversion(network=tenant.network, conversion_id=c.pk,
                                                             reason_code="fraud"),
        ])
        kinds = sorted(kind for kind, _ in outcomes)
        assert kinds == ["error", "ok"], outcomes
        error = next(value for kind, value in outcomes if kind == "error")
        assert isinstance(error, ValidationError)
        conversion.refresh_from_db()
        transactions = LedgerTransaction.objects.filter(idempotency_key=lifecycle.approval_key(conversion.pk)).count()
        assert (conversion.status, transactions) in {("approved", 1), ("rejected", 0)}
        assert ConversionEvent.objects.filter(conversion=conversion, kind="transition").count() == 1


def test_parallel_partial_reversals_never_exceed_the_sale(tenant):
    conversion = conversion_for(tenant, amount="100.00")
    lifecycle.approve_conversion(network=tenant.network, conversion_id=conversion.pk)
    outcomes = run_in_threads([
        lambda: lifecycle.reverse_conversion(network=tenant.network, conversion_id=conversion.pk, amount_minor=4000)
    ] * 4)
    assert sorted(kind for kind, _ in outcomes) == ["error", "error", "ok", "ok"]
    conversion.refresh_from_db()
    assert (conversion.reversed_amount_minor, conversion.reversed_commission_minor) == (8000, 800)
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}
