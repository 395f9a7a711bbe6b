"""The conversion lifecycle: approve, reject, hold, release, reverse (fully or in part), mark paid.

    pending → approved → paid · pending → rejected · pending ↔ hold · hold → rejected
    approved/paid → reversed (a partial reversal keeps the status and gives back part of the commission)

Every move locks the row (SELECT … FOR UPDATE), re-checks the status with a conditional UPDATE,
writes a ConversionEvent (actor, time, reason code and text) and, for money moves, posts ONE
balanced ledger transaction through `payouts` in the same database transaction:

- approval `conversion:<id>:approved`: merchant balance +(commission + fee), affiliate payable
  −commission, network revenue −fee;
- reversal `conversion:<id>:reversed` (the one that completes it) or `conversion:<id>:reversal:<n>`
  (the n-th partial one): the opposite, for the commission share of the reversed sale amount.

Outbox events and affiliate postbacks are written in the same transaction (webhooks.outbox).
See docs/lifecycle.md.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from network import money
from network.models import Network
from payouts import fees, ledger
from payouts.models import LedgerTransaction
from tracking.models import Conversion, ConversionEvent, ReasonCode, ReversalRequest

Status = Conversion.Status

BULK_ACTIONS = ("approve", "reject", "hold", "release")
MAX_BULK_IDS = 500
MAX_CSV_ROWS = 5000
MAX_CSV_BYTES = 2 * 1024 * 1024


def approval_key(conversion_id: int) -> str:
    """The idempotency key of a conversion's approval transaction."""
    return f"conversion:{conversion_id}:approved"


def _network(network: Network | int) -> Network:
    return network if isinstance(network, Network) else Network.objects.get(pk=network)


def clean_reason_code(value: Any, *, required: bool = False) -> str:
    """A reason code from ReasonCode, or blank when optional; anything else is a 400 naming `reason_code`."""
    code = "" if value is None else str(value).strip()
    if not code:
        if required:
            raise ValidationError({"reason_code": ["Choose a reason code: " + ", ".join(ReasonCode.values) + "."]})
        return ""
    if code not in ReasonCode.values:
        raise ValidationError({"reason_code": [f"Unknown reason code {code!r}; use one of "
                                               + ", ".join(ReasonCode.values) + "."]})
    return code


def _lock(network: Network, conversion_id: int) -> Conversion:
    try:
        return Conversion.objects.for_network(network).select_for_update().get(pk=conversion_id)
    except Conversion.DoesNotExist:
        raise ValidationError({"conversion": ["No such conversion."]}) from None


def _move(conversion: Conversion, to_status: str, *, actor: Any, reason: str, reason_code: str, now: datetime,
          extra: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
          allow_from: frozenset[str] | None = None) -> None:
    """Conditional UPDATE from the status we read (and locked) + one event; a forbidden move is a 400."""
    from_status = conversion.status
    allowed = allow_from if allow_from is not None else frozenset(
        status for status, targets in Conversion.ALLOWED_TRANSITIONS.items() if to_status in targets)
    if from_status not in allowed:
        raise ValidationError({"status": [f"A {from_status} conversion cannot become {to_status}."]})
    updates: dict[str, Any] = {"status": to_status, "status_reason": reason[:255], "reason_code": reason_code,
                               "updated_at": now, **(extra or {})}
    changed = Conversion.objects.filter(pk=conversion.pk, status=from_status).update(**updates)
    if changed != 1:
        # SQLite has no row locks: another writer moved it first. The caller's transaction rolls back.
        raise ValidationError({"status": ["The conversion changed meanwhile; try again."]})
    ConversionEvent.objects.create(
        network_id=conversion.network_id, conversion_id=conversion.pk, kind=ConversionEvent.Kind.TRANSITION,
        from_status=from_status, to_status=to_status, actor=_user(actor), reason=reason[:255],
        reason_code=reason_code, data=data or {}, created_at=now)
    for name, value in updates.items():
        setattr(conversion, name, value)


def _user(actor: Any) -> Any:
    user = getattr(actor, "user", actor)  # an Actor or a user
    return user if getattr(user, "pk", None) else None


