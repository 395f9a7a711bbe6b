"""The one interface every payout provider implements, its result types and its exceptions.

The provider layer holds no state of its own (the sandbox's cache store excepted) and writes no rows:
the payout services call `submit_batch` / `fetch_status` / `parse_webhook` and record the outcome.
Exactly-once rests on deterministic provider keys that every provider derives from our references:
calling a provider twice with the same references must never move money twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class PayoutStatus(StrEnum):
    """What a provider says about one payout item, in our words."""

    SUBMITTED = "submitted"  # accepted by the provider, outcome not known yet
    PENDING = "pending"  # in progress at the provider (held, unclaimed, awaiting upload/KYC)
    PAID = "paid"  # money reached the recipient (or their provider balance)
    FAILED = "failed"  # will not be paid, or was paid and came back (see provider_status)
    UNKNOWN = "unknown"  # the provider cannot tell us; resubmitting with the same keys resolves it


class ProviderError(Exception):
    """Base class of every provider error."""

    def __init__(self, message: str, *, code: str = "", raw: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.raw = raw or {}


class ProviderUnavailable(ProviderError):
    """Transient: network error, timeout, 5xx, 429, 409. Retry later with the SAME keys."""


class ProviderRejected(ProviderError):
    """Permanent: the provider refused the request (validation, 4xx). Never retried automatically."""


class ProviderNotConfigured(ProviderError):
    """Credentials or settings are missing or refused (401/403). An operator must fix the settings."""


class WebhookRejected(ProviderError):
    """A webhook failed verification or could not be parsed; answer 400 and change nothing."""


@dataclass(frozen=True)
class PayoutItem:
    """One payout to send: our deterministic reference is the provider-side idempotency anchor."""

    reference: str  # e.g. "payout:123"; globally unique and stable across retries
    amount_minor: int
    currency: str
    recipient: dict[str, Any]  # the validated payout-profile details for this method
    note: str = ""
    provider_id: str | None = None  # provider's item id once known (PayPal payout_item_id, Stripe tr_…)
    provider_batch_id: str | None = None  # provider's batch id once known (PayPal payout_batch_id)


@dataclass(frozen=True)
class SubmitResult:
    """The provider's answer for one item right after submission."""

    reference: str
    provider_id: str | None
    status: PayoutStatus
    raw: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    provider_status: str = ""  # the provider's own status word (RETURNED, reversed, …)
    provider_batch_id: str | None = None


@dataclass(frozen=True)
class StatusResult:
    """The provider's current view of one item, from polling."""

    reference: str
    provider_id: str | None
    status: PayoutStatus
    raw: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    provider_status: str = ""
    provider_batch_id: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """One verified provider notification; dedupe on (provider, provider_event_id), re-check state."""

    provider_event_id: str
    event_type: str
    reference: str | None
    provider_id: str | None
    status: PayoutStatus
    raw: dict[str, Any] = field(default_factory=dict)
    provider_status: str = ""
    provider_batch_id: str | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. a Connect account's capabilities


@dataclass(frozen=True)
class OnboardingLink:
    """Where to send a payee to finish onboarding at the provider."""

    url: str
    account_id: str  # the provider account / payee id to store on the payout profile


@runtime_checkable
class PayoutProvider(Protocol):
    """What the payout services may call; every method is safe to call again with the same input."""

    name: str
    # Largest number of items one submit_batch call accepts (None: no limit); callers split batches.
    max_items_per_batch: int | None

    def submit_batch(
        self, batch_reference: str, items: list[PayoutItem], *, first_attempt: bool = False
    ) -> list[SubmitResult]:
        """Send the items; one result per item, in the same order. `first_attempt=True` only when the
        caller knows no earlier call for these items ever left the process (skips pre-checks)."""
        ...

    def fetch_status(self, batch_reference: str, items: list[PayoutItem]) -> list[StatusResult]:
        """Ask the provider about the items; one result per item, in the same order."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify and parse a webhook delivery; raises WebhookRejected when it is not authentic."""
        ...

    def validate_recipient(self, details: dict[str, Any]) -> dict[str, Any]:
        """Return normalized details or raise ValidationError naming fields ("details.email")."""
        ...


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Case-insensitive header access for plain dicts and Django's request.headers alike."""
    return {str(key).lower(): str(value) for key, value in headers.items()}


def load_json(body: bytes) -> dict[str, Any]:
    """Parse a JSON object body or raise WebhookRejected (never a 500 on garbage)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("Body is not JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise WebhookRejected("Body is not a JSON object.", code="invalid_json")
    return data


def dumps_exact(payload: Any) -> bytes:
    """JSON-encode with Decimals as exact numbers ("12.50" -> 12.50), never through float."""
    numbers: dict[str, str] = {}

    def default(value: object) -> object:
        if isinstance(value, Decimal):
            token = f"\u0000num{len(numbers)}\u0000"
            numbers[token] = format(value, "f")
            return token
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(payload, default=default, separators=(",", ":"), ensure_ascii=False)
    for token, number in numbers.items():
        # json.dumps escapes the NUL marker as \u0000 inside the quoted string.
        text = text.replace(json.dumps(token), number)
    return text.encode("utf-8")
