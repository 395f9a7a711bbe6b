"""Writes of affiliate payouts: profiles, the schedule, batches, review, submission and settlement.

Exactly-once effect (docs/payouts.md): every payout row carries its deterministic provider key
(`reference`) from creation; a payout is claimed (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL) and
"submitting" is COMMITTED before the provider is called; a claim whose outcome is uncertain
(timeout, 5xx, worker killed) is asked about by key before anything is sent again. Every state change
is a locked transition that writes a PayoutEvent and, where money moves, one idempotent ledger posting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from network import money
from network import services as network_services
from network.models import Network
from payouts import hooks, ledger, selectors
from payouts.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutBatch,
    PayoutEvent,
    PayoutMethod,
    PayoutProfile,
    ProviderWebhookEvent,
)
from payouts.providers import (
    PayoutItem,
    PayoutStatus,
    ProviderError,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    WebhookEvent,
    get_provider,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from affiliates.models import Affiliate

logger = logging.getLogger(__name__)

# How long a claim in "submitting" is trusted to be in progress; after it, a run checks by key and resends.
SUBMIT_LEASE = timedelta(minutes=10)
TAX_FORMS = ("w9", "w8ben")
Status = Payout.Status


# --- Schedule ------------------------------------------------------------------------------------

def _month_shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def local_date(*, network: Network, now: datetime) -> date:
    """Today in the network's time zone."""
    return now.astimezone(ZoneInfo(network.time_zone)).date()


def due_period(*, network: Network, now: datetime) -> tuple[str, date]:
    """The latest schedule period whose payout date is on or before `now`: (period key, payout date).

    monthly: the network's payout day each month ("2026-03"); twice_monthly: the 1st and the 16th
    ("2026-03-01", "2026-03-16"); net: N days after a month closes ("net-2026-02" is paid on 1 March + N).
    """
    today = local_date(network=network, now=now)
    schedule = network.payout_schedule
    if schedule == Network.PayoutSchedule.TWICE_MONTHLY:
        day = today.replace(day=16 if today.day >= 16 else 1)
        return f"{day:%Y-%m-%d}", day
    if schedule == Network.PayoutSchedule.NET:
        close = today.replace(day=1)  # the first day after the previous month closed
        while close + timedelta(days=network.payout_net_days) > today:
            close = _month_shift(close, -1)
        closed_month = _month_shift(close, -1)
        return f"net-{closed_month:%Y-%m}", close + timedelta(days=network.payout_net_days)
    day = today.replace(day=network.payout_day)
    if day > today:
        day = _month_shift(day, -1)
    return f"{day:%Y-%m}", day


def next_payout_date(*, network: Network, now: datetime) -> date:
    """The next payout date after today (for the portal's "next expected payout")."""
    today = local_date(network=network, now=now)
    schedule = network.payout_schedule
    if schedule == Network.PayoutSchedule.TWICE_MONTHLY:
        return today.replace(day=16) if today.day < 16 else _month_shift(today.replace(day=1), 1)
    if schedule == Network.PayoutSchedule.NET:
        candidate = today.replace(day=1) + timedelta(days=network.payout_net_days)
        close = today.replace(day=1)
        while candidate <= today:
            close = _month_shift(close, 1)
            candidate = close + timedelta(days=network.payout_net_days)
        return candidate
    day = today.replace(day=network.payout_day)
    return day if day > today else _month_shift(day, 1)


# --- Profiles ------------------------------------------------------------------------------------

