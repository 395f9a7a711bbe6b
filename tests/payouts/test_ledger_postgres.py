"""PostgreSQL-only ledger guarantees: concurrent identical posts, deferred balance check, triggers."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from payouts import ledger
from payouts.models import LedgerEntry, LedgerTransaction
from tests.payouts.helpers import Kind, account, approve

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: real concurrent transactions "
                       "and its deferred constraint triggers"),
    pytest.mark.django_db(transaction=True),
]


def test_fifty_concurrent_identical_posts_make_one_transaction(tenant):
    lines = None
    approve(tenant, key="warm-up", commission=1, fee=0)  # accounts exist before the race
    from payouts import fees

    lines = fees.approval_lines(network=tenant.network, merchant=tenant.merchant, affiliate=tenant.affiliate,
                                commission_minor=1000, fee_minor=200, currency="USD")
    barrier = threading.Barrier(50)
    results: list[int] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            posted = ledger.post(network=tenant.network, idempotency_key="conversion:7:approved", lines=lines,
                                 kind=ledger.Kind.APPROVAL)
            results.append(posted.pk)
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1 and len(results) == 50
    assert LedgerTransaction.objects.filter(idempotency_key="conversion:7:approved").count() == 1
    assert LedgerEntry.objects.filter(transaction__idempotency_key="conversion:7:approved").count() == 3


def test_an_unbalanced_transaction_is_refused_at_commit(tenant):
    cash = account(tenant.network, Kind.CASH)
    balance = account(tenant.network, Kind.MERCHANT_BALANCE, merchant=tenant.merchant)

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        posted = LedgerTransaction.objects.create(network=tenant.network, idempotency_key="raw", lines_digest="x")
        LedgerEntry.objects.bulk_create([
            LedgerEntry(network=tenant.network, transaction=posted, account=cash, amount_minor=100, currency="USD"),
            LedgerEntry(network=tenant.network, transaction=posted, account=balance, amount_minor=-99,
                        currency="USD"),
        ])

    assert LedgerTransaction.objects.count() == 0
    assert LedgerEntry.objects.count() == 0


def test_a_transaction_without_entries_is_refused_at_commit(tenant):
    with pytest.raises(IntegrityError, match="has no entries"), transaction.atomic():
        LedgerTransaction.objects.create(network=tenant.network, idempotency_key="empty", lines_digest="x")

    assert LedgerTransaction.objects.count() == 0


def test_update_and_delete_are_refused_by_the_database(tenant):
    approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    for statement in ("UPDATE payouts_ledgerentry SET amount_minor = amount_minor * 2",
                      "DELETE FROM payouts_ledgerentry", "DELETE FROM payouts_ledgertransaction"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    assert sorted(LedgerEntry.objects.values_list("amount_minor", flat=True)) == [-1000, -200, 1200]


def test_concurrent_partial_reversals_never_exceed_the_original(tenant):
    from django.core.exceptions import ValidationError

    from payouts import fees

    original = approve(tenant, key="conversion:9:approved", commission=1000, fee=100)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def reverse(index: int) -> None:
        try:
            barrier.wait()
            fees.post_reversal(network=tenant.network, original=original, commission_minor=300,
                               idempotency_key=f"conversion:9:reversal:{index}")
            outcomes.append("posted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reverse, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["posted"] * 3 + ["refused"] * 5
    assert fees.reversed_so_far(original) == (900, 90)
