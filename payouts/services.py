"""Writes of the payouts app: merchant funding, invoices, funding-status refresh, billing settings."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from network import money
from network import services as network_services
from network.models import Network
from payouts import ledger, selectors
from payouts.ledger import AccountKind, Line
from payouts.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerTransaction,
    MerchantFunding,
    NetworkBillingSettings,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from merchants.models import Merchant

logger = logging.getLogger(__name__)


# --- Merchant funding ---

def record_merchant_funding(*, network: Network, merchant_id: int, amount_minor: int, currency: str,
                            reference: str, method: str = MerchantFunding.Method.BANK_TRANSFER,
                            note: str = "", received_at: datetime | None = None,
                            actor: AbstractBaseUser | None = None) -> tuple[MerchantFunding, bool]:
    """Record a prepayment into a merchant's balance; the same reference again returns the first record.

    Returns (funding, created). Cash at bank is debited, the merchant's balance credited.
    """
    from merchants.models import Merchant

    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": ["Give the bank transfer's reference."]})
    if len(reference) > 120:
        raise ValidationError({"reference": ["At most 120 characters."]})
    try:
        money.validate_currency(currency)
    except ValidationError:
        raise ValidationError({"currency": [f"{currency!r} is not an ISO 4217 currency code."]}) from None
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise ValidationError({"amount": ["The amount must be positive."]})
    merchant = Merchant.objects.for_network(network).filter(pk=merchant_id).first()
    if merchant is None:
        raise ValidationError({"merchant": ["No such merchant in this network."]})
    existing = MerchantFunding.objects.for_network(network).filter(reference=reference).first()
    if existing is not None:
        return _same_funding(existing, merchant.pk, amount_minor, currency), False
    try:
        with transaction.atomic():
            cash = ledger.get_account(network=network, kind=AccountKind.CASH, currency=currency)
            balance = ledger.get_account(network=network, kind=AccountKind.MERCHANT_BALANCE, currency=currency,
                                         merchant=merchant)
            received_at = received_at or timezone.now()
            posted = ledger.post(
                network=network, idempotency_key=f"funding:{reference}",
                lines=[Line.debit(cash, amount_minor), Line.credit(balance, amount_minor)],
                kind=LedgerTransaction.Kind.FUNDING, source=f"funding:{reference}",
                description=f"Prepayment by {merchant.name} ({reference})"[:255], occurred_at=received_at,
            )
            funding = MerchantFunding.objects.create(
                network=network, merchant=merchant, method=method, reference=reference, amount_minor=amount_minor,
                currency=currency, note=note[:255], received_at=received_at,
                recorded_by=actor if actor is not None and actor.is_authenticated else None,
                ledger_transaction=posted,
            )
            network_services.record_audit(network=network, actor=actor, action="merchant.funded", obj=funding,
                                          data={"merchant": merchant.pk, "amount_minor": amount_minor,
                                                "currency": currency, "reference": reference})
    except (IntegrityError, ledger.LedgerConflict):
        existing = MerchantFunding.objects.for_network(network).filter(reference=reference).first()
        if existing is None:
            raise ValidationError({"reference": ["This reference was already used for another payment."]}) from None
        return _same_funding(existing, merchant.pk, amount_minor, currency), False
    return funding, True


def _same_funding(existing: MerchantFunding, merchant_id: int, amount_minor: int, currency: str) -> MerchantFunding:
    if (existing.merchant_id, existing.amount_minor, existing.currency) != (merchant_id, amount_minor, currency):
        raise ValidationError({"reference": ["This reference was already recorded with other details."]})
    return existing


def create_stripe_funding_checkout(*, network: Network, merchant: Merchant, amount_minor: int,
                                   currency: str) -> str:
    """Production stub: a Stripe Checkout session for a prepayment; returns its URL.

    The `checkout.session.completed` webhook then calls `record_merchant_funding(method="stripe",
    reference=<session id>)`, so a retried webhook records the payment once. Not wired in tests: no
    network calls; configure STRIPE_API_KEY to use it.
    """
    if not settings.STRIPE_API_KEY:
        raise ImproperlyConfigured("Set STRIPE_API_KEY to take merchant prepayments through Stripe.")
    import stripe

    client = stripe.StripeClient(settings.STRIPE_API_KEY)
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": currency.lower(), "unit_amount": amount_minor,
            "product_data": {"name": f"Prepayment {network.display_name}"}}}],
        "metadata": {"network": str(network.pk), "merchant": str(merchant.pk)},
        "success_url": f"https://{settings.BASE_DOMAIN}/merchant/billing/",
    }, options={"idempotency_key": f"funding-checkout:{network.pk}:{merchant.pk}:{amount_minor}:{currency}"})
    return session.url or ""


@transaction.atomic
def update_billing_settings(*, network: Network, funding_horizon_days: int,
                            pause_unfunded_programs: bool) -> NetworkBillingSettings:
    """Save the network's funding horizon and pause choice."""
    if not 1 <= funding_horizon_days <= 365:
        raise ValidationError({"funding_horizon_days": ["Between 1 and 365 days."]})
    found, _ = NetworkBillingSettings.objects.update_or_create(
        network=network, defaults={"funding_horizon_days": funding_horizon_days,
                                   "pause_unfunded_programs": pause_unfunded_programs})
    return found