def validate_details(*, method: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Normalize payout details with the method's provider; errors name `details.<field>`.

    Validation needs no credentials, but PayPal/Payoneer/Stripe refuse to be built without them, so
    their (stateless) validate_recipient runs on an unconfigured instance.
    """
    if method not in PayoutMethod.values:
        raise ValidationError({"method": [f"Choose one of: {', '.join(PayoutMethod.values)}."]})
    if not isinstance(details, Mapping):
        raise ValidationError({"details": ["Give the details as an object."]})
    from payouts.providers import registry

    try:
        provider = registry.get_provider(method)
    except ProviderNotConfigured:
        provider = _unconfigured(method)
    return provider.validate_recipient(dict(details))


def _unconfigured(method: str) -> Any:
    from payouts.providers.payoneer import PayoneerProvider
    from payouts.providers.paypal import PayPalProvider
    from payouts.providers.stripe_connect import StripeConnectProvider

    cls = {"paypal": PayPalProvider, "payoneer": PayoneerProvider, "stripe": StripeConnectProvider}[method]
    return cls.__new__(cls)


def validate_tax(tax: Mapping[str, Any] | None, *, today: date) -> dict[str, str]:
    """A W-9 / W-8BEN-style declaration: form, legal name, country, tax id and the date it was signed."""
    from django_countries import countries

    if not tax:
        return {}
    if not isinstance(tax, Mapping):
        raise ValidationError({"tax": ["Give the tax declaration as an object."]})
    errors: dict[str, list[str]] = {}
    form = str(tax.get("form") or "").lower()
    if form not in TAX_FORMS:
        errors["tax.form"] = ["Choose w9 (US persons) or w8ben (everyone else)."]
    legal_name = str(tax.get("legal_name") or "").strip()
    if not legal_name or len(legal_name) > 140:
        errors["tax.legal_name"] = ["Enter your legal name (up to 140 characters)."]
    country = str(tax.get("country") or "").strip().upper()
    if country not in dict(countries):
        errors["tax.country"] = ["Enter a two-letter country code."]
    tax_id = str(tax.get("tax_id") or "").strip()
    if not tax_id or len(tax_id) > 40:
        errors["tax.tax_id"] = ["Enter your tax identification number."]
    signed_on = tax.get("signed_on")
    try:
        signed = signed_on if isinstance(signed_on, date) else date.fromisoformat(str(signed_on))
    except ValueError:
        errors["tax.signed_on"] = ["Enter the date you signed (YYYY-MM-DD)."]
    else:
        if signed > today:
            errors["tax.signed_on"] = ["The signing date cannot be in the future."]
    if form == "w9" and country and country != "US" and "tax.country" not in errors:
        errors["tax.form"] = ["A W-9 is for US persons; choose w8ben."]
    if errors:
        raise ValidationError(errors)
    return {"form": form, "legal_name": legal_name, "country": country, "tax_id": tax_id,
            "signed_on": signed.isoformat()}


def _initial_verification(method: str, details: dict[str, Any],
                          previous: PayoutProfile | None) -> tuple[str, str]:
    """Provider-checked methods stay as the provider last said while the account is the same one."""
    if method in (PayoutMethod.PAYPAL, PayoutMethod.BANK, PayoutMethod.SANDBOX):
        return PayoutProfile.Verification.VERIFIED, ""
    if previous is not None and previous.method == method and previous.details == details:
        return previous.verification, previous.verification_note
    if method == PayoutMethod.STRIPE:
        return PayoutProfile.Verification.PENDING, "Finish the Stripe onboarding."
    return PayoutProfile.Verification.PENDING, "Finish the Payoneer registration."


@transaction.atomic
def save_payout_profile(*, network: Network, affiliate_id: int, method: str, details: Mapping[str, Any],
                        currency: str, threshold: str | None, tax: Mapping[str, Any] | None,
                        actor: AbstractBaseUser | None = None, now: datetime | None = None) -> PayoutProfile:
    """Create or replace an affiliate's payout profile; every invalid field is named, nothing is saved."""
    from affiliates.models import Affiliate

    now = now or timezone.now()
    affiliate = Affiliate.objects.for_network(network).get(pk=affiliate_id)
    errors: dict[str, list[str]] = {}
    normalized: dict[str, Any] = {}
    try:
        normalized = validate_details(method=method, details=details)
    except ValidationError as error:
        errors.update(error.message_dict)
    currency = str(currency or "").upper()
    try:
        money.validate_currency(currency)
    except ValidationError:
        errors["currency"] = ["Enter a three-letter currency code."]
    threshold_minor: int | None = None
    if threshold not in (None, "") and "currency" not in errors:
        try:
            threshold_minor = money.to_minor(str(threshold), currency)
        except ValidationError as error:
            errors["threshold"] = error.messages
        else:
            if threshold_minor < network.payout_minimum_minor:
                minimum = money.to_major(network.payout_minimum_minor, currency)
                errors["threshold"] = [f"The threshold must be at least the network minimum {minimum}."]
    try:
        declaration = validate_tax(tax, today=local_date(network=network, now=now))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    previous = PayoutProfile.objects.for_network(network).select_for_update().filter(affiliate=affiliate).first()
    verification, note = _initial_verification(method, normalized, previous)
    values = {"method": method, "details": normalized, "currency": currency, "threshold_minor": threshold_minor,
              "tax": declaration, "verification": verification, "verification_note": note, "updated_at": now}
    if previous is not None and (previous.method != method or previous.details != normalized):
        values["provider_account"] = {}
    profile, _ = PayoutProfile.objects.update_or_create(network=network, affiliate=affiliate, defaults=values)
    network_services.record_audit(network=network, actor=actor, action="payout_profile.saved", obj=profile,
                                  data={"method": method, "currency": currency})
    return profile


def _stripe_provider() -> Any:
    return get_provider(PayoutMethod.STRIPE)


def start_stripe_onboarding(*, network: Network, affiliate_id: int, email: str, refresh_url: str,
                            return_url: str, currency: str | None = None) -> str:
    """Create (once) the affiliate's Express account and a fresh onboarding link; returns the link URL."""
    from affiliates.models import Affiliate

    affiliate = Affiliate.objects.for_network(network).get(pk=affiliate_id)
    profile = PayoutProfile.objects.for_network(network).filter(affiliate=affiliate).first()
    account_id = ""
    if profile is not None and profile.method == PayoutMethod.STRIPE:
        account_id = str(profile.details.get("account_id") or "")
    # The call is outside any transaction: the account key makes a retry return the same account.
    link = _stripe_provider().onboarding_link(
        reference=f"affiliate:{affiliate.pk}", account_id=account_id, email=email,
        country=str(affiliate.country or ""), refresh_url=refresh_url, return_url=return_url)
    _store_provider_account(network=network, affiliate=affiliate, method=PayoutMethod.STRIPE,
                            details={"account_id": link.account_id}, currency=currency,
                            note="Finish the Stripe onboarding.")
    return link.url


def start_payoneer_registration(*, network: Network, affiliate_id: int, redirect_url: str = "",
                                currency: str | None = None) -> str:
    """A Payoneer registration link for our payee id `aff-<network>-<affiliate>`; returns the link URL."""
    from affiliates.models import Affiliate

    affiliate = Affiliate.objects.for_network(network).get(pk=affiliate_id)
    link = get_provider(PayoutMethod.PAYONEER).onboarding_link(  # type: ignore[attr-defined]
        payee_id=f"aff-{network.pk}-{affiliate.pk}", redirect_url=redirect_url)
    _store_provider_account(network=network, affiliate=affiliate, method=PayoutMethod.PAYONEER,
                            details={"payee_id": link.account_id}, currency=currency,
                            note="Finish the Payoneer registration.")
    return link.url


@transaction.atomic
def _store_provider_account(*, network: Network, affiliate: Affiliate, method: str, details: dict[str, Any],
                            currency: str | None, note: str) -> PayoutProfile:
    profile = PayoutProfile.objects.for_network(network).select_for_update().filter(affiliate=affiliate).first()
    if profile is not None and profile.method == method and profile.details == details:
        return profile
    values = {"method": method, "details": details, "verification": PayoutProfile.Verification.PENDING,
              "verification_note": note, "provider_account": {}, "updated_at": timezone.now()}
    if profile is None:
        values["currency"] = currency or network.default_currency
    elif currency:
        values["currency"] = currency
    profile, _ = PayoutProfile.objects.update_or_create(network=network, affiliate=affiliate, defaults=values)
    return profile


def stripe_account_verification(detail: Mapping[str, Any]) -> tuple[str, str]:
    """(verification, note) for a Stripe account status (`ready` = transfers active and payouts enabled)."""
    if detail.get("ready"):
        return PayoutProfile.Verification.VERIFIED, ""
    due = list(detail.get("past_due") or []) + list(detail.get("currently_due") or [])
    if detail.get("disabled_reason"):
        return PayoutProfile.Verification.PENDING, f"Stripe: {detail['disabled_reason']}"[:255]
    if due:
        return PayoutProfile.Verification.PENDING, f"Stripe needs: {', '.join(sorted(set(due)))}"[:255]
    return PayoutProfile.Verification.PENDING, "Stripe has not enabled transfers yet."


@transaction.atomic
def update_stripe_account(*, account_id: str, detail: Mapping[str, Any], event_created: int = 0) -> int:
    """Apply an account.updated: newer events win (they arrive out of order); returns profiles changed."""
    changed = 0
    for profile in PayoutProfile.objects.select_for_update().filter(method=PayoutMethod.STRIPE,
                                                                    details__account_id=account_id):
        seen = int((profile.provider_account or {}).get("event_created") or 0)
        if event_created and seen and event_created < seen:
            continue  # an older state arriving late
        verification, note = stripe_account_verification(detail)
        profile.provider_account = {**dict(detail), "event_created": event_created or seen}
        profile.verification, profile.verification_note = verification, note
        profile.updated_at = timezone.now()
        profile.save(update_fields=["provider_account", "verification", "verification_note", "updated_at"])
        changed += 1
    return changed


@transaction.atomic
def update_payoneer_payee(*, payee_id: str, payee_status: str) -> int:
    """Apply a payee status ("active", "pending", "inactive") to the profiles paid to that payee id."""
    verification, note = {
        "active": (PayoutProfile.Verification.VERIFIED, ""),
        "pending": (PayoutProfile.Verification.PENDING, "Payoneer is reviewing your registration."),
        "inactive": (PayoutProfile.Verification.UNVERIFIED, "Payoneer declined the registration."),
    }.get(payee_status, (PayoutProfile.Verification.PENDING, "Finish the Payoneer registration."))
    return PayoutProfile.objects.filter(method=PayoutMethod.PAYONEER, details__payee_id=payee_id).update(
        verification=verification, verification_note=note, provider_account={"payee_status": payee_status},
        updated_at=timezone.now())


def refresh_payoneer_payee(*, network: Network, affiliate_id: int) -> PayoutProfile | None:
    """Ask Payoneer for the payee's status now (the portal's "check again")."""
    profile = PayoutProfile.objects.for_network(network).filter(affiliate_id=affiliate_id,
                                                                method=PayoutMethod.PAYONEER).first()
    if profile is None or not profile.details.get("payee_id"):
        return profile
    status = get_provider(PayoutMethod.PAYONEER).payee_status(  # type: ignore[attr-defined]
        payee_id=profile.details["payee_id"])
    update_payoneer_payee(payee_id=profile.details["payee_id"], payee_status=status)
    profile.refresh_from_db()
    return profile


# --- Building batches ----------------------------------------------------------------------------

def payout_reference(*, batch: PayoutBatch, affiliate_id: int, currency: str) -> str:
    """The payout's provider key: stable for the row's life, unique everywhere (batch ids are global)."""
    return f"payout:{batch.pk}-{affiliate_id}-{currency}"


def threshold_for(*, network: Network, profile: PayoutProfile | None) -> int:
    """The affiliate's threshold in minor units: their own, never below the network minimum.

    Thresholds are nominal minor units in every currency: the ledger does no FX.
    """
    own = profile.threshold_minor if profile is not None and profile.threshold_minor is not None else 0
    return max(own, network.payout_minimum_minor, 1)


@dataclass(frozen=True)
class BuildResult:
    """What build_payout_batch did."""

    batch: PayoutBatch
    created: bool


def build_payout_batch(*, network: Network, now: datetime | None = None,
                       actor: AbstractBaseUser | None = None) -> BuildResult:
    """Build the batch of the period due at `now`; a second build for the same period builds nothing.

    Every affiliate whose AVAILABLE balance in a currency (approvals net of reversals, minus what is
    already in transit) reaches their threshold gets one payout, reserved into payouts-in-transit;
    smaller balances roll over; affiliates on hold are listed as exceptions and keep their balance.
    """
    from affiliates.models import Affiliate

    now = now or timezone.now()
    period_key, _ = due_period(network=network, now=now)
    with transaction.atomic():
        # One builder per network at a time: the balances read below stay true while we reserve (L7).
        Network.objects.select_for_update().filter(pk=network.pk).first()
        existing = PayoutBatch.objects.for_network(network).filter(period_key=period_key).first()
        if existing is not None:
            return BuildResult(batch=existing, created=False)
        batch = PayoutBatch.objects.create(network=network, period_key=period_key, built_at=now, built_by=actor)
        balances = [b for b in selectors.affiliate_balances(network=network) if b.available_minor > 0]
        affiliate_ids = sorted({b.affiliate_id for b in balances})
        profiles = {p.affiliate_id: p for p in PayoutProfile.objects.for_network(network)
                    .filter(affiliate_id__in=affiliate_ids)}
        affiliates = {a.pk: a for a in Affiliate.objects.for_network(network).filter(pk__in=affiliate_ids)}
        payouts: list[Payout] = []
        exceptions: list[dict[str, Any]] = []
        for balance in balances:
            profile = profiles.get(balance.affiliate_id)
            if balance.available_minor < threshold_for(network=network, profile=profile):
                continue  # rolls over to the next period
            reasons = hold_reasons(profile=profile, affiliate=affiliates.get(balance.affiliate_id))
            if reasons:
                exceptions.append({"affiliate": balance.affiliate_id,
                                   "name": getattr(affiliates.get(balance.affiliate_id), "name", ""),
                                   "currency": balance.currency, "amount_minor": balance.available_minor,
                                   "reasons": reasons})
                continue
            assert profile is not None
            payouts.append(Payout(
                network=network, batch=batch, affiliate_id=balance.affiliate_id, amount_minor=balance.available_minor,
                currency=balance.currency, method=profile.method, recipient=dict(profile.details),
                reference=payout_reference(batch=batch, affiliate_id=balance.affiliate_id, currency=balance.currency),
                created_at=now, updated_at=now,
            ))
        Payout.objects.bulk_create(payouts)
        for payout in payouts:
            ledger.post(network=network, idempotency_key=f"{payout.reference}:reserve", kind=ledger.Kind.PAYOUT_RESERVE,
                        source=payout.reference, occurred_at=now, description=f"Payout {payout.reference} reserved",
                        lines=ledger.payout_reserve_lines(network=network, affiliate=payout.affiliate_id,
                                                          amount_minor=payout.amount_minor, currency=payout.currency))
        PayoutEvent.objects.bulk_create([
            PayoutEvent(network=network, payout=payout, from_status="", to_status=Status.CREATED, actor=actor,
                        source="build", created_at=now) for payout in payouts])
        batch.exceptions = exceptions
        if not payouts:
            batch.status, batch.completed_at = PayoutBatch.Status.COMPLETED, now
        batch.save(update_fields=["exceptions", "status", "completed_at"])
    return BuildResult(batch=batch, created=True)


def hold_reasons(*, profile: PayoutProfile | None, affiliate: Affiliate | None = None) -> list[str]:
    """Why an affiliate cannot be paid now (empty: payable). Shown in the portal and the review."""
    reasons: list[str] = []
    if affiliate is not None and affiliate.status == "suspended":
        reasons.append("The affiliate account is suspended.")
    if profile is None:
        return [*reasons, "No payout method: add your payout details in Payouts → Settings."]
    if not profile.details:
        reasons.append("Payout details are missing.")
    if profile.verification == PayoutProfile.Verification.PENDING:
        reasons.append(profile.verification_note or "The payout account is waiting for the provider.")
    elif profile.verification == PayoutProfile.Verification.UNVERIFIED:
        reasons.append(profile.verification_note or "The payout details are not verified.")
    if not profile.tax:
        reasons.append("No tax declaration: sign it in Payouts → Settings.")
    return reasons


# --- Review --------------------------------------------------------------------------------------

def approve_payout_batch(*, network: Network, batch_id: int, actor: AbstractBaseUser,
                         now: datetime | None = None) -> PayoutBatch:
    """Approve a batch in review and queue it for submission; the builder may not approve (maker-checker)."""
    now = now or timezone.now()
    with transaction.atomic():
        batch = PayoutBatch.objects.for_network(network).select_for_update().get(pk=batch_id)
        if batch.status != PayoutBatch.Status.REVIEW:
            raise ValidationError({"status": [f"The batch is {batch.get_status_display().lower()}, not in review."]})
        if network.require_payout_maker_checker and batch.built_by_id is not None and batch.built_by_id == actor.pk:
            raise PermissionDenied("Maker-checker: the staff member who built a batch may not approve it.")
        open_count = batch.payouts.filter(status=Status.CREATED).count()
        batch.status = PayoutBatch.Status.APPROVED if open_count else PayoutBatch.Status.COMPLETED
        batch.approved_at, batch.approved_by = now, actor
        if not open_count:
            batch.completed_at = now
        batch.save(update_fields=["status", "approved_at", "approved_by", "completed_at"])
        network_services.record_audit(network=network, actor=actor, action="payout_batch.approved", obj=batch,
                                      data={"payouts": open_count})
        if open_count:
            from payouts import tasks

            transaction.on_commit(lambda: tasks.submit_payout_batch.delay(network.pk, batch.pk))
    return batch


def remove_payout(*, network: Network, payout_id: int, actor: AbstractBaseUser | None,
                  reason: str = "") -> Payout:
    """Take one payout out of a batch in review: its reservation goes back to the affiliate's balance."""
    with transaction.atomic():
        payout = Payout.objects.for_network(network).select_related("batch").select_for_update().get(pk=payout_id)
        if payout.batch.status != PayoutBatch.Status.REVIEW or payout.status != Status.CREATED:
            raise ValidationError({"status": ["Only payouts of a batch in review can be removed."]})
        _transition(payout, Status.REMOVED, source="staff", actor=actor,
                    note=reason or "Removed in review; the amount is back in the balance.")
        _post_for(payout, Status.REMOVED)
        network_services.record_audit(network=network, actor=actor, action="payout.removed", obj=payout,
                                      data={"reason": reason})
        _complete_batch_if_done(payout.batch_id)
    return payout


# --- Transitions ---------------------------------------------------------------------------------

def _transition(payout: Payout, to_status: str, *, source: str, actor: AbstractBaseUser | None = None,
                note: str = "", now: datetime | None = None, **fields: Any) -> None:
    """Move a LOCKED payout along the allowed-transitions map and write its event row."""
    if to_status not in Payout.ALLOWED_TRANSITIONS[payout.status]:
        raise ValidationError({"status": [f"A payout cannot go from {payout.status} to {to_status}."]})
    now = now or timezone.now()
    from_status = payout.status
    payout.status = to_status
    payout.updated_at = now
    for name, value in fields.items():
        setattr(payout, name, value)
    payout.save(update_fields=["status", "updated_at", *fields])
    PayoutEvent.objects.create(network_id=payout.network_id, payout=payout, from_status=from_status,
                               to_status=to_status, actor=actor if actor is not None and actor.is_authenticated
                               else None, source=source[:64], note=note[:255], created_at=now)


def _post_for(payout: Payout, to_status: str) -> None:
    """The ledger side of a terminal transition, idempotent per payout and outcome."""
    network = payout.network
    builders = {
        Status.PAID: (ledger.payout_settle_lines, ledger.Kind.PAYOUT_SETTLE, "settle"),
        Status.FAILED: (ledger.payout_void_lines, ledger.Kind.PAYOUT_VOID, "void"),
        Status.REMOVED: (ledger.payout_void_lines, ledger.Kind.PAYOUT_VOID, "void"),
        Status.RETURNED: (ledger.payout_return_lines, ledger.Kind.PAYOUT_RETURN, "return"),
    }
    builder, kind, suffix = builders[to_status]
    ledger.post(network=network, idempotency_key=f"{payout.reference}:{suffix}", kind=kind, source=payout.reference,
                description=f"Payout {payout.reference} {suffix}",
                lines=builder(network=network, affiliate=payout.affiliate_id, amount_minor=payout.amount_minor,
                              currency=payout.currency))
    if to_status in (Status.PAID, Status.FAILED, Status.RETURNED):
        _emit_payout_event(payout, "payout.paid" if to_status == Status.PAID else "payout.failed", suffix)


def _emit_payout_event(payout: Payout, event_type: str, suffix: str) -> None:
    """An outbound webhook for the affiliate and staff, in the transaction of the outcome (once per outcome)."""
    from webhooks import outbox

    outbox.emit(network=payout.network, event_type=event_type,
                payload={"id": payout.pk, "affiliate": payout.affiliate_id, "batch": payout.batch_id,
                         "amount": money.to_major(payout.amount_minor, payout.currency), "currency": payout.currency,
                         "method": payout.method, "status": payout.status,
                         "failure_reason": payout.failure_reason},
                affiliate_id=payout.affiliate_id, idempotency_key=f"{payout.reference}:{suffix}:event")


def _complete_batch_if_done(batch_id: int) -> None:
    open_left = Payout.objects.filter(batch_id=batch_id, status__in=Payout.OPEN_STATUSES).exists()
    if not open_left:
        PayoutBatch.objects.filter(pk=batch_id, status=PayoutBatch.Status.APPROVED).update(
            status=PayoutBatch.Status.COMPLETED, completed_at=timezone.now())


TARGETS = {PayoutStatus.SUBMITTED: Status.SUBMITTED, PayoutStatus.PENDING: Status.SUBMITTED,
           PayoutStatus.PAID: Status.PAID, PayoutStatus.FAILED: Status.FAILED}


def apply_provider_status(*, network: Network, payout_id: int, status: str, source: str, provider_id: str = "",
                          provider_batch_id: str = "", provider_status: str = "", error: str = "",
                          actor: AbstractBaseUser | None = None, now: datetime | None = None) -> Payout:
    """Record what the provider says about a payout; duplicates and stale (out-of-order) news change nothing.

    paid settles in-transit against provider clearing; failed before paid voids the reservation back to
    the balance; failed after paid is a return (the money is owed to the affiliate again).
    """
    now = now or timezone.now()
    with transaction.atomic():
        payout = Payout.objects.for_network(network).select_for_update().get(pk=payout_id)
        target = TARGETS.get(PayoutStatus(status))
        if target == Status.FAILED and payout.status == Status.PAID:
            target = Status.RETURNED
        ids = {name: value[:128] for name, value in (("provider_id", provider_id or ""),
                                                     ("provider_batch_id", provider_batch_id or ""))
               if value and not getattr(payout, name)}
        if target is None or target == payout.status or target not in Payout.ALLOWED_TRANSITIONS[payout.status]:
            if ids:  # learn the provider's ids even from news we do not act on
                Payout.objects.filter(pk=payout.pk).update(**ids)
            return payout
        extra: dict[str, Any] = {**ids, "provider_status": (provider_status or "")[:64], "lease_expires_at": None}
        if target in (Status.FAILED, Status.RETURNED):
            extra["failure_reason"] = (error or provider_status or "The provider refused the payout.")[:255]
        if target == Status.PAID:
            extra["paid_at"] = now
        _transition(payout, target, source=source, actor=actor, now=now, note=error or provider_status, **extra)
        if target != Status.SUBMITTED:
            _post_for(payout, target)
        if target == Status.PAID:
            transaction.on_commit(lambda: run_settled_hooks(network=network, payout_id=payout.pk))
        _complete_batch_if_done(payout.batch_id)
    return payout


# --- Submission ----------------------------------------------------------------------------------

def _item(payout: Payout) -> PayoutItem:
    return PayoutItem(reference=payout.reference, amount_minor=payout.amount_minor, currency=payout.currency,
                      recipient=dict(payout.recipient), note=f"Commissions {payout.batch.period_key}",
                      provider_id=payout.provider_id or None, provider_batch_id=payout.provider_batch_id or None)


def _claim(*, network: Network, batch: PayoutBatch, method: str, now: datetime,
           payout_ids: list[int] | None = None) -> tuple[list[Payout], set[int]]:
    """Claim created payouts and expired "submitting" claims; COMMITS "submitting" before any call out."""
    with transaction.atomic():
        found = Payout.objects.for_network(network).filter(batch=batch, method=method).filter(
            Q(status=Status.CREATED) | Q(status=Status.SUBMITTING, lease_expires_at__lte=now))
        if payout_ids is not None:
            found = found.filter(pk__in=payout_ids)
        if connection.features.has_select_for_update_skip_locked:
            found = found.select_for_update(skip_locked=True)  # another worker's rows are simply not ours
        else:
            found = found.select_for_update()
        claimed = list(found.select_related("batch", "network").order_by("pk"))
        fresh = {p.pk for p in claimed if p.status == Status.CREATED}
        for payout in claimed:
            _transition(payout, Status.SUBMITTING, source="submit", now=now,
                        note="first attempt" if payout.pk in fresh else "uncertain attempt: check by key",
                        attempts=payout.attempts + 1, lease_expires_at=now + SUBMIT_LEASE)
    return claimed, fresh


def _release(payouts: list[Payout], *, reason: str, now: datetime) -> None:
    """The outcome is uncertain: keep "submitting" but let the next run check by key at once."""
    Payout.objects.filter(pk__in=[p.pk for p in payouts], status=Status.SUBMITTING).update(
        lease_expires_at=now, failure_reason=reason[:255], updated_at=now)


class SubmitIncomplete(ProviderUnavailable):
    """Some payouts could not be sent for a transient reason; the task retries with the same keys."""


def submit_payout_batch(*, network: Network, batch_id: int, now: datetime | None = None,
                        payout_ids: list[int] | None = None) -> int:
    """Send an approved batch's open payouts, one provider call per method; returns how many were claimed.

    Safe to run any number of times and concurrently: only claimed rows are sent, and a row claimed
    before whose outcome is unknown is first looked up at the provider by its key.
    """
    now = now or timezone.now()
    batch = PayoutBatch.objects.for_network(network).get(pk=batch_id)
    if batch.status != PayoutBatch.Status.APPROVED:
        return 0
    methods = sorted(set(batch.payouts.filter(status__in=[Status.CREATED, Status.SUBMITTING])
                         .values_list("method", flat=True)))
    claimed_total = 0
    transient: ProviderUnavailable | None = None
    for method in methods:
        try:
            claimed_total += _submit_method(network=network, batch=batch, method=method, now=now,
                                            payout_ids=payout_ids)
        except ProviderUnavailable as error:
            transient = transient or error
    if transient is not None:
        raise SubmitIncomplete(transient.message, code=transient.code)
    return claimed_total


def _submit_method(*, network: Network, batch: PayoutBatch, method: str, now: datetime,
                   payout_ids: list[int] | None) -> int:
    claimed, fresh = _claim(network=network, batch=batch, method=method, now=now, payout_ids=payout_ids)
    if not claimed:
        return 0
    try:
        provider = get_provider(method)
    except ProviderNotConfigured as error:
        _release(claimed, reason=f"Provider not configured: {error.message}", now=now)
        logger.error("payout provider %s not configured: %s", method, error.message)
        return len(claimed)
    by_reference = {p.reference: p for p in claimed}
    to_send = [p for p in claimed if p.pk in fresh]
    uncertain = [p for p in claimed if p.pk not in fresh]
    if uncertain:
        # Never resend blindly: ask by key first; only what the provider has never seen goes out again.
        try:
            statuses = provider.fetch_status(batch.reference, [_item(p) for p in uncertain])
        except ProviderError as error:
            _release(claimed, reason=f"Status check failed: {error.message}", now=now)
            if isinstance(error, ProviderUnavailable):
                raise
            return len(claimed)
        for payout, found in zip(uncertain, statuses, strict=True):
            if found.status == PayoutStatus.UNKNOWN:
                to_send.append(payout)
            else:
                _record(network, by_reference[found.reference], found.status, found.provider_id,
                        found.provider_batch_id, found.provider_status, found.error, "submit:check")
    if not to_send:
        return len(claimed)
    limit = provider.max_items_per_batch or len(to_send)
    for start in range(0, len(to_send), limit):
        chunk = to_send[start:start + limit]
        try:
            results = provider.submit_batch(batch.reference, [_item(p) for p in chunk],
                                            first_attempt=all(p.pk in fresh for p in chunk))
        except ProviderUnavailable as error:
            _release(chunk, reason=f"Retrying: {error.message}", now=now)
            raise
        except ProviderRejected as error:
            # A permanent refusal of the whole call: nothing was paid, the money goes back to the balances.
            for payout in chunk:
                _record(network, payout, PayoutStatus.FAILED, None, None, error.code, error.message, "submit")
            continue
        except ProviderNotConfigured as error:
            _release(chunk, reason=f"Provider not configured: {error.message}", now=now)
            continue
        for result in results:
            payout = by_reference[result.reference]
            status = result.status
            error_text = result.error or ""
            if status == PayoutStatus.UNKNOWN:
                # The provider will never pay it under this batch (PayPal: not in the existing batch).
                status, error_text = PayoutStatus.FAILED, error_text or "Not accepted by the provider in this batch."
            _record(network, payout, status, result.provider_id, result.provider_batch_id, result.provider_status,
                    error_text, "submit")
    return len(claimed)


def _record(network: Network, payout: Payout, status: str, provider_id: str | None, provider_batch_id: str | None,
            provider_status: str, error: str | None, source: str) -> None:
    apply_provider_status(network=network, payout_id=payout.pk, status=status, source=source,
                          provider_id=provider_id or "", provider_batch_id=provider_batch_id or "",
                          provider_status=provider_status or "", error=error or "")


# --- Polling, recovery and hooks ------------------------------------------------------------------

def poll_payouts(*, network: Network, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Ask providers about sent payouts, recover expired claims, and rerun unfinished settled hooks."""
    now = now or timezone.now()
    polled = recovered = hooks_run = 0
    submitted = list(Payout.objects.for_network(network).filter(status=Status.SUBMITTED)
                     .exclude(method=PayoutMethod.BANK).select_related("batch").order_by("pk")[:limit])
    groups: dict[tuple[int, str], list[Payout]] = {}
    for payout in submitted:
        groups.setdefault((payout.batch_id, payout.method), []).append(payout)
    for (_, method), payouts in groups.items():
        try:
            statuses = get_provider(method).fetch_status(payouts[0].batch.reference, [_item(p) for p in payouts])
        except ProviderError as error:
            logger.warning("polling %s failed: %s", method, error.message)
            continue
        by_reference = {p.reference: p for p in payouts}
        for found in statuses:
            if found.status != PayoutStatus.UNKNOWN:
                _record(network, by_reference[found.reference], found.status, found.provider_id,
                        found.provider_batch_id, found.provider_status, found.error, "poll")
            polled += 1
    stale_batches = set(Payout.objects.for_network(network).filter(status=Status.SUBMITTING, lease_expires_at__lte=now)
                        .values_list("batch_id", flat=True))
    for batch_id in sorted(stale_batches):
        try:
            recovered += submit_payout_batch(network=network, batch_id=batch_id, now=now)
        except ProviderUnavailable as error:
            logger.warning("recovering batch %s: %s", batch_id, error.message)
    for payout_id in Payout.objects.for_network(network).filter(status=Status.PAID, hooks_done_at=None) \
            .values_list("pk", flat=True)[:limit]:
        hooks_run += int(run_settled_hooks(network=network, payout_id=payout_id))
    return {"polled": polled, "recovered": recovered, "hooks": hooks_run}


def _reserve_txn_id(network: Network, reference: str) -> int | None:
    return (LedgerTransaction.objects.for_network(network).filter(idempotency_key=f"{reference}:reserve")
            .values_list("pk", flat=True).first())


def covered_conversion_ids(*, network: Network, payout: Payout) -> list[int]:
    """Conversions whose approvals this payout pays: approvals on the affiliate's payable in the currency
    posted after the previous paid payout's reservation and before this one's (the statement's lines).

    Ledger ids order postings (clocks may be moved by tests and `--now`; ids are not).
    """
    until = _reserve_txn_id(network, payout.reference)
    if until is None:
        return []
    previous_refs = (Payout.objects.for_network(network)
                     .filter(affiliate_id=payout.affiliate_id, currency=payout.currency, status=Status.PAID,
                             pk__lt=payout.pk).order_by("-pk").values_list("reference", flat=True)[:1])
    since = _reserve_txn_id(network, previous_refs[0]) if previous_refs else None
    entries = LedgerEntry.objects.for_network(network).filter(
        account__kind=LedgerAccount.Kind.AFFILIATE_PAYABLE, account__affiliate_id=payout.affiliate_id,
        currency=payout.currency, transaction__kind=LedgerTransaction.Kind.APPROVAL, transaction_id__lt=until)
    if since is not None:
        entries = entries.filter(transaction_id__gt=since)
    ids: set[int] = set()
    for source in entries.values_list("transaction__source", flat=True):
        parts = (source or "").split(":")
        if len(parts) >= 2 and parts[0] == "conversion" and parts[1].isdigit():
            ids.add(int(parts[1]))
    return sorted(ids)


def run_settled_hooks(*, network: Network, payout_id: int) -> bool:
    """Run the registered settled hooks for a paid payout once they all succeed; False leaves a retry."""
    payout = Payout.objects.for_network(network).select_related("batch").get(pk=payout_id)
    if payout.status != Status.PAID or payout.hooks_done_at is not None:
        return False
    try:
        hooks.run_payout_settled(network=network, payout=payout,
                                 conversion_ids=covered_conversion_ids(network=network, payout=payout))
    except Exception:  # a consumer's bug must not undo a payment; the poll task retries
        logger.exception("payout settled hook failed for %s", payout.reference)
        return False
    Payout.objects.filter(pk=payout.pk, hooks_done_at=None).update(hooks_done_at=timezone.now())
    return True


# --- Bank transfers ------------------------------------------------------------------------------

def mark_bank_payouts_paid(*, network: Network, batch_id: int, actor: AbstractBaseUser,
                           payout_ids: list[int] | None = None) -> int:
    """Finance uploaded the bank file: mark the batch's sent bank payouts (or the given ones) paid."""
    batch = PayoutBatch.objects.for_network(network).get(pk=batch_id)
    found = batch.payouts.filter(method=PayoutMethod.BANK, status=Status.SUBMITTED)
    if payout_ids is not None:
        found = found.filter(pk__in=payout_ids)
    ids = list(found.values_list("pk", flat=True))
    for payout_id in ids:
        apply_provider_status(network=network, payout_id=payout_id, status=PayoutStatus.PAID, source="staff",
                              provider_status="marked_paid", actor=actor)
    return len(ids)


def mark_bank_payout_failed(*, network: Network, payout_id: int, actor: AbstractBaseUser, reason: str) -> Payout:
    """The bank bounced a transfer: the payout fails (or returns, if marked paid) and the balance gets it back."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the transfer failed."]})
    payout = Payout.objects.for_network(network).get(pk=payout_id, method=PayoutMethod.BANK)
    return apply_provider_status(network=network, payout_id=payout.pk, status=PayoutStatus.FAILED, source="staff",
                                 provider_status="bank_failed", error=reason.strip(), actor=actor)


# --- Webhooks ------------------------------------------------------------------------------------

WEBHOOK_PROVIDERS = {"paypal": PayoutMethod.PAYPAL, "payoneer": PayoutMethod.PAYONEER,
                     "stripe-connect": PayoutMethod.STRIPE, "sandbox": PayoutMethod.SANDBOX}


def handle_provider_webhook(*, method: str, headers: Mapping[str, str], body: bytes) -> list[str]:
    """Verify, dedupe (unique provider event id) and apply a provider notification; returns outcomes.

    Raises WebhookRejected (answer 400, nothing changed) or ProviderNotConfigured.
    """
    provider = get_provider(method)
    events = provider.parse_webhook(headers, body)
    return [_handle_event(method=method, provider=provider, event=event) for event in events]


def _handle_event(*, method: str, provider: Any, event: WebhookEvent) -> str:
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ProviderWebhookEvent.objects.create(
                    provider=method, provider_event_id=event.provider_event_id[:128],
                    event_type=event.event_type[:64], reference=(event.reference or "")[:128])
        except IntegrityError:
            return "duplicate"
        outcome, network = _apply_event(method=method, provider=provider, event=event)
        record.outcome, record.network = outcome[:255], network
        record.save(update_fields=["outcome", "network"])
    return outcome


def _apply_event(*, method: str, provider: Any, event: WebhookEvent) -> tuple[str, Network | None]:
    if event.event_type == "account.updated":
        created = int((event.raw or {}).get("created") or 0)
        account_id = str(event.detail.get("account_id") or event.provider_id or "")
        return f"accounts updated: {update_stripe_account(account_id=account_id, detail=event.detail, event_created=created)}", None
    if method == PayoutMethod.PAYONEER and event.event_type in ("approved", "declined") and event.detail.get("payee_id"):
        status = "active" if event.event_type == "approved" else "inactive"
        return f"payees updated: {update_payoneer_payee(payee_id=event.detail['payee_id'], payee_status=status)}", None
    if event.reference:
        payout = Payout.objects.select_related("network", "batch").filter(reference=event.reference,
                                                                          method=method).first()
        if payout is None:
            return "unknown reference", None
        if method == PayoutMethod.PAYONEER:
            # Payoneer callbacks are hints: ask for the truth by key before acting.
            found = provider.fetch_status(payout.batch.reference, [_item(payout)])[0]
            status, provider_status, error = found.status, found.provider_status, found.error or ""
        else:
            status, provider_status, error = event.status, event.provider_status, event.error or ""
        if status == PayoutStatus.UNKNOWN:
            return "no change", payout.network
        before = payout.status
        after = apply_provider_status(network=payout.network, payout_id=payout.pk, status=status,
                                      source=f"webhook:{event.provider_event_id}"[:64],
                                      provider_id=event.provider_id or "",
                                      provider_batch_id=event.provider_batch_id or "",
                                      provider_status=provider_status, error=error)
        return f"{before} -> {after.status}", payout.network
    if event.provider_batch_id:
        # A batch-level event (PayPal PAYMENT.PAYOUTSBATCH.*): its items are polled.
        networks = set(Payout.objects.filter(provider_batch_id=event.provider_batch_id, method=method)
                       .values_list("network_id", flat=True))
        for network in Network.objects.filter(pk__in=networks):
            poll_payouts(network=network)
        return "polled batch", None
    return "ignored", None
