"""Claims: an affiliate asks for a missing or wrongly declined conversion; the merchant accepts or rejects it.

    open → accepted (the conversion is created through record_conversion, or re-credited, and approved)
    open → rejected (with a reason code and an answer the affiliate reads)

Each move is a locked conditional update with a ConversionClaimEvent. One open claim per
(program, order id), enforced by a partial unique index.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from affiliates.models import Enrollment
from merchants import commissions
from merchants.models import Program
from network import money
from network.models import Network
from tracking import lifecycle, services
from tracking.models import Conversion, ConversionClaim, ConversionClaimEvent, ConversionEvent

Status = Conversion.Status
MAX_CLAIM_AGE = timedelta(days=365)


def _user(actor: Any) -> Any:
    user = getattr(actor, "user", actor)
    return user if getattr(user, "pk", None) else None


def _clean_date(value: Any, today: date) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({"order_date": ["Give the order date as YYYY-MM-DD."]}) from None
    if not isinstance(value, date):
        raise ValidationError({"order_date": ["Give the order date as YYYY-MM-DD."]})
    if value > today:
        raise ValidationError({"order_date": ["The order date is in the future."]})
    if value < today - MAX_CLAIM_AGE:
        raise ValidationError({"order_date": ["Orders older than a year cannot be claimed."]})
    return value


def open_claim(*, network: Network, affiliate_id: int, program: Program, order_id: Any, order_date: Any,
               amount: Any, currency: Any, note: Any = "", actor: Any = None,
               now: datetime | None = None) -> ConversionClaim:
    """Open a claim for an order of a program the affiliate is enrolled in; one open claim per order."""
    now = now or timezone.now()
    if program.network_id != network.pk:
        raise ValidationError({"program": ["No such program."]})
    if not Enrollment.objects.for_network(network).filter(program=program, affiliate_id=affiliate_id,
                                                          status=Enrollment.Status.APPROVED).exists():
        raise ValidationError({"program": ["You can claim conversions only in programs you are approved for."]})
    order_id = ("" if order_id is None else str(order_id)).strip()
    if not order_id or len(order_id) > 128:
        raise ValidationError({"order_id": ["Give the merchant's order id (at most 128 characters)."]})
    currency = ("" if currency is None else str(currency)).strip().upper()
    if currency != program.currency:
        raise ValidationError({"currency": [f"The program is in {program.currency}."]})
    try:
        amount_minor = money.to_minor(str(amount).strip() if amount is not None else "", currency)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from None
    if amount_minor < 0:
        raise ValidationError({"amount": ["The amount may not be negative."]})
    order_day = _clean_date(order_date, now.astimezone(UTC).date())
    note = ("" if note is None else str(note)).strip()
    if len(note) > 2000:
        raise ValidationError({"note": ["At most 2000 characters."]})
    existing = Conversion.objects.for_network(network).filter(program=program, order_id=order_id).first()
    if existing is not None:
        if existing.affiliate_id not in (None, affiliate_id):
            raise ValidationError({"order_id": ["This order cannot be claimed."]})
        if existing.status in (Status.APPROVED, Status.PAID, Status.PENDING, Status.HOLD):
            raise ValidationError({"order_id": [f"This order is already credited to you ({existing.status})."]})
    try:
        with transaction.atomic():
            claim = ConversionClaim.objects.create(
                network=network, program=program, merchant_id=program.merchant_id, affiliate_id=affiliate_id,
                order_id=order_id, order_date=order_day, amount_minor=amount_minor, currency=currency, note=note,
                conversion=existing, created_by=_user(actor), created_at=now)
            ConversionClaimEvent.objects.create(network=network, claim=claim, to_status=ConversionClaim.Status.OPEN,
                                                actor=_user(actor), note=note[:500], created_at=now)
    except IntegrityError:
        raise ValidationError({"order_id": ["A claim for this order is already open."]}) from None
    return claim


def _lock_open(network: Network, claim_id: int) -> ConversionClaim:
    claim = ConversionClaim.objects.for_network(network).select_for_update().filter(pk=claim_id).first()
    if claim is None:
        raise ValidationError({"claim": ["No such claim."]})
    if claim.status != ConversionClaim.Status.OPEN:
        raise ValidationError({"status": [f"The claim is already {claim.status}."]})
    return claim


def _close(claim: ConversionClaim, to_status: str, *, actor: Any, answer: str, reason_code: str, now: datetime,
           conversion: Conversion | None = None) -> None:
    changed = (ConversionClaim.objects.filter(pk=claim.pk, status=ConversionClaim.Status.OPEN)
               .update(status=to_status, answer=answer[:500], reason_code=reason_code, answered_by=_user(actor),
                       answered_at=now, conversion=conversion or claim.conversion))
    if changed != 1:
        raise ValidationError({"status": ["The claim changed meanwhile; try again."]})
    ConversionClaimEvent.objects.create(network_id=claim.network_id, claim=claim, from_status=claim.status,
                                        to_status=to_status, actor=_user(actor), note=answer[:500], created_at=now)
    claim.refresh_from_db()


def _credit_to(conversion: Conversion, claim: ConversionClaim, actor: Any, now: datetime) -> None:
    """Give an unattributed conversion to the claiming affiliate, priced as the program's terms say."""
    quote = commissions.compute_commission(
        program=claim.program, affiliate_id=claim.affiliate_id, action=conversion.action,
        sale_amount_minor=conversion.amount_minor, currency=conversion.currency, occurred_at=conversion.occurred_at,
        recurring_index=conversion.recurring_index)
    explanation = {**conversion.explanation, **quote.explanation, "claim": claim.pk}
    changed = (Conversion.objects.filter(pk=conversion.pk, affiliate__isnull=True)
               .update(affiliate_id=claim.affiliate_id, commission_minor=quote.amount_minor,
                       commission_rule_id=quote.rule_id, explanation=explanation,
                       attribution_note=f"credited after claim {claim.pk}", updated_at=now))
    if changed != 1:
        raise ValidationError({"status": ["The conversion changed meanwhile; try again."]})
    ConversionEvent.objects.create(network_id=conversion.network_id, conversion=conversion,
                                   kind=ConversionEvent.Kind.REATTRIBUTED, from_status=conversion.status,
                                   to_status=conversion.status, actor=_user(actor),
                                   reason=f"claim {claim.pk} accepted", data={"claim": claim.pk}, created_at=now)