def refresh_funding_status(*, network: Network, now: datetime | None = None) -> dict[int, str]:
    """Recompute every program's funding status; store it on affiliates.ProgramMetrics when that exists.

    When the network opted in, active programs whose merchant balance is exhausted are paused.
    """
    from merchants.models import Program

    program_ids = list(Program.objects.for_network(network).values_list("pk", flat=True))
    statuses = selectors.funding_status_for_programs(network, program_ids, now=now)
    try:
        metrics = apps.get_model("affiliates", "ProgramMetrics")
    except LookupError:
        metrics = None
    if metrics is not None:
        try:
            existing = set(metrics.objects.filter(program_id__in=list(statuses)).values_list("program_id", flat=True))
            # Programs without a metrics row yet get one; the affiliates app fills the other figures.
            metrics.objects.bulk_create(
                [metrics(network=network, program_id=pk, funding_status=value)
                 for pk, value in statuses.items() if pk not in existing], ignore_conflicts=True)
        except (FieldError, TypeError):
            logger.warning("affiliates.ProgramMetrics has an unexpected shape; funding status not stored")
            metrics = None
    if metrics is not None:
        for status in selectors.FUNDING_STATUSES:
            ids = [pk for pk, value in statuses.items() if value == status]
            if not ids:
                continue
            try:
                metrics.objects.filter(program_id__in=ids).exclude(funding_status=status).update(funding_status=status)
            except FieldError:
                logger.warning("affiliates.ProgramMetrics has no program/funding_status field; not stored")
                break
    if selectors.billing_settings(network=network).pause_unfunded_programs:
        unfunded = [pk for pk, value in statuses.items() if value == selectors.UNFUNDED]
        _pause_programs(network=network, program_ids=unfunded)
    return statuses


@transaction.atomic
def _pause_programs(*, network: Network, program_ids: list[int]) -> None:
    from merchants.models import Program

    for program in Program.objects.for_network(network).filter(pk__in=program_ids,
                                                               status=Program.Status.ACTIVE).select_for_update():
        # Conditional update: a program the merchant changed meanwhile is left alone.
        changed = Program.objects.filter(pk=program.pk, status=Program.Status.ACTIVE).update(
            status=Program.Status.PAUSED)
        if changed:
            network_services.record_audit(network=network, actor=None, action="program.paused_unfunded",
                                          obj=program, data={"reason": "merchant balance exhausted"})


# --- Invoices ---

def month_bounds(*, network: Network, period: date) -> tuple[date, date, datetime, datetime]:
    """The calendar month containing `period`, in the network's time zone: (first, next first, start, end)."""
    first = period.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    zone = ZoneInfo(network.time_zone)
    return (first, following, datetime.combine(first, time(), tzinfo=zone),
            datetime.combine(following, time(), tzinfo=zone))


def previous_month(*, network: Network, now: datetime | None = None) -> date:
    """The first day of the month before `now` in the network's time zone."""
    local = (now or timezone.now()).astimezone(ZoneInfo(network.time_zone)).date().replace(day=1)
    return date(local.year - (local.month == 1), (local.month - 2) % 12 + 1, 1)


@transaction.atomic
def issue_invoices(*, network: Network, period: date, now: datetime | None = None) -> list[Invoice]:
    """Invoice each merchant with activity in the month of `period`, per currency; a rerun issues nothing new.

    Numbers come from the network's counter row, locked for the whole run, so they are sequential and
    gap-free (a failed run rolls back its numbers with everything else).
    """
    first, following, start, end = month_bounds(network=network, period=period)
    if now is not None and end > now:
        raise ValidationError({"period": ["The month has not ended yet."]})
    InvoiceCounter.objects.get_or_create(network=network)
    counter = InvoiceCounter.objects.select_for_update().get(network=network)
    activity = selectors.period_activity(network=network, start=start, end=end)
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in activity:
        groups.setdefault((row["merchant_id"], row["currency"]), []).append(row)
    done = set(Invoice.objects.for_network(network).filter(period_start=first)
               .values_list("merchant_id", "currency"))
    from merchants.models import Program

    program_names = dict(Program.objects.for_network(network)
                         .filter(pk__in={r["program_id"] for r in activity if r["program_id"]})
                         .values_list("pk", "name"))
    kind_labels = dict(LedgerTransaction.Kind.choices)
    issued = []
    for (merchant_id, currency), rows in sorted(groups.items()):
        if (merchant_id, currency) in done:
            continue
        invoice = Invoice.objects.create(
            network=network, merchant_id=merchant_id, number=counter.next_number, period_start=first,
            period_end=following, currency=currency, commission_minor=sum(r["commission_minor"] for r in rows),
            fee_minor=sum(r["fee_minor"] for r in rows), total_minor=sum(r["total_minor"] for r in rows),
        )
        InvoiceLine.objects.bulk_create([
            InvoiceLine(network=network, invoice=invoice, program_id=r["program_id"], kind=r["kind"],
                        description=f"{program_names.get(r['program_id'], '—')} · {kind_labels[r['kind']]}",
                        transactions=r["transactions"], commission_minor=r["commission_minor"],
                        fee_minor=r["fee_minor"], total_minor=r["total_minor"])
            for r in rows
        ])
        counter.next_number += 1
        issued.append(invoice)
    if issued:
        InvoiceCounter.objects.filter(pk=counter.pk).update(next_number=counter.next_number)
    return issued
