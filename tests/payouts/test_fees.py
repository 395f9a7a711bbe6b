"""The network fee: defaults, merchant overrides, flat fee currency rule, approval and reversal lines."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from network.models import Network
from payouts import fees, selectors
from tests.payouts.helpers import approve, counts

FeeType = Network.FeeType


def fee(tenant, **kwargs):
    base = {"commission_minor": 1000, "sale_amount_minor": 25000, "currency": "USD"}
    return fees.network_fee(network=tenant.network, merchant=tenant.merchant, **{**base, **kwargs})


def test_default_percent_of_commission(tenant):
    tenant.network.fee_type, tenant.network.fee_rate = FeeType.PERCENT_OF_COMMISSION, Decimal("20")

    assert fee(tenant) == 200
    assert fee(tenant, commission_minor=1003) == 201  # 200.6 rounds half-even to 201
    assert fee(tenant, commission_minor=1002, ) == 200  # 200.4


def test_half_even_rounding_of_the_fee(tenant):
    tenant.network.fee_type, tenant.network.fee_rate = FeeType.PERCENT_OF_COMMISSION, Decimal("50")

    assert fee(tenant, commission_minor=5) == 2  # 2.5 → 2
    assert fee(tenant, commission_minor=7) == 4  # 3.5 → 4


def test_default_percent_of_sale(tenant):
    tenant.network.fee_type, tenant.network.fee_rate = FeeType.PERCENT_OF_SALE, Decimal("2.5")

    assert fee(tenant) == 625


def test_percent_of_sale_needs_the_sale_amount(tenant):
    tenant.network.fee_type = FeeType.PERCENT_OF_SALE

    with pytest.raises(ValidationError) as raised:
        fee(tenant, sale_amount_minor=None)

    assert list(raised.value.message_dict) == ["amount"]


def test_flat_fee_in_the_default_currency(tenant):
    tenant.network.fee_type, tenant.network.fee_flat_minor = FeeType.FLAT, 150

    assert fee(tenant) == 150


def test_flat_fee_on_a_conversion_in_another_currency_is_refused(tenant):
    tenant.network.fee_type, tenant.network.fee_flat_minor = FeeType.FLAT, 150

    with pytest.raises(fees.FeeCurrencyMismatch) as raised:
        fee(tenant, currency="EUR")

    assert list(raised.value.message_dict) == ["currency"]


def test_merchant_override_wins_and_falls_back_field_by_field(tenant):
    tenant.network.fee_type, tenant.network.fee_rate = FeeType.PERCENT_OF_COMMISSION, Decimal("20")
    tenant.merchant.fee_type, tenant.merchant.fee_rate = FeeType.PERCENT_OF_SALE, None

    assert fee(tenant) == 5000  # 20 % (network rate) of the sale
    tenant.merchant.fee_rate = Decimal("1")
    assert fee(tenant) == 250
    tenant.merchant.fee_type = ""  # blank: back to the network default
    assert fee(tenant) == 200


def test_approval_lines_balance_and_charge_the_merchant_commission_plus_fee(tenant):
    posted = approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    assert sorted(posted.entries.values_list("account__kind", "amount_minor")) == [
        ("affiliate_payable", -1000), ("merchant_balance", 1200), ("network_revenue", -200)]
    assert selectors.merchant_balances(network=tenant.network) == {(tenant.merchant.pk, "USD"): -1200}


def test_full_reversal_is_the_exact_opposite(tenant):
    original = approve(tenant, key="conversion:1:approved", commission=1000, fee=200)

    reversal = fees.post_reversal(network=tenant.network, original=original, commission_minor=1000,
                                  idempotency_key="conversion:1:reversed")

    assert sorted(reversal.entries.values_list("account__kind", "amount_minor")) == [
        ("affiliate_payable", 1000), ("merchant_balance", -1200), ("network_revenue", 200)]
    assert reversal.reverses_id == original.pk
    [balance] = selectors.affiliate_balances(network=tenant.network)
    assert balance.approved_minor == 0


def test_partial_reversals_are_proportional_and_capped(tenant):
    original = approve(tenant, key="conversion:1:approved", commission=1000, fee=333)

    first = fees.post_reversal(network=tenant.network, original=original, commission_minor=500,
                               idempotency_key="r1")
    assert sorted(first.entries.values_list("account__kind", "amount_minor")) == [
        ("affiliate_payable", 500), ("merchant_balance", -666), ("network_revenue", 166)]  # 166.5 → 166
    before = counts()
    with pytest.raises(ValidationError) as raised:
        fees.post_reversal(network=tenant.network, original=original, commission_minor=501, idempotency_key="r2")
    assert list(raised.value.message_dict) == ["amount"]
    assert counts() == before
    fees.post_reversal(network=tenant.network, original=original, commission_minor=500, idempotency_key="r3")
    assert fees.reversed_so_far(original) == (1000, 333)


def test_a_replayed_reversal_posts_nothing_new(tenant):
    original = approve(tenant, key="conversion:1:approved", commission=1000, fee=0)
    first = fees.post_reversal(network=tenant.network, original=original, commission_minor=400, idempotency_key="r")

    again = fees.post_reversal(network=tenant.network, original=original, commission_minor=400, idempotency_key="r")

    assert again.pk == first.pk
    assert fees.reversed_so_far(original) == (400, 0)


@settings(max_examples=40, deadline=None)
@given(commission=st.integers(1, 10**6), fee_minor=st.integers(0, 10**6),
       cuts=st.lists(st.integers(1, 100), min_size=1, max_size=6))
def test_reversal_pieces_sum_to_the_original(commission, fee_minor, cuts):
    """Whatever the partial steps, their fee parts sum to exactly the original fee (pure line builder)."""
    from unittest import mock

    from payouts.ledger import Line
    from payouts.models import LedgerAccount, LedgerTransaction

    payable = LedgerAccount(pk=1, network_id=1, kind="affiliate_payable", currency="USD")
    revenue = LedgerAccount(pk=2, network_id=1, kind="network_revenue", currency="USD")
    merchant = LedgerAccount(pk=3, network_id=1, kind="merchant_balance", currency="USD")
    lines = [Line.debit(merchant, commission + fee_minor), Line.credit(payable, commission)]
    if fee_minor:
        lines.append(Line.credit(revenue, fee_minor))
    original = LedgerTransaction(kind="approval")
    steps = [max(1, commission * cut // 100) for cut in cuts]
    done_c = done_f = 0
    with mock.patch("payouts.ledger.transaction_lines", return_value=lines):
        for step in steps:
            step = min(step, commission - done_c)
            if step <= 0:
                break
            result = fees.reversal_lines(original=original, commission_minor=step,
                                         already_reversed_commission_minor=done_c, already_reversed_fee_minor=done_f)
            assert sum(line.amount_minor for line in result) == 0
            done_c += step
            done_f += sum(line.amount_minor for line in result if line.account.kind == "network_revenue")
        if done_c < commission:
            result = fees.reversal_lines(original=original, commission_minor=commission - done_c,
                                         already_reversed_commission_minor=done_c, already_reversed_fee_minor=done_f)
            done_f += sum(line.amount_minor for line in result if line.account.kind == "network_revenue")
    assert done_f == fee_minor
