"""ledger.post: balanced, idempotent, atomic; refusals write nothing; rows are append-only."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from payouts import ledger
from payouts.ledger import Line
from payouts.models import LedgerEntry, LedgerImmutable, LedgerTransaction
from tests.payouts.helpers import Kind, account, approve, counts


def test_post_writes_one_balanced_transaction(tenant):
    cash = account(tenant.network, Kind.CASH)
    balance = account(tenant.network, Kind.MERCHANT_BALANCE, merchant=tenant.merchant)

    posted = ledger.post(network=tenant.network, idempotency_key="funding:abc",
                         lines=[Line.debit(cash, 10000), Line.credit(balance, 10000)],
                         kind=ledger.Kind.FUNDING, source="funding:abc", description="Prepayment")

    assert sorted(posted.entries.values_list("account__kind", "amount_minor", "currency")) == [
        ("cash", 10000, "USD"), ("merchant_balance", -10000, "USD")]
    assert posted.kind == "funding"
    assert posted.source == "funding:abc"


def test_replay_with_the_same_key_returns_the_original(tenant):
    first = approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    again = approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    assert again.pk == first.pk
    assert counts() == (1, 3)


def test_replay_with_other_lines_is_refused(tenant):
    approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    with pytest.raises(ledger.LedgerConflict) as raised:
        approve(tenant, key="conversion:1:approved", commission=999, fee=200)

    assert "idempotency_key" in raised.value.message_dict
    assert counts() == (1, 3)


def test_unbalanced_lines_are_refused_and_nothing_is_written(tenant):
    cash = account(tenant.network, Kind.CASH)
    balance = account(tenant.network, Kind.MERCHANT_BALANCE, merchant=tenant.merchant)

    with pytest.raises(ValidationError) as raised:
        ledger.post(network=tenant.network, idempotency_key="k",
                    lines=[Line.debit(cash, 100), Line.credit(balance, 99)])

    assert raised.value.message_dict == {"lines": ["Unbalanced: sums per currency {'USD': 1}."]}
    assert counts() == (0, 0)


def test_balanced_overall_but_not_per_currency_is_refused(tenant):
    usd = account(tenant.network, Kind.CASH, "USD")
    eur = account(tenant.network, Kind.CASH, "EUR")

    with pytest.raises(ValidationError):
        ledger.post(network=tenant.network, idempotency_key="k",
                    lines=[Line.debit(usd, 100), Line.credit(eur, 100)])

    assert counts() == (0, 0)


@pytest.mark.parametrize("lines_name", ["none", "zero"])
def test_empty_or_zero_lines_are_refused(tenant, lines_name):
    cash = account(tenant.network, Kind.CASH)
    lines = [] if lines_name == "none" else [Line.debit(cash, 0)]

    with pytest.raises(ValidationError) as raised:
        ledger.post(network=tenant.network, idempotency_key="k", lines=lines)

    assert list(raised.value.message_dict) == ["lines"]
    assert counts() == (0, 0)


def test_an_account_of_another_network_is_refused(tenant, other_tenant):
    mine = account(tenant.network, Kind.CASH)
    theirs = account(other_tenant.network, Kind.MERCHANT_BALANCE, merchant=other_tenant.merchant)

    with pytest.raises(ValidationError) as raised:
        ledger.post(network=tenant.network, idempotency_key="k", lines=[Line.debit(mine, 5), Line.credit(theirs, 5)])

    assert raised.value.message_dict == {"lines": ["Every account must belong to the transaction's network."]}
    assert counts() == (0, 0)


def test_an_account_owner_of_another_network_is_refused(tenant, other_tenant):
    with pytest.raises(ValidationError) as raised:
        account(tenant.network, Kind.AFFILIATE_PAYABLE, affiliate=other_tenant.affiliate)

    assert list(raised.value.message_dict) == ["affiliate"]


def test_a_line_in_another_currency_than_its_account_is_refused(tenant):
    cash = account(tenant.network, Kind.CASH, "USD")
    balance = account(tenant.network, Kind.MERCHANT_BALANCE, "USD", merchant=tenant.merchant)

    with pytest.raises(ValidationError):
        ledger.post(network=tenant.network, idempotency_key="k",
                    lines=[Line(cash, 100, "EUR"), Line(balance, -100, "EUR")])

    assert counts() == (0, 0)


def test_one_account_per_kind_owner_and_currency(tenant):
    first = account(tenant.network, Kind.AFFILIATE_PAYABLE, affiliate=tenant.affiliate)
    again = account(tenant.network, Kind.AFFILIATE_PAYABLE, affiliate=tenant.affiliate)
    revenue = account(tenant.network, Kind.NETWORK_REVENUE)

    assert first.pk == again.pk
    assert revenue.pk == account(tenant.network, Kind.NETWORK_REVENUE).pk
    from payouts.models import LedgerAccount

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(network=tenant.network, kind=Kind.NETWORK_REVENUE, currency="USD")


def test_orm_update_and_delete_of_entries_and_transactions_raise(tenant):
    posted = approve(tenant, key="conversion:1:approved", commission=1000, fee=200)
    entry = posted.entries.first()

    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_minor=1)
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    entry.amount_minor = 1
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        LedgerTransaction.objects.filter(pk=posted.pk).update(description="changed")
    with pytest.raises(LedgerImmutable):
        posted.delete()
    assert sorted(LedgerEntry.objects.values_list("amount_minor", flat=True)) == [-1000, -200, 1200]


@pytest.mark.parametrize("statement", [
    "UPDATE payouts_ledgerentry SET amount_minor = 1",
    "DELETE FROM payouts_ledgerentry",
    "UPDATE payouts_ledgertransaction SET description = 'x'",
    "DELETE FROM payouts_ledgertransaction",
])
def test_the_database_refuses_update_and_delete(tenant, statement):
    approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert counts() == (1, 3)
    assert sorted(LedgerEntry.objects.values_list("amount_minor", flat=True)) == [-1000, -200, 1200]


def test_the_database_refuses_an_entry_crossing_networks(tenant, other_tenant):
    posted = approve(tenant, key="conversion:1:approved", commission=1000, fee=200)
    theirs = account(other_tenant.network, Kind.CASH)

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create([LedgerEntry(network=tenant.network, transaction=posted, account=theirs,
                                                     amount_minor=5, currency="USD")])

    assert counts() == (1, 3)


def test_the_database_refuses_an_entry_in_another_currency_than_its_account(tenant):
    posted = approve(tenant, key="conversion:1:approved", commission=1000, fee=200)
    cash = account(tenant.network, Kind.CASH, "USD")

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create([LedgerEntry(network=tenant.network, transaction=posted, account=cash,
                                                     amount_minor=5, currency="EUR")])

    assert counts() == (1, 3)


def test_payout_two_phase_lines_balance(tenant):
    network, affiliate = tenant.network, tenant.affiliate
    approve(tenant, key="a1", commission=5000, fee=0)
    for key, builder, kind in [("r", ledger.payout_reserve_lines, ledger.Kind.PAYOUT_RESERVE),
                               ("s", ledger.payout_settle_lines, ledger.Kind.PAYOUT_SETTLE)]:
        ledger.post(network=network, idempotency_key=key, kind=kind,
                    lines=builder(network=network, affiliate=affiliate, amount_minor=3000, currency="USD"))

    from payouts import selectors

    [balance] = selectors.affiliate_balances(network=network, affiliate_ids=[affiliate.pk])
    assert (balance.approved_minor, balance.reserved_minor, balance.available_minor, balance.paid_minor) == (
        2000, 0, 2000, 3000)
    assert selectors.trial_balance(network=network) == {"USD": 0}


@pytest.mark.django_db(transaction=True)
def test_flush_after_a_real_transaction_still_empties_the_ledger(tenant):
    """Test teardown (flush) must get past the SQLite delete triggers; ordinary deletes still may not."""
    approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM payouts_ledgerentry")

    assert counts() == (1, 3)  # teardown then flushes; the next test starts empty