def event_payload(conversion: Conversion) -> dict[str, Any]:
    """The public shape of a conversion in webhooks and postbacks (decimal strings, like the API)."""
    return {"id": conversion.pk, "program": conversion.program_id, "affiliate": conversion.affiliate_id,
            "order_id": conversion.order_id, "status": conversion.status, "reason_code": conversion.reason_code,
            "reason": conversion.status_reason, "currency": conversion.currency,
            "amount": money.to_major(conversion.amount_minor, conversion.currency),
            "commission": money.to_major(conversion.commission_minor, conversion.currency),
            "reversed_amount": money.to_major(conversion.reversed_amount_minor, conversion.currency),
            "reversed_commission": money.to_major(conversion.reversed_commission_minor, conversion.currency)}


def emit_conversion_event(*, network: Network, conversion: Conversion, event_type: str, key: str) -> None:
    """Outbox event + affiliate postbacks for a conversion, in the caller's transaction (idempotent per key)."""
    from webhooks import outbox
    from webhooks import services as webhook_services

    payload = event_payload(conversion)
    outbox.emit(network=network, event_type=event_type, payload=payload, merchant_id=conversion.merchant_id,
                affiliate_id=conversion.affiliate_id, idempotency_key=key)
    if conversion.affiliate_id is not None:
        click_id = conversion.click.click_id if conversion.click_id else ""
        values = {**payload, "click_id": click_id, **{f"sub{i}": getattr(conversion, f"sub{i}") for i in range(1, 6)}}
        webhook_services.fire_affiliate_postbacks(network=network, affiliate_id=conversion.affiliate_id,
                                                  program_id=conversion.program_id, event_type=event_type,
                                                  values=values, idempotency_key=key)


def approve_conversion(*, network: Network | int, conversion_id: int, actor: Any = None, reason: str = "",
                       reason_code: str = "", now: datetime | None = None,
                       allow_from: frozenset[str] | None = None) -> Conversion:
    """Approve a pending (or held: released first) conversion and post its commission and fee; approving it
    again changes nothing."""
    network, now = _network(network), now or timezone.now()
    reason_code = clean_reason_code(reason_code)
    with transaction.atomic():
        conversion = _lock(network, conversion_id)
        if conversion.status in (Status.APPROVED, Status.PAID):
            return conversion
        if conversion.affiliate_id is None:
            raise ValidationError({"status": ["An unattributed conversion credits no one and cannot be approved."]})
        if conversion.status == Status.HOLD and allow_from is None:
            # A reviewer approving a held conversion releases it first: two events, the map stays as it is.
            _move(conversion, Status.PENDING, actor=actor, reason="released by the approval", reason_code="",
                  now=now)
        merchant = conversion.merchant
        fee_minor = fees.network_fee(network=network, merchant=merchant, commission_minor=conversion.commission_minor,
                                     sale_amount_minor=conversion.amount_minor, currency=conversion.currency)
        _move(conversion, Status.APPROVED, actor=actor, reason=reason, reason_code=reason_code, now=now,
              extra={"fee_minor": fee_minor, "approved_at": now}, allow_from=allow_from)
        lines = fees.approval_lines(network=network, merchant=merchant, affiliate=conversion.affiliate_id,
                                    commission_minor=conversion.commission_minor, fee_minor=fee_minor,
                                    currency=conversion.currency)
        if lines:
            ledger.post(network=network, idempotency_key=approval_key(conversion.pk), lines=lines,
                        kind=ledger.Kind.APPROVAL, source=approval_key(conversion.pk), program=conversion.program,
                        description=f"Conversion {conversion.order_id} approved", occurred_at=now)
        emit_conversion_event(network=network, conversion=conversion, event_type="conversion.approved",
                              key=approval_key(conversion.pk))
    return conversion


