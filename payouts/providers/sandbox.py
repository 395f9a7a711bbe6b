"""A deterministic provider for the demo and tests: succeeds, fails or delays on command.

Behaviour per item: `recipient["behaviour"]` ("succeed", "fail", "delay") wins; otherwise the amount
decides (minor units ending in 13 fail, ending in 42 delay, everything else succeeds). A delayed item
stays "pending" until it has been polled DELAY_POLLS times or `advance()` is called.

State lives in Django's cache (no rows), so the web process, the worker and beat all see the same
payouts. Like a real provider it is idempotent on the item reference: a second submission of the same
reference answers with the first outcome and moves no money, while `calls()` and `effects()` let the
fault-injection tests count attempts and money movements per key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from payouts.providers.base import (
    PayoutItem,
    PayoutStatus,
    ProviderRejected,
    ProviderUnavailable,
    StatusResult,
    SubmitResult,
    WebhookEvent,
    WebhookRejected,
    load_json,
    lower_headers,
)

BEHAVIOURS = ("auto", "succeed", "fail", "delay")  # "auto": the amount decides
DELAY_POLLS = 2
PREFIX = "payouts:sandbox:"
FAULT_MODES = ("none", "unavailable_before", "unavailable_after", "reject")
_lock = threading.Lock()  # one process; across processes the cache's add() guards the first write


def behaviour_for(item: PayoutItem) -> str:
    """What the sandbox will do with this item."""
    explicit = item.recipient.get("behaviour")
    if explicit in BEHAVIOURS and explicit != "auto":
        return explicit
    if item.amount_minor % 100 == 13:
        return "fail"
    if item.amount_minor % 100 == 42:
        return "delay"
    return "succeed"


def _key(kind: str, reference: str) -> str:
    digest = hashlib.sha256(reference.encode()).hexdigest()[:32]  # cache keys must be short and safe
    return f"{PREFIX}{kind}:{digest}"


def _incr(key: str) -> int:
    cache.add(key, 0, timeout=None)
    return cache.incr(key)


def calls(reference: str) -> int:
    """How many times submit_batch was asked to pay this reference."""
    return int(cache.get(_key("calls", reference)) or 0)


def effects(reference: str) -> int:
    """How many times money actually moved for this reference (exactly-once means ≤ 1)."""
    return int(cache.get(_key("effects", reference)) or 0)


def record(reference: str) -> dict[str, Any] | None:
    """The sandbox's stored payout for a reference."""
    return cache.get(_key("payout", reference))


def set_fault(mode: str = "none", *, every: int = 3) -> None:
    """Inject faults into every `every`-th submit call (counted across processes).

    unavailable_before: raise ProviderUnavailable before recording anything (a 5xx);
    unavailable_after: record the payout, then raise as if the response was lost (a timeout);
    reject: raise ProviderRejected for the whole call.
    """
    if mode not in FAULT_MODES:
        raise ValueError(f"mode is one of {FAULT_MODES}")
    cache.set(PREFIX + "fault", {"mode": mode, "every": max(int(every), 1)}, timeout=None)
    cache.set(PREFIX + "fault_calls", 0, timeout=None)


def _fault_now() -> str:
    fault = cache.get(PREFIX + "fault") or {"mode": "none", "every": 1}
    if fault["mode"] == "none":
        return "none"
    count = _incr(PREFIX + "fault_calls")
    return fault["mode"] if count % fault["every"] == 0 else "none"


def advance(references: list[str] | None = None) -> int:
    """Settle delayed payouts now (all known ones when no references are given); returns how many."""
    settled = 0
    for reference in references if references is not None else list(cache.get(PREFIX + "delayed") or []):
        stored = record(reference)
        if stored and stored["status"] == PayoutStatus.PENDING:
            stored["status"] = PayoutStatus.PAID
            cache.set(_key("payout", reference), stored, timeout=None)
            settled += 1
    return settled


def reset() -> None:
    """Forget faults (stored payouts are keyed by reference and left alone)."""
    cache.delete_many([PREFIX + "fault", PREFIX + "fault_calls", PREFIX + "delayed"])


def webhook_signature(body: bytes) -> str:
    """HMAC-SHA256 of the body with SANDBOX_WEBHOOK_SECRET (default "sandbox")."""
    secret = getattr(settings, "SANDBOX_WEBHOOK_SECRET", "") or "sandbox"
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(*, event_id: str, reference: str, status: str) -> tuple[dict[str, str], bytes]:
    """Signed (headers, body) for a sandbox webhook, as the demo and tests send them."""
    body = json.dumps({"id": event_id, "reference": reference, "status": status}).encode()
    return {"X-Sandbox-Signature": webhook_signature(body)}, body


