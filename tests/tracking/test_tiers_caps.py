"""Tiers and monthly caps in real conversions: record_conversion counts the affiliate's month (network time zone)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from merchants.models import CommissionRule
from network.models import Network
from tests import factories
from tests.tracking.factories import click_for, link_for
from tracking import services
from tracking.models import Conversion

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def seed(tenant, count: int, *, status: str = Conversion.Status.APPROVED, occurred_at: datetime = NOW - timedelta(days=1),
         affiliate=None, action: str = "sale", prefix: str = "seed") -> None:
    """`count` stored conversions of the tenant's affiliate (or another) in the tenant's program."""
    Conversion.objects.bulk_create([
        Conversion(network=tenant.network, program=tenant.program, merchant=tenant.merchant,
                   affiliate=affiliate or tenant.affiliate, order_id=f"{prefix}-{i}", action=action, amount_minor=1000,
                   currency=tenant.program.currency, status=status, occurred_at=occurred_at, lock_until=occurred_at)
        for i in range(count)])


def convert(tenant, order_id: str = "NEW-1", *, occurred_at: datetime = NOW, visitor: str = "v-new") -> Conversion:
    link = link_for(tenant)
    click = click_for(link, created_at=occurred_at - timedelta(hours=1), visitor_hash=visitor)
    conversion, created = services.record_conversion(
        program=tenant.program, order_id=order_id, amount="100.00", currency=tenant.program.currency,
        source=Conversion.Source.API, click_id=click.click_id, occurred_at=occurred_at, now=occurred_at)
    assert created
    return conversion


def tier_rule(tenant) -> CommissionRule:
    rule = CommissionRule.objects.get(program=tenant.program, action="sale")
    rule.rate, rule.tiers = Decimal("8"), [{"min_approved": 50, "rate": "10"}]
    rule.save()
    return rule


def test_the_51st_conversion_after_50_approved_earns_the_tier_rate(tenant):
    tier_rule(tenant)
    seed(tenant, 49)
    at_49 = convert(tenant, "NEW-49")
    assert (at_49.commission_minor, at_49.explanation["source"]) == (800, "program_rule")
    assert at_49.explanation["approved_count_this_month"] == 49
    Conversion.objects.filter(pk=at_49.pk).update(status=Conversion.Status.APPROVED)  # now 50 approved
    at_51 = convert(tenant, "NEW-51", occurred_at=NOW + timedelta(minutes=1), visitor="v-51")
    assert at_51.commission_minor == 1000
    assert at_51.explanation["source"] == "tier"
    assert at_51.explanation["tier"] == {"min_approved": 50}
    assert at_51.explanation["approved_count_this_month"] == 50


def test_tier_counts_only_approved_of_this_affiliate_action_and_month(tenant):
    tier_rule(tenant)
    seed(tenant, 45)
    seed(tenant, 1, status=Conversion.Status.PAID, prefix="paid")  # paid was approved: counts
    seed(tenant, 10, status=Conversion.Status.PENDING, prefix="pending")
    seed(tenant, 10, status=Conversion.Status.REJECTED, prefix="rejected")
    seed(tenant, 10, occurred_at=datetime(2026, 2, 28, 23, 0, tzinfo=UTC), prefix="february")
    seed(tenant, 10, occurred_at=NOW + timedelta(hours=1), prefix="later")  # after this conversion
    other = factories.AffiliateFactory(network=tenant.network)
    seed(tenant, 10, affiliate=other, prefix="other")
    factories.CommissionRuleFactory(program=tenant.program, action="lead")
    seed(tenant, 10, action="lead", prefix="lead")
    conversion = convert(tenant)
    assert conversion.explanation["approved_count_this_month"] == 46
    assert conversion.commission_minor == 800


def test_calendar_month_is_the_networks_time_zone(tenant):
    Network.objects.filter(pk=tenant.network.pk).update(time_zone="Europe/Berlin")
    tenant.program.network.refresh_from_db()
    tier_rule(tenant)
    # 23:30 UTC on 28 February is 00:30 on 1 March in Berlin: this month there.
    seed(tenant, 50, occurred_at=datetime(2026, 2, 28, 23, 30, tzinfo=UTC))
    seed(tenant, 5, occurred_at=datetime(2026, 2, 28, 22, 30, tzinfo=UTC), prefix="feb")  # 23:30 in February
    conversion = convert(tenant, occurred_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    assert conversion.explanation["approved_count_this_month"] == 50
    assert conversion.commission_minor == 1000

    Network.objects.filter(pk=tenant.network.pk).update(time_zone="UTC")
    tenant.program.network.refresh_from_db()
    in_utc = convert(tenant, "NEW-2", occurred_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC), visitor="v2")
    assert in_utc.explanation["approved_count_this_month"] == 0
    assert in_utc.commission_minor == 800


def test_monthly_cap_counts_this_months_conversions_before_this_one(tenant):
    CommissionRule.objects.filter(program=tenant.program, action="sale").update(monthly_cap_per_affiliate=3)
    seed(tenant, 1, status=Conversion.Status.PENDING)
    seed(tenant, 1, status=Conversion.Status.APPROVED, prefix="approved")
    seed(tenant, 4, status=Conversion.Status.REJECTED, prefix="rejected")  # earned nothing: not counted
    seed(tenant, 4, occurred_at=datetime(2026, 2, 1, tzinfo=UTC), prefix="february")
    third = convert(tenant, "NEW-3")
    assert (third.commission_minor, third.explanation["conversions_this_month"]) == (1000, 2)
    fourth = convert(tenant, "NEW-4", occurred_at=NOW + timedelta(minutes=1), visitor="v4")
    assert fourth.commission_minor == 0
    assert fourth.explanation["reason"] == "monthly cap reached"
    assert fourth.explanation["conversions_this_month"] == 3


def test_rule_without_tiers_or_cap_keeps_its_plain_rate(tenant):
    link = link_for(tenant)
    now = timezone.now()
    click = click_for(link, created_at=now - timedelta(hours=1))
    seed(tenant, 60, occurred_at=now - timedelta(minutes=1))
    conversion, _ = services.record_conversion(
        program=tenant.program, order_id="X", amount="100.00", currency=tenant.program.currency,
        source=Conversion.Source.API, click_id=click.click_id, occurred_at=now, now=now)
    assert conversion.commission_minor == 1000
    assert "approved_count_this_month" not in conversion.explanation