def reject_conversion(*, network: Network | int, conversion_id: int, actor: Any = None, reason: str = "",
                      reason_code: str = "", now: datetime | None = None) -> Conversion:
    """Decline a pending or held conversion (nothing reaches the ledger); rejecting it again changes nothing."""
    network, now = _network(network), now or timezone.now()
    reason_code = clean_reason_code(reason_code, required=True)
    with transaction.atomic():
        conversion = _lock(network, conversion_id)
        if conversion.status == Status.REJECTED:
            return conversion
        _move(conversion, Status.REJECTED, actor=actor, reason=reason, reason_code=reason_code, now=now)
    return conversion


def hold_conversion(*, network: Network | int, conversion_id: int, actor: Any = None, reason: str = "",
                    reason_code: str = "", now: datetime | None = None) -> Conversion:
    """Put a pending conversion on hold for review: reconciliation leaves it alone."""
    network, now = _network(network), now or timezone.now()
    reason_code = clean_reason_code(reason_code)
    with transaction.atomic():
        conversion = _lock(network, conversion_id)
        if conversion.status == Status.HOLD:
            return conversion
        _move(conversion, Status.HOLD, actor=actor, reason=reason, reason_code=reason_code, now=now)
    return conversion


def release_conversion(*, network: Network | int, conversion_id: int, actor: Any = None, reason: str = "",
                       now: datetime | None = None) -> Conversion:
    """Release a held conversion back to pending (reconciliation approves it once its lock date passes)."""
    network, now = _network(network), now or timezone.now()
    with transaction.atomic():
        conversion = _lock(network, conversion_id)
        if conversion.status == Status.PENDING:
            return conversion
        _move(conversion, Status.PENDING, actor=actor, reason=reason, reason_code="", now=now)
    return conversion


def commission_share(*, commission_minor: int, amount_minor: int, reversed_amount_minor: int) -> int:
    """The commission given back once `reversed_amount_minor` of the sale is reversed (cumulative, half-even).

    Rounding the cumulative figure (not each step) makes any sequence of partial reversals that ends
    with the whole sale give back exactly the whole commission.
    """
    if amount_minor <= 0 or reversed_amount_minor >= amount_minor:
        return commission_minor
    return money.round_minor(Decimal(commission_minor) * reversed_amount_minor / Decimal(amount_minor))


def reverse_conversion(*, network: Network | int, conversion_id: int, actor: Any = None, reason: str = "",
                       reason_code: str = "", amount_minor: int | None = None,
                       now: datetime | None = None) -> Conversion:
    """Reverse an approved or paid conversion, wholly or (with `amount_minor` of the sale) in part.

    The commission follows the reversed share of the sale; Σ reversals never exceed the original.
    After a payout this leaves a negative payable that the next payouts net off.
    """
    network, now = _network(network), now or timezone.now()
    reason_code = clean_reason_code(reason_code) or ReasonCode.RETURNED
    with transaction.atomic():
        conversion = _lock(network, conversion_id)
        if conversion.status not in (Status.APPROVED, Status.PAID):
            raise ValidationError({"status": [f"A {conversion.status} conversion cannot be reversed."]})
        remaining = conversion.amount_minor - conversion.reversed_amount_minor
        if amount_minor is None or amount_minor == remaining:
            part_amount, full = remaining, True
        else:
            if amount_minor <= 0:
                raise ValidationError({"amount": ["Reverse a positive amount."]})
            if amount_minor > remaining:
                raise ValidationError({"amount": [
                    f"At most {money.to_major(remaining, conversion.currency)} {conversion.currency} "
                    "of this sale is left to reverse."]})
            part_amount, full = amount_minor, False
        new_reversed_amount = conversion.reversed_amount_minor + part_amount
        commission_after = (conversion.commission_minor if full else commission_share(
            commission_minor=conversion.commission_minor, amount_minor=conversion.amount_minor,
            reversed_amount_minor=new_reversed_amount))
        commission_part = commission_after - conversion.reversed_commission_minor
        number = conversion.reversal_count + 1
        key = f"conversion:{conversion.pk}:reversed" if full else f"conversion:{conversion.pk}:reversal:{number}"
        original = LedgerTransaction.objects.for_network(network).filter(
            idempotency_key=approval_key(conversion.pk)).first()
        if original is not None and (commission_part > 0 or (full and conversion.commission_minor == 0)):
            fees.post_reversal(network=network, original=original, commission_minor=commission_part,
                               idempotency_key=key, source=key,
                               description=f"Conversion {conversion.order_id} reversed")
        counters = {"reversed_amount_minor": new_reversed_amount, "reversed_commission_minor": commission_after,
                    "reversal_count": number}
        data = {"amount_minor": part_amount, "commission_minor": commission_part, "ledger_key": key}
        if full:
            _move(conversion, Status.REVERSED, actor=actor, reason=reason, reason_code=reason_code, now=now,
                  extra=counters, data=data)
        else:
            changed = (Conversion.objects.filter(pk=conversion.pk, status=conversion.status,
                                                 reversal_count=conversion.reversal_count)
                       .update(reason_code=reason_code, status_reason=reason[:255], updated_at=now, **counters))
            if changed != 1:
                raise ValidationError({"status": ["The conversion changed meanwhile; try again."]})
            for name, value in counters.items():
                setattr(conversion, name, value)
            conversion.reason_code, conversion.status_reason = reason_code, reason[:255]
            ConversionEvent.objects.create(
                network_id=conversion.network_id, conversion_id=conversion.pk,
                kind=ConversionEvent.Kind.PARTIAL_REVERSAL, from_status=conversion.status,
                to_status=conversion.status, actor=_user(actor), reason=reason[:255], reason_code=reason_code,
                data=data, created_at=now)
        emit_conversion_event(network=network, conversion=conversion, event_type="conversion.reversed", key=key)
    return conversion


