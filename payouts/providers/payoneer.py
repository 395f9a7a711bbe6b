"""Payoneer mass payouts (v4) over plain httpx: one client_reference_id per payout item.

Payoneer documents neither how a repeated client_reference_id behaves nor how long it is kept, so
before anything that might be a resubmission we GET the item's status by client_reference_id and only
send the items Payoneer has never heard of (PAYMENTS.md §1c).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError

from network import money
from payouts.providers import http
from payouts.providers.base import (
    OnboardingLink,
    PayoutItem,
    PayoutStatus,
    ProviderNotConfigured,
    ProviderRejected,
    StatusResult,
    SubmitResult,
    WebhookEvent,
    WebhookRejected,
    dumps_exact,
    lower_headers,
)

# Payoneer's full status list is not public; these words are matched case-insensitively and anything
# else is "unknown" (the services keep polling and an operator sees the raw word).
PAID_WORDS = frozenset({"transferred", "completed", "paid", "funded"})
PENDING_WORDS = frozenset(
    {"pending", "in process", "in progress", "processing", "pending approval", "pending payee", "submitted",
     "loaded", "accepted", "approved", "payment request accepted"}
)
FAILED_WORDS = frozenset({"cancelled", "canceled", "failed", "declined", "rejected", "returned", "cancel payout"})

PAYEE_STATUS = {"1": "active", "0": "pending", "99": "inactive"}
PAYEE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_ITEMS = 500  # [guess] Payoneer does not publish a limit; keep requests and 400s small.


def map_status(word: str) -> PayoutStatus:
    """Payoneer's payout status word in our words."""
    normalized = " ".join((word or "").replace("_", " ").lower().split())
    if normalized in PAID_WORDS:
        return PayoutStatus.PAID
    if normalized in PENDING_WORDS:
        return PayoutStatus.PENDING
    if normalized in FAILED_WORDS:
        return PayoutStatus.FAILED
    return PayoutStatus.UNKNOWN


