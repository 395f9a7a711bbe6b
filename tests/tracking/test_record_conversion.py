"""record_conversion: validation, idempotency, attribution precedence, windows, first/last click, fraud."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from affiliates.models import Coupon, Enrollment
from merchants.models import Program, ProgramTerms
from tests import factories
from tests.tracking.factories import click_for, link_for
from tracking import services
from tracking.models import Conversion, ConversionEvent, Customer

pytestmark = pytest.mark.django_db


def record(tenant, **overrides):
    now = overrides.pop("now", timezone.now())
    fields = {"program": tenant.program, "order_id": "A-1", "amount": "100.00", "currency": "USD",
              "source": Conversion.Source.API, "now": now}
    fields.update(overrides)
    return services.record_conversion(**fields)


def test_click_id_conversion_is_priced_and_pending(tenant):
    now = timezone.now()
    link = link_for(tenant)
    click = click_for(link, created_at=now - timedelta(hours=1), sub1="mail")
    conversion, created = record(tenant, click_id=click.click_id, occurred_at=now, now=now)
    assert created is True
    assert (conversion.status, conversion.affiliate_id, conversion.attribution) == (
        "pending", tenant.affiliate.pk, "click_id")
    assert (conversion.amount_minor, conversion.commission_minor, conversion.currency) == (10000, 1000, "USD")
    assert conversion.explanation["type"] == "percent"
    assert Decimal(conversion.explanation["rate"]) == Decimal(10)
    assert conversion.explanation["attribution"]["method"] == "click_id"
    assert conversion.sub1 == "mail"
    assert conversion.lock_until == now + timedelta(days=tenant.program.lock_days)
    assert list(ConversionEvent.objects.values_list("kind", "to_status")) == [("created", "pending")]


def test_replay_returns_the_existing_conversion(tenant):
    first, created = record(tenant)
    again, created_again = record(tenant, amount="999.00")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert again.amount_minor == 10000
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize(("field", "overrides"), [
    ("amount", {"amount": "abc"}), ("amount", {"amount": "-1.00"}), ("amount", {"amount": "1.001"}),
    ("amount", {"amount": ""}), ("currency", {"currency": "EUR"}), ("currency", {"currency": ""}),
    ("order_id", {"order_id": ""}), ("order_id", {"order_id": "x" * 129}), ("action", {"action": "lead"}),
    ("occurred_at", {"occurred_at": "yesterday"}),
])
def test_validation_names_the_field_and_stores_nothing(tenant, field, overrides):
    with pytest.raises(ValidationError) as error:
        record(tenant, **overrides)
    assert field in error.value.message_dict
    assert Conversion.objects.count() == 0


def test_occurred_at_future_boundary(tenant):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        record(tenant, occurred_at=now + timedelta(minutes=5, seconds=1), now=now)
    assert "occurred_at" in error.value.message_dict
    conversion, _ = record(tenant, occurred_at=now + timedelta(minutes=5), now=now)
    assert conversion.occurred_at == now + timedelta(minutes=5)


def test_occurred_at_iso_string(tenant):
    now = timezone.now()
    stamp = (now - timedelta(days=1)).replace(microsecond=0)
    conversion, _ = record(tenant, occurred_at=stamp.isoformat(), now=now)
    assert conversion.occurred_at == stamp


def test_cookie_window_one_second_inside_and_outside(tenant):
    now = timezone.now()
    link = link_for(tenant)
    window = timedelta(days=tenant.program.cookie_window_days)
    inside = click_for(link, created_at=now - window, visitor_hash="a")
    outside = click_for(link, created_at=now - window - timedelta(seconds=1), visitor_hash="b")
    credited, _ = record(tenant, order_id="in", click_id=inside.click_id, occurred_at=now, now=now)
    late, _ = record(tenant, order_id="out", click_id=outside.click_id, occurred_at=now, now=now)
    assert (credited.affiliate_id, credited.status) == (tenant.affiliate.pk, "pending")
    assert (late.affiliate_id, late.status, late.commission_minor, late.attribution) == (None, "rejected", 0, "none")
    assert "cookie window" in late.status_reason
    assert late.click_id == outside.pk  # kept for the merchant to see


def test_unknown_click_id_is_stored_unattributed(tenant, other_tenant):
    now = timezone.now()
    foreign = click_for(link_for(other_tenant), created_at=now - timedelta(hours=1))
    conversion, _ = record(tenant, click_id=foreign.click_id, now=now)
    assert (conversion.affiliate_id, conversion.click_id, conversion.status) == (None, None, "rejected")
    assert "unknown" in conversion.status_reason


def test_unapproved_enrollment_is_unattributed(tenant):
    now = timezone.now()
    link = link_for(tenant)
    click = click_for(link, created_at=now - timedelta(hours=1))
    Enrollment.objects.filter(pk=link.enrollment_id).update(status=Enrollment.Status.SUSPENDED)
    conversion, _ = record(tenant, click_id=click.click_id, now=now)
    assert conversion.affiliate_id is None
    assert "enrollment" in conversion.status_reason


def _second_affiliate(tenant):
    return factories.AffiliateFactory(network=tenant.network)


def test_precedence_click_over_coupon_over_customer_over_cookie(tenant):
    now = timezone.now()
    a_click, a_coupon, a_customer, a_cookie = (tenant.affiliate, _second_affiliate(tenant),
                                               _second_affiliate(tenant), _second_affiliate(tenant))
    click = click_for(link_for(tenant, affiliate=a_click), created_at=now - timedelta(hours=2), visitor_hash="1")
    link_for(tenant, affiliate=a_coupon)
    Coupon.objects.create(network=tenant.network, program=tenant.program, affiliate=a_coupon, code="SAVE10")
    link_for(tenant, affiliate=a_customer)
    Customer.objects.create(network=tenant.network, merchant=tenant.merchant, program=tenant.program,
                            affiliate=a_customer, external_id="cust-9")
    cookie_click = click_for(link_for(tenant, affiliate=a_cookie), created_at=now - timedelta(hours=1),
                             visitor_hash="2")
    everything = {"click_id": click.click_id, "coupon": "save10", "customer_id": "cust-9",
                  "cookie_click_id": cookie_click.click_id}
    by_click, _ = record(tenant, order_id="1", now=now, **everything)
    by_coupon, _ = record(tenant, order_id="2", now=now, **{**everything, "click_id": ""})
    by_customer, _ = record(tenant, order_id="3", now=now, **{**everything, "click_id": "", "coupon": ""})
    by_cookie, _ = record(tenant, order_id="4", now=now, cookie_click_id=cookie_click.click_id)
    assert [(c.attribution, c.affiliate_id) for c in (by_click, by_coupon, by_customer, by_cookie)] == [
        ("click_id", a_click.pk), ("coupon", a_coupon.pk), ("customer", a_customer.pk), ("cookie", a_cookie.pk)]


def test_customer_is_bound_on_first_attributed_conversion(tenant):
    now = timezone.now()
    click = click_for(link_for(tenant), created_at=now - timedelta(hours=1))
    record(tenant, order_id="1", click_id=click.click_id, customer_id="cus_123", now=now)
    customer = Customer.objects.get()
    assert (customer.external_id, customer.affiliate_id, customer.first_click_id) == (
        "cus_123", tenant.affiliate.pk, click.pk)
    later, _ = record(tenant, order_id="2", customer_id="cus_123", now=now + timedelta(days=90),
                      occurred_at=now + timedelta(days=90))
    assert (later.attribution, later.affiliate_id, later.customer_id) == ("customer", tenant.affiliate.pk,
                                                                           customer.pk)


@pytest.mark.parametrize(("model", "winner"), [("last_click", "second"), ("first_click", "first")])
def test_first_vs_last_click(tenant, model, winner):
    Program.objects.filter(pk=tenant.program.pk).update(attribution=model)
    tenant.program.refresh_from_db()
    now = timezone.now()
    other = _second_affiliate(tenant)
    first = click_for(link_for(tenant), created_at=now - timedelta(days=3), visitor_hash="same")
    second = click_for(link_for(tenant, affiliate=other), created_at=now - timedelta(days=1), visitor_hash="same")
    # Whichever click id the merchant reports, the program's model decides.
    for order, reported in (("x", first), ("y", second)):
        conversion, _ = record(tenant, order_id=order, click_id=reported.click_id, now=now)
        expected = first if winner == "first" else second
        assert (conversion.click_id, conversion.affiliate_id) == (expected.pk, expected.affiliate_id)


def test_duplicate_click_credits_no_one(tenant):
    now = timezone.now()
    click = click_for(link_for(tenant), created_at=now - timedelta(hours=1), is_attributable=False)
    conversion, _ = record(tenant, click_id=click.click_id, now=now)
    assert conversion.affiliate_id is None


def test_too_fast_conversion_is_held(tenant):
    now = timezone.now()
    seconds = tenant.program.min_seconds_to_convert
    fast = click_for(link_for(tenant), created_at=now - timedelta(seconds=seconds - 1), visitor_hash="f")
    ok = click_for(link_for(tenant), created_at=now - timedelta(seconds=seconds), visitor_hash="o")
    held, _ = record(tenant, order_id="fast", click_id=fast.click_id, now=now)
    fine, _ = record(tenant, order_id="ok", click_id=ok.click_id, now=now)
    assert (held.status, held.flags) == ("hold", ["too_fast"])
    assert (fine.status, fine.flags) == ("pending", [])


def test_self_referral_is_held(tenant):
    now = timezone.now()
    click = click_for(link_for(tenant), created_at=now - timedelta(hours=1))
    conversion, _ = record(tenant, click_id=click.click_id, customer_email=tenant.affiliate_user.email.upper(),
                           now=now)
    assert (conversion.status, conversion.flags) == ("hold", ["self_referral"])
    assert "self_referral" in conversion.status_reason


def test_paid_search_click_held_when_terms_forbid_brand_bidding(tenant):
    now = timezone.now()
    click = click_for(link_for(tenant), created_at=now - timedelta(hours=1), paid_click_params=["gclid"])
    held, _ = record(tenant, order_id="1", click_id=click.click_id, now=now)
    assert (held.status, held.flags) == ("hold", ["paid_search"])
    ProgramTerms.objects.filter(program=tenant.program).update(ppc_brand_bidding=True)
    allowed, _ = record(tenant, order_id="2", click_id=click.click_id, now=now)
    assert (allowed.status, allowed.flags) == ("pending", [])


def test_ip_velocity_is_held(tenant):
    now = timezone.now()
    click = click_for(link_for(tenant), created_at=now - timedelta(hours=1))
    results = [record(tenant, order_id=f"o{i}", click_id=click.click_id, ip_hash="same-ip", now=now)[0]
               for i in range(services.IP_VELOCITY_LIMIT + 1)]
    assert [c.status for c in results] == ["pending"] * services.IP_VELOCITY_LIMIT + ["hold"]
    assert results[-1].flags == ["ip_velocity"]


def test_transition_conversion_conditional_and_evented(tenant):
    conversion, _ = record(tenant, click_id="")
    # Unattributed conversions are rejected: a terminal state.
    with pytest.raises(ValidationError) as error:
        services.transition_conversion(network_id=tenant.network.pk, conversion_id=conversion.pk,
                                       to_status="approved")
    assert "status" in error.value.message_dict
    now = timezone.now()
    click = click_for(link_for(tenant), created_at=now - timedelta(hours=1))
    pending, _ = record(tenant, order_id="B", click_id=click.click_id, now=now)
    held = services.transition_conversion(network_id=tenant.network.pk, conversion_id=pending.pk, to_status="hold",
                                          actor=tenant.merchant_user, reason="check")
    assert held.status == "hold"
    event = ConversionEvent.objects.filter(conversion=pending, kind="transition").get()
    assert (event.from_status, event.to_status, event.actor_id, event.reason) == (
        "pending", "hold", tenant.merchant_user.pk, "check")