def mark_conversions_paid(*, network: Network | int, conversion_ids: list[int], payout_ref: str,
                          now: datetime | None = None) -> int:
    """Approved conversions become paid when their payout settles (called by payouts); returns how many moved.

    Set-based: one locked read, one conditional UPDATE, one bulk insert of events. Ids that are not
    approved (already paid, reversed meanwhile) are left as they are; calling it again moves nothing.
    """
    network, now = _network(network), now or timezone.now()
    with transaction.atomic():
        ids = list(Conversion.objects.for_network(network)
                   .filter(pk__in=list(conversion_ids), status=Status.APPROVED)
                   .select_for_update().order_by("pk").values_list("pk", flat=True))
        if not ids:
            return 0
        moved = (Conversion.objects.for_network(network).filter(pk__in=ids, status=Status.APPROVED)
                 .update(status=Status.PAID, paid_at=now, payout_ref=payout_ref[:64], updated_at=now))
        ConversionEvent.objects.bulk_create([
            ConversionEvent(network_id=network.pk, conversion_id=pk, kind=ConversionEvent.Kind.TRANSITION,
                            from_status=Status.APPROVED, to_status=Status.PAID, reason=f"payout {payout_ref}"[:255],
                            data={"payout_ref": payout_ref}, created_at=now)
            for pk in ids])
    return moved


def process_reversal_request(*, network: Network | int, request_id: int, now: datetime | None = None) -> ReversalRequest:
    """Act on a provider's refund: reverse an approved/paid conversion (in part when the refund is partial),
    reject a pending or held one, ignore a rejected or already reversed one."""
    network, now = _network(network), now or timezone.now()
    with transaction.atomic():
        request = (ReversalRequest.objects.for_network(network).select_for_update()
                   .select_related("conversion").get(pk=request_id))
        if request.status != ReversalRequest.Status.OPEN:
            return request
        conversion = _lock(network, request.conversion_id)
        reason = request.reason or "refunded"
        outcome = ReversalRequest.Status.DONE
        if conversion.status in (Status.PENDING, Status.HOLD):
            reject_conversion(network=network, conversion_id=conversion.pk, reason=reason,
                              reason_code=ReasonCode.RETURNED, now=now)
        elif conversion.status in (Status.APPROVED, Status.PAID):
            # Providers report the refunded total so far (Stripe's amount_refunded): reverse up to it.
            target = min(request.amount_minor, conversion.amount_minor) if request.amount_minor else \
                conversion.amount_minor
            part = target - conversion.reversed_amount_minor
            if part > 0:
                remaining = conversion.amount_minor - conversion.reversed_amount_minor
                reverse_conversion(network=network, conversion_id=conversion.pk, reason=reason,
                                   reason_code=ReasonCode.RETURNED, amount_minor=None if part >= remaining else part,
                                   now=now)
            else:
                outcome = ReversalRequest.Status.IGNORED
        else:
            outcome = ReversalRequest.Status.IGNORED
        ReversalRequest.objects.filter(pk=request.pk, status=ReversalRequest.Status.OPEN).update(status=outcome)
        request.status = outcome
    return request


