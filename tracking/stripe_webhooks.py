"""The Stripe door: verified events become conversions, recurring conversions and reversal requests.

- checkout.session.completed: a sale; the click id comes in `client_reference_id` or metadata
  (`aff_click` / `click_id`); the Stripe customer is bound to the affiliate who earned it.
- invoice.paid: for a bound customer, a recurring conversion priced with recurring_index = n (the
  number of earlier conversions of that customer), only while the rule still pays recurring.
- charge.refunded: a reversal request against the conversion paid by that charge.
Events are stored once per (integration, event id): Stripe's retries and duplicates change nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from merchants import commissions
from network import money
from tracking import services
from tracking.models import Conversion, Customer, StripeEvent, StripeIntegration

logger = logging.getLogger("tracking")


class InvalidStripeEvent(Exception):
    """The payload or its signature does not verify."""


def verify_event(*, integration: StripeIntegration, payload: bytes, signature: str) -> dict[str, Any]:
    """The event as a dict, when Stripe's signature over the raw body verifies (300 s tolerance)."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, integration.webhook_secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidStripeEvent(str(error)) from None
    return event.to_dict() if hasattr(event, "to_dict") else dict(event)


def _minor_from_stripe(amount: Any, currency: str) -> str:
    # Stripe sends integers in the currency's smallest unit, which matches our minor units for ISO digits.
    return money.to_major(int(amount or 0), currency)


def _occurred(event: dict[str, Any], now: datetime) -> datetime:
    created = event.get("created")
    if isinstance(created, int | float):
        return min(datetime.fromtimestamp(created, tz=UTC), now)
    return now


def _metadata_click(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return str(obj.get("client_reference_id") or metadata.get("aff_click") or metadata.get("click_id") or "")


def _handle_checkout(integration: StripeIntegration, event: dict[str, Any], now: datetime) -> tuple[str, Conversion | None]:
    session = event["data"]["object"]
    program = integration.program
    currency = str(session.get("currency") or program.currency).upper()
    details = session.get("customer_details") or {}
    conversion, created = services.record_conversion(
        program=program, order_id=session.get("id"), amount=_minor_from_stripe(session.get("amount_total"), currency),
        currency=currency, source=Conversion.Source.STRIPE, action="sale", occurred_at=_occurred(event, now), now=now,
        click_id=_metadata_click(session), customer_id=session.get("customer") or "",
        customer_email=details.get("email") or session.get("customer_email") or "",
        payment_ref=str(session.get("payment_intent") or session.get("invoice") or ""))
    return ("sale recorded" if created else "sale already recorded"), conversion


def _handle_invoice(integration: StripeIntegration, event: dict[str, Any], now: datetime) -> tuple[str, Conversion | None]:
    invoice = event["data"]["object"]
    program = integration.program
    customer_ref = str(invoice.get("customer") or "")
    customer = Customer.objects.for_network(program.network_id).filter(
        merchant_id=program.merchant_id, program=program, external_id=customer_ref).first()
    if customer is None:
        return "customer not bound to an affiliate", None
    earlier = Conversion.objects.for_network(program.network_id).filter(program=program, customer=customer)
    if invoice.get("billing_reason") == "subscription_create" and earlier.exists():
        return "first invoice already credited by checkout", None
    recurring_index = earlier.count()
    currency = str(invoice.get("currency") or program.currency).upper()
    amount = _minor_from_stripe(invoice.get("amount_paid"), currency)
    if recurring_index > 0:
        quote = commissions.compute_commission(
            program=program, affiliate_id=customer.affiliate_id, action="sale",
            sale_amount_minor=money.to_minor(amount, currency), currency=currency, occurred_at=_occurred(event, now),
            recurring_index=recurring_index)
        if quote.explanation.get("reason") == "recurring period over":
            return "the program pays no recurring commission for this payment", None
    conversion, created = services.record_conversion(
        program=program, order_id=invoice.get("id"), amount=amount, currency=currency, source=Conversion.Source.STRIPE,
        action="sale", occurred_at=_occurred(event, now), now=now, customer_id=customer_ref,
        customer_email=invoice.get("customer_email") or "", payment_ref=str(invoice.get("payment_intent") or ""),
        recurring_index=recurring_index)
    return ("recurring sale recorded" if created else "recurring sale already recorded"), conversion


def _handle_refund(integration: StripeIntegration, event: dict[str, Any], now: datetime) -> tuple[str, Conversion | None]:
    charge = event["data"]["object"]
    program = integration.program
    refs = [str(ref) for ref in (charge.get("payment_intent"), charge.get("invoice")) if ref]
    if not refs:
        return "refund without a payment reference", None
    conversion = Conversion.objects.for_network(program.network_id).filter(
        Q(payment_ref__in=refs) | Q(order_id__in=refs), program=program).first()
    if conversion is None:
        return "no conversion for the refunded charge", None
    _, created = services.request_reversal(
        conversion=conversion, source=Conversion.Source.STRIPE, external_ref=str(charge.get("id") or event["id"]),
        amount_minor=int(charge.get("amount_refunded") or 0), reason="Stripe charge refunded", now=now)
    return ("reversal requested" if created else "reversal already requested"), conversion


HANDLERS = {
    "checkout.session.completed": _handle_checkout,
    "invoice.paid": _handle_invoice,
    "charge.refunded": _handle_refund,
}


def process_event(*, integration: StripeIntegration, event: dict[str, Any], now: datetime | None = None) -> StripeEvent:
    """Handle a verified event once; a second delivery of the same event id returns the first outcome."""
    now = now or timezone.now()
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id:
        raise InvalidStripeEvent("event without an id")
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(network_id=integration.network_id, integration=integration,
                                                event_id=event_id, type=event_type, received_at=now)
            handler = HANDLERS.get(event_type)
            if handler is None:
                outcome, conversion = "ignored event type", None
            else:
                try:
                    outcome, conversion = handler(integration, event, now)
                except ValidationError as error:
                    # Acknowledge (Stripe would retry forever) but keep why nothing was recorded.
                    outcome, conversion = f"refused: {error.messages}"[:255], None
            stored.outcome, stored.conversion = outcome[:255], conversion
            stored.save(update_fields=["outcome", "conversion"])
    except IntegrityError:
        return StripeEvent.objects.get(integration=integration, event_id=event_id)
    logger.info("stripe event %s %s: %s", event_id, event_type, stored.outcome)
    return stored
