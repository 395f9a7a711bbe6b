"""Writes of the tracking app: record a click, record a conversion (the one service behind four doors),
move a conversion's status, request a reversal, configure the Stripe door.

Attribution precedence (docs/tracking.md): click id > coupon code > customer bound to an affiliate >
cookie. The cookie window is checked here, on the server, from the click time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from affiliates import models as affiliate_models
from affiliates.models import AffiliateMembership, Enrollment
from merchants import commissions
from merchants.models import Program, ProgramTerms
from network import money
from tracking import clicks, program_rules, recorder
from tracking.models import Click, Conversion, ConversionEvent, Customer, ReversalRequest, StripeIntegration

logger = logging.getLogger("tracking")

FUTURE_TOLERANCE = timedelta(minutes=5)
# Conversions from one address within a day, per program, beyond which the next ones are held.
IP_VELOCITY_LIMIT = 5
IP_VELOCITY_WINDOW = timedelta(hours=24)


def record_click(*, entry: dict[str, Any], click_id: str, now: datetime, subs: list[str], destination_url: str,
                 referrer: str, user_agent: str, device: str, country: str, ip_hash: str, visitor: str,
                 paid_click_params: list[str]) -> str | None:
    """Screen for a duplicate and store one click durably before returning; the first click's id if a duplicate.

    Group commit on PostgreSQL (tracking/recorder.py). A duplicate (same visitor and link within the
    program's window) is stored as a gross click, neither unique nor attributable.
    """
    seconds = int(entry["duplicate_seconds"])
    claim = (clicks.duplicate_key(entry["link_id"], visitor), click_id, seconds) if seconds and visitor else None
    # A plain list in recorder.CLICK_COLUMNS order: no model instance on the hot path.
    return recorder.record_click_row([
        entry["network_id"], click_id, now, entry["link_id"], entry["program_id"], entry["affiliate_id"],
        subs[0], subs[1], subs[2], subs[3], subs[4], destination_url[:2000], referrer[:500], user_agent[:500],
        device, country, ip_hash, visitor, paid_click_params, [], True, True,
    ], claim)


@dataclass
class Attribution:
    """Who a conversion is credited to and why (affiliate None = unattributed)."""

    method: str = Conversion.Attribution.NONE
    affiliate_id: int | None = None
    click: Click | None = None
    customer: Customer | None = None
    enrollment: Enrollment | None = None
    notes: list[str] = field(default_factory=list)


def _clean_amount(amount: Any, currency: str) -> int:
    if amount is None or str(amount).strip() == "":
        raise ValidationError({"amount": ["Give the sale amount as a decimal string, e.g. \"12.50\"."]})
    if isinstance(amount, float):
        raise ValidationError({"amount": ["Give the amount as a decimal string, not a float."]})
    try:
        minor = money.to_minor(amount if isinstance(amount, Decimal | int) else str(amount), currency)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from None
    if minor < 0:
        raise ValidationError({"amount": ["The amount may not be negative."]})
    if minor > 10**15:
        raise ValidationError({"amount": ["The amount is implausibly large."]})
    return minor


def _clean_occurred_at(occurred_at: datetime | str | None, now: datetime) -> datetime:
    if occurred_at is None or occurred_at == "":
        return now
    if isinstance(occurred_at, str):
        parsed = parse_datetime(occurred_at.strip())
        if parsed is None:
            raise ValidationError({"occurred_at": ["Give an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z."]})
        occurred_at = parsed
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, timezone.UTC)
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": ["The conversion time is more than 5 minutes in the future."]})
    return occurred_at


def _clean_text(name: str, value: Any, max_length: int) -> str:
    text = "" if value is None else str(value).strip()
    # Unfilled postback macros ("{click_id}") mean "no value".
    if text.startswith("{") and text.endswith("}"):
        text = ""
    if len(text) > max_length:
        raise ValidationError({name: [f"At most {max_length} characters."]})
    return text


def _click_for(program: Program, click_id: str) -> Click | None:
    # The link's enrollment comes along: attribution needs it, and one query beats three.
    return (Click.objects.for_network(program.network_id).select_related("link__enrollment")
            .filter(program=program, click_id=click_id).first())


def _apply_attribution_model(program: Program, click: Click, occurred_at: datetime) -> tuple[Click, str]:
    """Last click or first click: the same visitor's latest (or earliest) attributable click in the window."""
    if not click.visitor_hash:
        return click, ""
    window = timedelta(days=program.cookie_window_days)
    same_visitor = Click.objects.for_network(program.network_id).filter(
        program=program, visitor_hash=click.visitor_hash, is_attributable=True,
        created_at__gte=occurred_at - window, created_at__lte=occurred_at)
    first_click = program.attribution == Program.Attribution.FIRST_CLICK
    chosen = same_visitor.select_related("link__enrollment").order_by(
        "created_at" if first_click else "-created_at").first()
    if chosen is None or chosen.pk == click.pk:
        return click, ""
    model = "first" if first_click else "last"
    return chosen, f"{model} click by the same visitor ({chosen.click_id}) replaces {click.click_id}"


def _from_click(program: Program, click: Click, occurred_at: datetime, method: str,
                attribution: Attribution) -> bool:
    if not click.is_attributable:
        attribution.notes.append(f"click {click.click_id} is a duplicate click and credits no one")
        return False
    click, note = _apply_attribution_model(program, click, occurred_at)
    if note:
        attribution.notes.append(note)
    if click.created_at + timedelta(days=program.cookie_window_days) < occurred_at:
        attribution.notes.append(f"cookie window of {program.cookie_window_days} days after the click "
                                 f"{click.click_id} has passed")
        attribution.click = click  # kept for the merchant's view; it credits no one
        return False
    attribution.method, attribution.affiliate_id, attribution.click = method, click.affiliate_id, click
    return True


def _coupon_affiliate(program: Program, coupon: str) -> int | None:
    coupon_model = getattr(affiliate_models, "Coupon", None)  # the affiliates app adds it; absent = no coupons
    if coupon_model is None:
        return None
    found = (coupon_model.objects.for_network(program.network_id)
             .filter(program=program, code__iexact=coupon, is_active=True).values_list("affiliate_id", flat=True)
             .first())
    return found


def _enrollment_of_click(program: Program, attribution: Attribution) -> Enrollment | None:
    """The crediting click's enrollment, loaded with the click (None when it must be queried)."""
    click = attribution.click
    if click is None or attribution.method not in (Conversion.Attribution.CLICK_ID, Conversion.Attribution.COOKIE):
        return None
    link = click._state.fields_cache.get("link")
    enrollment = link._state.fields_cache.get("enrollment") if link is not None else None
    if enrollment is None or (enrollment.program_id, enrollment.affiliate_id) != (program.pk, attribution.affiliate_id):
        return None
    return enrollment


def attribute_conversion(*, program: Program, occurred_at: datetime, click_id: str = "", coupon: str = "",
                         customer_id: str = "", cookie_click_id: str = "") -> Attribution:
    """Decide who earns the conversion: click id > coupon > bound customer > cookie; enrollment must be approved."""
    attribution = Attribution()
    found = False
    if click_id:
        click = _click_for(program, click_id)
        if click is None:
            attribution.notes.append(f"click id {click_id} is unknown for this program")
        else:
            found = _from_click(program, click, occurred_at, Conversion.Attribution.CLICK_ID, attribution)
    if not found and coupon:
        affiliate_id = _coupon_affiliate(program, coupon)
        if affiliate_id is None:
            attribution.notes.append(f"coupon {coupon} belongs to no affiliate of this program")
        else:
            attribution.method, attribution.affiliate_id, found = Conversion.Attribution.COUPON, affiliate_id, True
    if not found and customer_id:
        customer = Customer.objects.for_network(program.network_id).filter(
            merchant_id=program.merchant_id, program=program, external_id=customer_id).first()
        if customer is not None:
            attribution.method, attribution.affiliate_id = Conversion.Attribution.CUSTOMER, customer.affiliate_id
            attribution.customer, found = customer, True
    if not found and cookie_click_id and cookie_click_id != click_id:
        click = _click_for(program, cookie_click_id)
        if click is None:
            attribution.notes.append("the cookie's click is unknown for this program")
        else:
            found = _from_click(program, click, occurred_at, Conversion.Attribution.COOKIE, attribution)
    if not found:
        attribution.method, attribution.affiliate_id = Conversion.Attribution.NONE, None
        if not attribution.notes:
            attribution.notes.append("no click id, coupon, bound customer or cookie")
        return attribution
    enrollment = _enrollment_of_click(program, attribution)
    if enrollment is None:
        enrollment = Enrollment.objects.for_network(program.network_id).filter(
            program=program, affiliate_id=attribution.affiliate_id).first()
    if enrollment is None or enrollment.status != Enrollment.Status.APPROVED:
        attribution.notes.append("the affiliate's enrollment in the program is not approved")
        attribution.method, attribution.affiliate_id = Conversion.Attribution.NONE, None
        return attribution
    attribution.enrollment = enrollment
    return attribution


def _brand_bidding_forbidden(program: Program, terms_version: int | None) -> bool:
    terms = ProgramTerms.objects.for_network(program.network_id).filter(program=program)
    chosen = terms.filter(version=terms_version).first() if terms_version else None
    chosen = chosen or terms.order_by("-version").first()
    return chosen is not None and not chosen.ppc_brand_bidding


def screen_conversion(*, program: Program, attribution: Attribution, occurred_at: datetime, customer_email: str,
                      customer_id: str, ip_hash: str, terms_version: int | None) -> list[str]:
    """Fraud flags for an attributed conversion; any flag puts it on hold."""
    flags: list[str] = []
    click = attribution.click
    if click is not None and attribution.affiliate_id is not None:
        seconds = (occurred_at - click.created_at).total_seconds()
        if seconds < program.min_seconds_to_convert:
            flags.append("too_fast")
        if click.paid_click_params and _brand_bidding_forbidden(program, terms_version):
            flags.append("paid_search")
    if attribution.affiliate_id is not None and (customer_email or customer_id):
        member_emails = {email.lower() for email in AffiliateMembership.objects.for_network(program.network_id)
                         .filter(affiliate_id=attribution.affiliate_id).values_list("user__email", flat=True)}
        if (customer_email and customer_email.lower() in member_emails) or (customer_id and customer_id.lower() in member_emails):
            flags.append("self_referral")
    if ip_hash and attribution.affiliate_id is not None:
        recent = Conversion.objects.for_network(program.network_id).filter(
            program=program, ip_hash=ip_hash, occurred_at__gte=occurred_at - IP_VELOCITY_WINDOW).count()
        if recent >= IP_VELOCITY_LIMIT:
            flags.append("ip_velocity")
    return flags


def _bind_customer(*, program: Program, attribution: Attribution, customer_ref: str, now: datetime) -> Customer:
    customer, _ = Customer.objects.get_or_create(
        merchant_id=program.merchant_id, external_id=customer_ref,
        defaults={"network_id": program.network_id, "program": program, "affiliate_id": attribution.affiliate_id,
                  "first_click": attribution.click, "bound_at": now})
    return customer


def _month_start(program: Program, occurred_at: datetime) -> datetime:
    """Midnight of the first day of occurred_at's calendar month in the network's time zone."""
    network = program.network  # loaded with the program by the callers that care about queries
    try:
        zone = ZoneInfo(network.time_zone or "UTC")
    except (ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    local = occurred_at.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)


def month_counts(*, program: Program, affiliate_id: int, action: str, occurred_at: datetime) -> tuple[int, int]:
    """(approved, counted) conversions of this affiliate, program and action in occurred_at's calendar month
    (network time zone), before occurred_at, in one aggregate query.

    `approved` (approved or paid) drives the rule's tiers; `counted` (everything but rejected and reversed,
    which earn nothing) drives the monthly cap.
    """
    totals = Conversion.objects.for_network(program.network_id).filter(
        program=program, affiliate_id=affiliate_id, action=action,
        occurred_at__gte=_month_start(program, occurred_at), occurred_at__lt=occurred_at,
    ).aggregate(
        approved=Count("pk", filter=Q(status__in=[Conversion.Status.APPROVED, Conversion.Status.PAID])),
        counted=Count("pk", filter=~Q(status__in=[Conversion.Status.REJECTED, Conversion.Status.REVERSED])))
    return int(totals["approved"] or 0), int(totals["counted"] or 0)


def record_conversion(*, program: Program, order_id: Any, amount: Any, currency: Any, source: str,
                      action: Any = "sale", occurred_at: datetime | str | None = None, now: datetime | None = None,
                      click_id: Any = "", coupon: Any = "", customer_id: Any = "", cookie_click_id: Any = "",
                      customer_email: Any = "", ip_hash: str = "", payment_ref: str = "",
                      recurring_index: int = 0) -> tuple[Conversion, bool]:
    """Record a conversion once per (program, order id): attribute, price, screen; (conversion, created)."""
    now = now or timezone.now()
    order_id = _clean_text("order_id", order_id, 128)
    if not order_id:
        raise ValidationError({"order_id": ["Give the merchant's order id."]})
    currency = _clean_text("currency", currency, 3).upper()
    if not currency:
        raise ValidationError({"currency": ["Give an ISO 4217 currency code, e.g. EUR."]})
    if currency != program.currency:
        raise ValidationError({"currency": [f"The program is in {program.currency}; no currency conversion."]})
    action = _clean_text("action", action, 32) or "sale"
    amount_minor = _clean_amount(amount, currency)
    occurred = _clean_occurred_at(occurred_at, now)
    click_id = _clean_text("click_id", click_id, 64)
    coupon = _clean_text("coupon", coupon, 64)
    customer_id = _clean_text("customer_id", customer_id, 128)
    cookie_click_id = _clean_text("cookie_click_id", cookie_click_id, 64)
    customer_email = _clean_text("customer_email", customer_email, 254)
    rule = program_rules.rule_for(program, action)  # cached per program version: no query when warm
    if rule is None:
        raise ValidationError({"action": [f"The program pays no commission for the action {action!r}."]})

    # No look-up of an existing (program, order id) first: the unique constraint is the idempotency
    # guarantee, and a replay lands in the IntegrityError branch below (one query less for every new order).
    attribution = attribute_conversion(program=program, occurred_at=occurred, click_id=click_id, coupon=coupon,
                                       customer_id=customer_id, cookie_click_id=cookie_click_id)
    terms_version = None
    commission_minor, rule_id, explanation = 0, None, {}
    if attribution.affiliate_id is not None:
        terms_version = (attribution.enrollment.accepted_terms_version if attribution.enrollment else None) \
            or program.terms_version
        approved_count, counted = 0, 0
        if rule.tiers or rule.monthly_cap_per_affiliate is not None:  # only tiers and caps need the month's counts
            approved_count, counted = month_counts(program=program, affiliate_id=attribution.affiliate_id,
                                                   action=action, occurred_at=occurred)
        quote = commissions.compute_commission(
            program=program, affiliate_id=attribution.affiliate_id, action=action, sale_amount_minor=amount_minor,
            currency=currency, occurred_at=occurred, recurring_index=recurring_index,
            approved_count_this_month=approved_count, conversions_this_month=counted, rule=rule)
        commission_minor, rule_id, explanation = quote.amount_minor, quote.rule_id, dict(quote.explanation)
        explanation["terms_version"] = terms_version
    explanation["attribution"] = {"method": attribution.method, "notes": attribution.notes,
                                  "model": program.attribution}
    flags = screen_conversion(program=program, attribution=attribution, occurred_at=occurred,
                              customer_email=customer_email, customer_id=customer_id, ip_hash=ip_hash,
                              terms_version=terms_version)
    if attribution.affiliate_id is None:
        # Stored for the merchant to see; rejected so it can never reach the ledger or credit anyone.
        status, reason = Conversion.Status.REJECTED, ("unattributed: " + "; ".join(attribution.notes))[:255]
    elif flags:
        status, reason = Conversion.Status.HOLD, ("held for review: " + ", ".join(flags))[:255]
    else:
        status, reason = Conversion.Status.PENDING, ""
    click = attribution.click
    credited_click = click if attribution.affiliate_id is not None else None
    subs = [getattr(credited_click, f"sub{i}", "") if credited_click else "" for i in range(1, 6)]
    try:
        with transaction.atomic():
            customer = attribution.customer
            if customer is None and customer_id and attribution.affiliate_id is not None:
                customer = _bind_customer(program=program, attribution=attribution, customer_ref=customer_id, now=now)
            conversion = Conversion.objects.create(
                network_id=program.network_id, program=program, merchant_id=program.merchant_id,
                affiliate_id=attribution.affiliate_id, click=click, link_id=click.link_id if credited_click else None,
                customer=customer if attribution.affiliate_id is not None else None, order_id=order_id,
                action=action, amount_minor=amount_minor, currency=currency, commission_minor=commission_minor,
                commission_rule_id=rule_id, terms_version=terms_version, recurring_index=recurring_index,
                explanation=explanation, status=status, status_reason=reason, flags=flags, source=source,
                attribution=attribution.method, attribution_note="; ".join(attribution.notes)[:255],
                coupon_code=coupon.upper(), customer_ref=customer_id, payment_ref=payment_ref[:128], ip_hash=ip_hash,
                sub1=subs[0], sub2=subs[1], sub3=subs[2], sub4=subs[3], sub5=subs[4], occurred_at=occurred,
                lock_until=occurred + timedelta(days=program.lock_days), created_at=now, updated_at=now)
            ConversionEvent.objects.create(network_id=program.network_id, conversion=conversion,
                                           kind=ConversionEvent.Kind.CREATED, to_status=status, reason=reason,
                                           data={"source": source, "flags": flags}, created_at=now)
            from tracking import lifecycle  # imported here: lifecycle sits above this module

            # Webhooks and affiliate postbacks, in this transaction (webhooks.outbox; idempotent per key).
            lifecycle.emit_conversion_event(network=program.network, conversion=conversion,
                                            event_type="conversion.created", key=f"conversion:{conversion.pk}:created")
    except IntegrityError:
        # A concurrent request with the same (program, order id) won the unique constraint: answer with its row.
        existing = Conversion.objects.for_network(program.network_id).filter(program=program,
                                                                             order_id=order_id).first()
        if existing is None:
            raise
        return existing, False
    return conversion, True


def transition_conversion(*, network_id: int, conversion_id: int, to_status: str, actor: Any = None,
                          reason: str = "", now: datetime | None = None) -> Conversion:
    """Move a conversion to `to_status` with a conditional update and an event row; a forbidden move is a 400."""
    now = now or timezone.now()
    if to_status not in Conversion.Status.values:
        raise ValidationError({"status": [f"Unknown status {to_status!r}."]})
    allowed_from = [status for status, targets in Conversion.ALLOWED_TRANSITIONS.items() if to_status in targets]
    with transaction.atomic():
        conversion = Conversion.objects.for_network(network_id).get(pk=conversion_id)
        from_status = conversion.status
        if from_status not in allowed_from:
            raise ValidationError({"status": [f"A {from_status} conversion cannot become {to_status}."]})
        changed = (Conversion.objects.for_network(network_id)
                   .filter(pk=conversion_id, status=from_status)
                   .update(status=to_status, status_reason=reason[:255], updated_at=now))
        if changed != 1:
            # Someone else moved it between our read and our update: the caller may retry on fresh state.
            raise ValidationError({"status": ["The conversion changed meanwhile; try again."]})
        ConversionEvent.objects.create(network_id=network_id, conversion_id=conversion_id,
                                       kind=ConversionEvent.Kind.TRANSITION, from_status=from_status,
                                       to_status=to_status, actor=actor if getattr(actor, "pk", None) else None,
                                       reason=reason[:255], created_at=now)
        conversion.refresh_from_db()
    return conversion


def request_reversal(*, conversion: Conversion, source: str, external_ref: str, amount_minor: int, reason: str,
                     now: datetime | None = None) -> tuple[ReversalRequest, bool]:
    """Note a provider's refund against a conversion once per refund reference; the lifecycle acts on it."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            request = ReversalRequest.objects.create(
                network_id=conversion.network_id, conversion=conversion, source=source, external_ref=external_ref,
                amount_minor=amount_minor, currency=conversion.currency, reason=reason[:255], created_at=now)
            ConversionEvent.objects.create(network_id=conversion.network_id, conversion=conversion,
                                           kind=ConversionEvent.Kind.REVERSAL_REQUESTED, reason=reason[:255],
                                           data={"external_ref": external_ref, "amount_minor": amount_minor},
                                           created_at=now)
    except IntegrityError:
        return ReversalRequest.objects.get(conversion=conversion, external_ref=external_ref), False
    return request, True


@transaction.atomic
def configure_stripe_integration(*, program: Program, webhook_secret: str) -> StripeIntegration:
    """Create or update the program's Stripe webhook endpoint with its signing secret (whsec_…)."""
    secret = webhook_secret.strip()
    if not secret.startswith("whsec_") or len(secret) < 12:
        raise ValidationError({"webhook_secret": ["Paste the endpoint's signing secret; it starts with whsec_."]})
    integration, created = StripeIntegration.objects.get_or_create(
        program=program, defaults={"network_id": program.network_id, "webhook_secret": secret})
    if not created:
        integration.webhook_secret = secret
        integration.is_active = True
        integration.save(update_fields=["webhook_secret", "is_active"])
    return integration