def process_open_reversal_requests(*, network: Network | int, now: datetime | None = None,
                                   limit: int = 1000) -> int:
    """Process open reversal requests (oldest first); each in its own transaction. Returns how many."""
    network = _network(network)
    ids = list(ReversalRequest.objects.for_network(network).filter(status=ReversalRequest.Status.OPEN)
               .order_by("pk").values_list("pk", flat=True)[:limit])
    for request_id in ids:
        process_reversal_request(network=network, request_id=request_id, now=now)
    return len(ids)


@dataclass
class RowResult:
    """What happened to one id of a bulk action or one row of a CSV upload."""

    row: int
    order_id: str
    conversion_id: int | None
    result: str  # the new status, or "error"
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "order_id": self.order_id, "id": self.conversion_id, "result": self.result,
                "message": self.message}


def _first_message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return " ".join(str(m) for m in error.messages)


def _decide(*, action: str, network: Network, conversion_id: int, actor: Any, reason: str, reason_code: str,
            now: datetime) -> Conversion:
    if action == "approve":
        return approve_conversion(network=network, conversion_id=conversion_id, actor=actor, reason=reason,
                                  reason_code=reason_code, now=now)
    if action == "reject":
        return reject_conversion(network=network, conversion_id=conversion_id, actor=actor, reason=reason,
                                 reason_code=reason_code, now=now)
    if action == "hold":
        return hold_conversion(network=network, conversion_id=conversion_id, actor=actor, reason=reason,
                               reason_code=reason_code, now=now)
    return release_conversion(network=network, conversion_id=conversion_id, actor=actor, reason=reason, now=now)


def bulk_decide(*, network: Network, scope: QuerySet[Conversion], ids: list[int], action: str, actor: Any = None,
                reason: str = "", reason_code: str = "", now: datetime | None = None) -> list[RowResult]:
    """Approve, reject, hold or release many conversions; each id stands alone (one failure stops nothing).

    `scope` is the caller's visible conversions: an id outside it is reported as not found.
    """
    now = now or timezone.now()
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": ["Choose one of " + ", ".join(BULK_ACTIONS) + "."]})
    reason_code = clean_reason_code(reason_code, required=action == "reject")
    if not ids:
        raise ValidationError({"ids": ["Give at least one conversion id."]})
    if len(ids) > MAX_BULK_IDS:
        raise ValidationError({"ids": [f"At most {MAX_BULK_IDS} ids per call."]})
    visible = dict(scope.filter(pk__in=ids).values_list("pk", "order_id"))
    results = []
    for row, conversion_id in enumerate(ids, start=1):
        if conversion_id not in visible:
            results.append(RowResult(row, "", conversion_id, "error", "No such conversion."))
            continue
        try:
            conversion = _decide(action=action, network=network, conversion_id=conversion_id, actor=actor,
                                 reason=reason, reason_code=reason_code, now=now)
        except ValidationError as error:
            results.append(RowResult(row, visible[conversion_id], conversion_id, "error", _first_message(error)))
        else:
            results.append(RowResult(row, conversion.order_id, conversion.pk, conversion.status))
    return results


class CsvRejected(ValidationError):
    """An all-or-nothing CSV upload with a failing row: nothing was declined; `rows` says why."""

    def __init__(self, rows: list[RowResult]) -> None:
        super().__init__({"file": ["No row was declined because at least one row failed (all or nothing)."]})
        self.rows = rows