def accept_claim(*, network: Network, claim_id: int, actor: Any = None, answer: str = "",
                 now: datetime | None = None) -> ConversionClaim:
    """Accept a claim: create the missing conversion (or re-credit the declined one) and approve it."""
    now = now or timezone.now()
    with transaction.atomic():
        claim = _lock_open(network, claim_id)
        conversion = (Conversion.objects.for_network(network).select_for_update()
                      .filter(program_id=claim.program_id, order_id=claim.order_id).first())
        if conversion is None:
            occurred = min(datetime.combine(claim.order_date, time(12), tzinfo=UTC), now)
            conversion, _ = services.record_conversion(
                program=claim.program, order_id=claim.order_id,
                amount=money.to_major(claim.amount_minor, claim.currency), currency=claim.currency,
                source=Conversion.Source.API, occurred_at=occurred, now=now)
        if conversion.affiliate_id not in (None, claim.affiliate_id):
            raise ValidationError({"claim": ["The order is credited to another affiliate."]})
        if conversion.status == Status.REVERSED:
            raise ValidationError({"claim": ["The order was reversed; a claim cannot credit it again."]})
        if conversion.affiliate_id is None:
            _credit_to(conversion, claim, actor, now)
        if conversion.status not in (Status.APPROVED, Status.PAID):
            lifecycle.approve_conversion(
                network=network, conversion_id=conversion.pk, actor=actor, now=now,
                reason=f"claim {claim.pk} accepted" + (f": {answer}" if answer else ""),
                allow_from=frozenset({Status.PENDING, Status.HOLD, Status.REJECTED}))
        _close(claim, ConversionClaim.Status.ACCEPTED, actor=actor, answer=answer, reason_code="", now=now,
               conversion=conversion)
    return claim


def reject_claim(*, network: Network, claim_id: int, actor: Any = None, answer: str = "", reason_code: str = "",
                 now: datetime | None = None) -> ConversionClaim:
    """Reject a claim with a reason code and an answer the affiliate reads."""
    now = now or timezone.now()
    reason_code = lifecycle.clean_reason_code(reason_code, required=True)
    if not answer.strip():
        raise ValidationError({"answer": ["Tell the affiliate why."]})
    with transaction.atomic():
        claim = _lock_open(network, claim_id)
        _close(claim, ConversionClaim.Status.REJECTED, actor=actor, answer=answer.strip(), reason_code=reason_code,
               now=now)
    return claim
