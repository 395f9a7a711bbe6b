"""The commission engine: precedence (private rate > tier > rule), recurring, caps, exact explanations."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchants.commissions import compute_commission
from merchants.models import CommissionRule, ProgramAffiliateRate
from network import money
from tests import factories

pytestmark = pytest.mark.django_db
WHEN = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def program(tenant):
    program = tenant.program
    CommissionRule.objects.filter(program=program).update(rate=Decimal("8"), tiers=[
        {"min_approved": 50, "rate": "10"}, {"min_approved": 200, "rate": "12.5"}])
    factories.CommissionRuleFactory(program=program, action="signup", type="flat", rate=None, amount_minor=500)
    return program


def quote(program, affiliate_id, **kwargs):
    defaults = {"action": "sale", "sale_amount_minor": 10000, "currency": "USD", "occurred_at": WHEN}
    return compute_commission(program=program, affiliate_id=affiliate_id, **{**defaults, **kwargs})


def test_the_program_rule_below_the_first_tier(program, tenant):
    result = quote(program, tenant.affiliate.pk, approved_count_this_month=49)
    rule = CommissionRule.objects.get(program=program, action="sale")
    assert result.amount_minor == 800
    assert result.rule_id == rule.pk
    assert result.explanation == {"action": "sale", "affiliate": tenant.affiliate.pk, "currency": "USD",
                                  "rule": rule.pk, "source": "program_rule", "approved_count_this_month": 49,
                                  "type": "percent", "rate": "8", "base_minor": 10000, "amount_minor": 800}


@pytest.mark.parametrize(("approved", "amount", "threshold"), [(50, 1000, 50), (199, 1000, 50), (200, 1250, 200),
                                                               (5000, 1250, 200)])
def test_the_highest_reached_tier_wins(program, tenant, approved, amount, threshold):
    result = quote(program, tenant.affiliate.pk, approved_count_this_month=approved)
    assert result.amount_minor == amount
    assert result.explanation["source"] == "tier"
    assert result.explanation["tier"] == {"min_approved": threshold}


def test_a_private_rate_beats_the_tier(program, tenant):
    private = ProgramAffiliateRate.objects.create(network=tenant.network, program=program,
                                                  affiliate=tenant.affiliate, action="sale", type="percent",
                                                  rate=Decimal("15"))
    result = quote(program, tenant.affiliate.pk, approved_count_this_month=300)
    assert result.amount_minor == 1500
    assert result.explanation["source"] == "affiliate_rate"
    assert result.explanation["affiliate_rate"] == private.pk
    # Another affiliate still gets the tier.
    other = factories.AffiliateFactory(network=tenant.network)
    assert quote(program, other.pk, approved_count_this_month=300).amount_minor == 1250


def test_a_flat_action(program, tenant):
    result = quote(program, tenant.affiliate.pk, action="signup", sale_amount_minor=0)
    assert result.amount_minor == 500
    assert result.explanation["type"] == "flat"


def test_a_flat_commission_refuses_another_currency(program, tenant):
    with pytest.raises(ValidationError) as error:
        quote(program, tenant.affiliate.pk, action="signup", currency="EUR")
    assert error.value.message_dict == {"currency": ["Flat commissions are in USD; this conversion is in EUR."]}


def test_an_unpaid_action_names_the_action(program, tenant):
    with pytest.raises(ValidationError) as error:
        quote(program, tenant.affiliate.pk, action="lead")
    assert list(error.value.message_dict) == ["action"]


def test_the_cap_turns_the_commission_to_zero_with_a_reason(program, tenant):
    CommissionRule.objects.filter(program=program, action="sale").update(monthly_cap_per_affiliate=3)
    assert quote(program, tenant.affiliate.pk, conversions_this_month=2).amount_minor == 800
    capped = quote(program, tenant.affiliate.pk, conversions_this_month=3)
    assert capped.amount_minor == 0
    assert capped.explanation["reason"] == "monthly cap reached"
    assert capped.explanation["monthly_cap"] == 3


@pytest.mark.parametrize(("recurring", "months", "index", "paid"), [
    ("none", None, 0, True), ("none", None, 1, False),
    ("months", 12, 11, True), ("months", 12, 12, False),
    ("lifetime", None, 500, True),
])
def test_recurring_policies(program, tenant, recurring, months, index, paid):
    CommissionRule.objects.filter(program=program, action="sale").update(recurring=recurring, recurring_months=months,
                                                                          tiers=[])
    result = quote(program, tenant.affiliate.pk, recurring_index=index)
    assert result.amount_minor == (800 if paid else 0)
    if not paid:
        assert result.explanation["reason"] == "recurring period over"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sale=st.integers(min_value=0, max_value=10**12),
       rate=st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False),
       approved=st.integers(min_value=0, max_value=1000),
       private=st.booleans())
def test_property_the_quote_is_an_exact_integer_within_the_sale(tenant, sale, rate, approved, private):
    # In-memory rows: the engine takes them preloaded, so each example runs without the database.
    program = tenant.program
    rule = CommissionRule(pk=1, network=tenant.network, program=program, action="sale", type="percent", rate=rate,
                          tiers=[{"min_approved": 100, "rate": "50"}])
    private_rate = ProgramAffiliateRate(pk=2, network=tenant.network, program=program, affiliate=tenant.affiliate,
                                        action="sale", type="percent", rate=Decimal("3")) if private else None
    if private_rate is None:
        ProgramAffiliateRate.objects.filter(program=program).delete()
    result = quote(program, tenant.affiliate.pk, sale_amount_minor=sale, approved_count_this_month=approved,
                   rule=rule, affiliate_rate=private_rate)
    assert isinstance(result.amount_minor, int)
    assert 0 <= result.amount_minor <= sale
    expected_rate = Decimal("3") if private else (Decimal("50") if approved >= 100 else rate)
    assert result.amount_minor == money.apply_rate(sale, expected_rate)
    assert result.explanation["amount_minor"] == result.amount_minor
    assert result.explanation["source"] == ("affiliate_rate" if private else
                                            "tier" if approved >= 100 else "program_rule")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cap=st.integers(min_value=1, max_value=50), so_far=st.integers(min_value=0, max_value=100))
def test_property_the_cap_pays_nothing_exactly_from_the_cap_on(tenant, cap, so_far):
    rule = CommissionRule(pk=1, network=tenant.network, program=tenant.program, action="sale", type="flat",
                          amount_minor=700, monthly_cap_per_affiliate=cap)
    result = quote(tenant.program, tenant.affiliate.pk, conversions_this_month=so_far, rule=rule)
    assert (result.amount_minor == 0) == (so_far >= cap)