def parse_decline_csv(content: bytes) -> list[dict[str, str]]:
    """Rows of a decline file: a header with `order_id` and optionally `program`, `reason_code`, `reason`."""
    if len(content) > MAX_CSV_BYTES:
        raise ValidationError({"file": [f"The file is larger than {MAX_CSV_BYTES // 1024 // 1024} MB."]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": ["The file is not UTF-8 text."]}) from None
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [name.strip().lower() for name in (reader.fieldnames or [])]
    if "order_id" not in headers:
        raise ValidationError({"file": ["The first line must be a header naming at least the column order_id."]})
    reader.fieldnames = headers
    rows = [{key: (value or "").strip() for key, value in row.items() if key} for row in reader]
    rows = [row for row in rows if any(row.values())]
    if not rows:
        raise ValidationError({"file": ["The file has no rows after the header."]})
    if len(rows) > MAX_CSV_ROWS:
        raise ValidationError({"file": [f"At most {MAX_CSV_ROWS} rows per file."]})
    return rows


def decline_from_csv(*, network: Network, scope: QuerySet[Conversion], content: bytes, actor: Any = None,
                     default_reason_code: str = "", all_or_nothing: bool = False,
                     now: datetime | None = None) -> list[RowResult]:
    """Decline the pending or held conversions whose order ids a merchant uploads (validation of big networks).

    Per row by default: each row is declined or reported, independently. With `all_or_nothing`, any
    failing row rolls the whole file back and raises CsvRejected carrying the per-row report.
    """
    now = now or timezone.now()
    default_code = clean_reason_code(default_reason_code) or ReasonCode.CANCELLED
    rows = parse_decline_csv(content)
    order_ids = {row.get("order_id", "") for row in rows}
    candidates: dict[str, list[tuple[int, int]]] = {}
    for pk, order_id, program_id in scope.filter(order_id__in=order_ids).values_list("pk", "order_id", "program_id"):
        candidates.setdefault(order_id, []).append((pk, program_id))
    results: list[RowResult] = []

    def run() -> None:
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            order_id = row.get("order_id", "")
            found = candidates.get(order_id, [])
            program = row.get("program", "")
            if program:
                found = [item for item in found if str(item[1]) == program]
            if not order_id:
                results.append(RowResult(number, order_id, None, "error", "No order id."))
                continue
            if not found:
                results.append(RowResult(number, order_id, None, "error", "No conversion with this order id."))
                continue
            if len(found) > 1:
                results.append(RowResult(number, order_id, None, "error",
                                         "Several programs have this order id; add a program column."))
                continue
            conversion_id = found[0][0]
            try:
                code = clean_reason_code(row.get("reason_code")) or default_code
                with transaction.atomic():
                    conversion = _lock(network, conversion_id)
                    if conversion.status == Status.REJECTED:
                        results.append(RowResult(number, order_id, conversion_id, Status.REJECTED,
                                                 "Already declined."))
                        continue
                    if conversion.status not in (Status.PENDING, Status.HOLD):
                        raise ValidationError({"status": [f"The conversion is {conversion.status}; reverse it "
                                                          "instead of declining it."]})
                    reject_conversion(network=network, conversion_id=conversion_id, actor=actor,
                                      reason=row.get("reason", "") or "declined by file upload",
                                      reason_code=code, now=now)
            except ValidationError as error:
                results.append(RowResult(number, order_id, conversion_id, "error", _first_message(error)))
            else:
                results.append(RowResult(number, order_id, conversion_id, Status.REJECTED))

    if not all_or_nothing:
        run()
        return results
    try:
        with transaction.atomic():
            run()
            if any(result.result == "error" for result in results):
                raise CsvRejected(results)
    except CsvRejected:
        for result in results:
            if result.result != "error":
                result.result, result.message = "not_applied", "Rolled back: another row failed."
        raise
    return results


def on_payout_settled(*, network: Network, payout: Any, conversion_ids: list[int]) -> None:
    """payouts.hooks callback: the conversions a settled payout covered become paid (idempotent)."""
    mark_conversions_paid(network=network, conversion_ids=conversion_ids,
                          payout_ref=getattr(payout, "reference", "") or f"payout:{payout.pk}")