class SandboxProvider:
    """The fake provider; every method is deterministic given the items."""

    name = "sandbox"
    max_items_per_batch: int | None = None

    def submit_batch(
        self, batch_reference: str, items: list[PayoutItem], *, first_attempt: bool = False
    ) -> list[SubmitResult]:
        """Pay, fail or delay each item once; repeats answer with the stored outcome."""
        for item in items:
            _incr(_key("calls", item.reference))
        fault = _fault_now()
        if fault == "unavailable_before":
            raise ProviderUnavailable("Sandbox: injected 503 before processing.", code="http_503")
        if fault == "reject":
            raise ProviderRejected("Sandbox: injected 400.", code="http_400")
        results = [self._pay_once(batch_reference, item) for item in items]
        if fault == "unavailable_after":
            raise ProviderUnavailable("Sandbox: injected timeout after processing.", code="timeout")
        return results

    def _pay_once(self, batch_reference: str, item: PayoutItem) -> SubmitResult:
        behaviour = behaviour_for(item)
        status = {"succeed": PayoutStatus.PAID, "fail": PayoutStatus.FAILED, "delay": PayoutStatus.PENDING}[behaviour]
        stored = {
            "provider_id": "sbx_" + hashlib.sha256(item.reference.encode()).hexdigest()[:16],
            "status": status,
            "batch_reference": batch_reference,
            "amount_minor": item.amount_minor,
            "currency": item.currency,
            "polls": 0,
        }
        # add() is atomic in every cache backend: only the first submission records (and moves money).
        if cache.add(_key("payout", item.reference), stored, timeout=None):
            if status != PayoutStatus.FAILED:
                _incr(_key("effects", item.reference))
            if status == PayoutStatus.PENDING:
                with _lock:
                    delayed = list(cache.get(PREFIX + "delayed") or [])
                    delayed.append(item.reference)
                    cache.set(PREFIX + "delayed", delayed, timeout=None)
        else:
            stored = record(item.reference) or stored
        return SubmitResult(
            reference=item.reference,
            provider_id=stored["provider_id"],
            status=PayoutStatus(stored["status"]),
            raw=dict(stored),
            error="Sandbox: told to fail." if stored["status"] == PayoutStatus.FAILED else None,
            provider_status=str(stored["status"]),
        )

    def fetch_status(self, batch_reference: str, items: list[PayoutItem]) -> list[StatusResult]:
        """Stored outcomes; delayed items turn paid after DELAY_POLLS polls; unknown references say so."""
        results: list[StatusResult] = []
        for item in items:
            stored = record(item.reference)
            if stored is None:
                results.append(
                    StatusResult(reference=item.reference, provider_id=None, status=PayoutStatus.UNKNOWN,
                                 error="Sandbox has never seen this reference.", provider_status="not_found")
                )
                continue
            if stored["status"] == PayoutStatus.PENDING:
                stored["polls"] += 1
                if stored["polls"] >= DELAY_POLLS:
                    stored["status"] = PayoutStatus.PAID
                cache.set(_key("payout", item.reference), stored, timeout=None)
            results.append(
                StatusResult(
                    reference=item.reference,
                    provider_id=stored["provider_id"],
                    status=PayoutStatus(stored["status"]),
                    raw=dict(stored),
                    error="Sandbox: told to fail." if stored["status"] == PayoutStatus.FAILED else None,
                    provider_status=str(stored["status"]),
                )
            )
        return results

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """{"id", "reference", "status"} signed with X-Sandbox-Signature (see `webhook_body`)."""
        presented = lower_headers(headers).get("x-sandbox-signature", "")
        if not presented or not hmac.compare_digest(presented, webhook_signature(body)):
            raise WebhookRejected("Sandbox signature does not match.", code="bad_signature")
        data = load_json(body)
        try:
            status = PayoutStatus(data.get("status"))
        except ValueError:
            raise WebhookRejected("Unknown status.", code="invalid_event") from None
        if not data.get("id") or not data.get("reference"):
            raise WebhookRejected("Sandbox event needs id and reference.", code="invalid_event")
        stored = record(str(data["reference"])) or {}
        return [
            WebhookEvent(
                provider_event_id=str(data["id"]),
                event_type=f"sandbox.{status}",
                reference=str(data["reference"]),
                provider_id=stored.get("provider_id"),
                status=status,
                raw=data,
                provider_status=str(status),
            )
        ]

    def validate_recipient(self, details: dict[str, Any]) -> dict[str, Any]:
        """A behaviour word (default "auto": the amount decides) and an optional label."""
        behaviour = details.get("behaviour") or "auto"
        if behaviour not in BEHAVIOURS:
            raise ValidationError({"details.behaviour": [f"Choose one of: {', '.join(BEHAVIOURS)}."]})
        return {"behaviour": behaviour, "label": str(details.get("label") or "")[:100]}