class PayoneerProvider:
    """Payoneer Mass Payouts for one program."""

    name = "payoneer"
    max_items_per_batch: int | None = MAX_ITEMS

    def __init__(self, *, api_base: str, program_id: str, token: str, webhook_secret: str = "") -> None:
        if not program_id or not token:
            raise ProviderNotConfigured(
                "Payoneer is not configured: set PAYONEER_PROGRAM_ID and PAYONEER_TOKEN.", code="not_configured"
            )
        self.api_base = api_base.rstrip("/")
        self.program_id = program_id
        self.token = token
        self.webhook_secret = webhook_secret

    @classmethod
    def from_settings(cls) -> PayoneerProvider:
        """Build from Django settings."""
        return cls(
            api_base=getattr(settings, "PAYONEER_API_BASE", "https://api.sandbox.payoneer.com"),
            program_id=getattr(settings, "PAYONEER_PROGRAM_ID", ""),
            token=getattr(settings, "PAYONEER_TOKEN", ""),
            webhook_secret=getattr(settings, "PAYONEER_WEBHOOK_SECRET", ""),
        )

    @property
    def _program_url(self) -> str:
        return f"{self.api_base}/v4/programs/{quote(self.program_id, safe='')}"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    # -- submit -----------------------------------------------------------------------------------

    def submit_batch(
        self, batch_reference: str, items: list[PayoutItem], *, first_attempt: bool = False
    ) -> list[SubmitResult]:
        """Check what Payoneer already knows (unless first attempt), then POST only the unknown items."""
        if not items:
            return []
        if len(items) > MAX_ITEMS:
            raise ProviderRejected(f"Send at most {MAX_ITEMS} Payoneer payments per call.", code="too_many_items")
        known: dict[str, StatusResult] = {}
        with http.new_client() as client:
            if not first_attempt:
                for item in items:
                    status = self._status(client, item)
                    if status is not None:
                        known[item.reference] = status
            to_send = [item for item in items if item.reference not in known]
            data: dict[str, Any] = {}
            if to_send:
                body = {
                    "Payments": [
                        {
                            "client_reference_id": item.reference,
                            "payee_id": item.recipient.get("payee_id", ""),
                            # Decimal, written as an exact JSON number (never through float).
                            "amount": Decimal(money.to_major(item.amount_minor, item.currency)),
                            "currency": item.currency,
                            "description": item.note or batch_reference,
                        }
                        for item in to_send
                    ]
                }
                response = http.send(
                    client, "POST", f"{self._program_url}/masspayouts", content=dumps_exact(body),
                    headers=self._headers(),
                )
                # A 400 here rejects the whole request (Payoneer validates all-or-nothing).
                http.raise_for_status(response, what="Payoneer mass payout")
                data = http.json_or_empty(response)
        results: list[SubmitResult] = []
        for item in items:
            if item.reference in known:
                results.append(SubmitResult(**vars(known[item.reference])))
            else:
                results.append(
                    SubmitResult(
                        reference=item.reference,
                        provider_id=None,
                        status=PayoutStatus.SUBMITTED,
                        raw=data,
                    )
                )
        return results

    # -- status -----------------------------------------------------------------------------------

    def _status(self, client: httpx.Client, item: PayoutItem) -> StatusResult | None:
        """Payoneer's status for one client_reference_id; None when Payoneer does not know it (404)."""
        response = http.send(
            client,
            "GET",
            f"{self._program_url}/payouts/{quote(item.reference, safe='')}/status",
            headers=self._headers(),
        )
        if response.status_code == 404:
            return None
        http.raise_for_status(response, what="Payoneer payout status")
        data = http.json_or_empty(response)
        result = data.get("result") if isinstance(data.get("result"), dict) else data
        word = str(result.get("status") or result.get("Status") or "")
        status = map_status(word)
        return StatusResult(
            reference=item.reference,
            provider_id=str(result.get("payout_id") or result.get("PaymentID") or "") or None,
            status=status,
            raw=data,
            error=str(result.get("status_description") or result.get("reason") or word)
            if status == PayoutStatus.FAILED
            else None,
            provider_status=word,
        )

    def fetch_status(self, batch_reference: str, items: list[PayoutItem]) -> list[StatusResult]:
        """GET each item's status by client_reference_id (404: Payoneer never received it, or it failed)."""
        results: list[StatusResult] = []
        with http.new_client() as client:
            for item in items:
                status = self._status(client, item)
                results.append(
                    status
                    or StatusResult(
                        reference=item.reference,
                        provider_id=None,
                        status=PayoutStatus.UNKNOWN,
                        error="Payoneer does not know this client_reference_id.",
                        provider_status="not_found",
                    )
                )
        return results

    # -- onboarding -------------------------------------------------------------------------------

    def onboarding_link(self, *, payee_id: str, redirect_url: str = "") -> OnboardingLink:
        """A Payoneer-hosted registration link for OUR payee id (stored on the payout profile)."""
        body: dict[str, Any] = {"payee_id": payee_id}
        if redirect_url:
            body["redirect_url"] = redirect_url
        with http.new_client() as client:
            response = http.send(
                client, "POST", f"{self._program_url}/payees/registration-link", content=dumps_exact(body),
                headers=self._headers(),
            )
            http.raise_for_status(response, what="Payoneer registration link")
        data = http.json_or_empty(response)
        result = data.get("result") if isinstance(data.get("result"), dict) else data
        url = result.get("registration_link") or result.get("link") or result.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ProviderRejected("Payoneer answered without a registration link.", code="no_link", raw=data)
        return OnboardingLink(url=url, account_id=payee_id)

    def payee_status(self, *, payee_id: str) -> str:
        """"active" (payable), "pending" (KYC), "inactive" (declined) or "unknown"."""
        with http.new_client() as client:
            response = http.send(
                client, "GET", f"{self._program_url}/payees/{quote(payee_id, safe='')}/status",
                headers=self._headers(),
            )
            if response.status_code == 404:
                return "unknown"
            http.raise_for_status(response, what="Payoneer payee status")
        data = http.json_or_empty(response)
        result = data.get("result") if isinstance(data.get("result"), dict) else data
        status = result.get("status")
        code = status.get("type") if isinstance(status, dict) else status
        return PAYEE_STATUS.get(str(code), "unknown")

    # -- webhooks ---------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify a callback by our shared secret, then report it as a hint to re-poll.

        Payoneer's IPCN callbacks are query-string (or form) parameters; their HMAC scheme is not reliably
        documented, so the callback URL we register carries a secret `token` parameter (or an
        `X-Payoneer-Token` header) and the payload's status is never trusted on its own.
        """
        if not self.webhook_secret:
            raise ProviderNotConfigured("Payoneer callbacks need PAYONEER_WEBHOOK_SECRET.", code="not_configured")
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise WebhookRejected("Callback is not UTF-8.", code="invalid_body") from None
        presented = params.pop("token", "") or lower_headers(headers).get("x-payoneer-token", "")
        if not presented or not hmac.compare_digest(presented.encode(), self.webhook_secret.encode()):
            raise WebhookRejected("Payoneer callback token does not match.", code="bad_signature")
        lowered = {key.lower(): value for key, value in params.items()}
        reference = lowered.get("client_reference_id") or lowered.get("clientreferenceid") or lowered.get("paymentid")
        event_type = next(
            (key for key in ("paymentrequestaccepted", "cancelpayout", "approved", "declined", "payment") if key in lowered),
            lowered.get("event", "") or "callback",
        )
        status = {
            "paymentrequestaccepted": PayoutStatus.PENDING,
            "cancelpayout": PayoutStatus.FAILED,
        }.get(event_type, PayoutStatus.UNKNOWN)
        # No event id in IPCN: the sorted parameters identify a delivery, so a replay dedupes.
        fingerprint = "&".join(f"{key}={params[key]}" for key in sorted(params))
        return [
            WebhookEvent(
                provider_event_id="payoneer:" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32],
                event_type=event_type,
                reference=reference or None,
                provider_id=None,
                status=status,
                raw=params,
                provider_status=event_type,
                detail={"payee_id": lowered.get("payeeid") or lowered.get("payee_id") or ""},
            )
        ]

    # -- recipients -------------------------------------------------------------------------------

    def validate_recipient(self, details: dict[str, Any]) -> dict[str, Any]:
        """A Payoneer payee is the payee_id WE chose when creating the registration link."""
        payee_id = str(details.get("payee_id") or "").strip()
        if not PAYEE_ID_PATTERN.match(payee_id):
            raise ValidationError(
                {"details.payee_id": ["Complete the Payoneer registration first (payee id missing or invalid)."]}
            )
        return {"payee_id": payee_id}
