"""PayPal Payouts over plain httpx: one sender_batch_id per batch, items keyed by sender_item_id.

Idempotency is batch-level at PayPal: a sender_batch_id used in the last 30 days is refused with a
link to the original batch, and a 5xx may be retried with the same id. So the sender_batch_id is
derived only from our batch reference, and a refusal "already used" means "look the batch up".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from network import money
from payouts.providers import http
from payouts.providers.base import (
    PayoutItem,
    PayoutStatus,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    StatusResult,
    SubmitResult,
    WebhookEvent,
    WebhookRejected,
    load_json,
    lower_headers,
)

ITEM_STATUS = {
    "SUCCESS": PayoutStatus.PAID,
    "FAILED": PayoutStatus.FAILED,
    "RETURNED": PayoutStatus.FAILED,
    "BLOCKED": PayoutStatus.FAILED,
    "REFUNDED": PayoutStatus.FAILED,
    "REVERSED": PayoutStatus.FAILED,
    "PENDING": PayoutStatus.PENDING,
    "UNCLAIMED": PayoutStatus.PENDING,
    "ONHOLD": PayoutStatus.PENDING,
    "NEW": PayoutStatus.PENDING,
}

# Webhook event names differ from item statuses (HELD vs ONHOLD, CANCELED means an unclaimed payout
# was cancelled and the money went back to us).
ITEM_EVENT_STATUS = {
    "PAYMENT.PAYOUTS-ITEM.SUCCEEDED": PayoutStatus.PAID,
    "PAYMENT.PAYOUTS-ITEM.FAILED": PayoutStatus.FAILED,
    "PAYMENT.PAYOUTS-ITEM.RETURNED": PayoutStatus.FAILED,
    "PAYMENT.PAYOUTS-ITEM.BLOCKED": PayoutStatus.FAILED,
    "PAYMENT.PAYOUTS-ITEM.CANCELED": PayoutStatus.FAILED,
    "PAYMENT.PAYOUTS-ITEM.REFUNDED": PayoutStatus.FAILED,
    "PAYMENT.PAYOUTS-ITEM.HELD": PayoutStatus.PENDING,
    "PAYMENT.PAYOUTS-ITEM.UNCLAIMED": PayoutStatus.PENDING,
}

# Batch events carry no item data: DENIED fails every item, the others mean "poll fetch_status".
BATCH_EVENT_STATUS = {
    "PAYMENT.PAYOUTSBATCH.DENIED": PayoutStatus.FAILED,
    "PAYMENT.PAYOUTSBATCH.PROCESSING": PayoutStatus.UNKNOWN,
    "PAYMENT.PAYOUTSBATCH.SUCCESS": PayoutStatus.UNKNOWN,
}

MAX_ITEMS = 15_000
PAGE_SIZE = 1000
TOKEN_CACHE_PREFIX = "payouts:paypal:token:"


def sender_batch_id_for(batch_reference: str) -> str:
    """The one sender_batch_id of a batch; never derived from the items, so it cannot drift."""
    value = f"{batch_reference}:paypal"
    if len(value) > 256:
        raise ValueError("PayPal sender_batch_id is limited to 256 characters.")
    return value


def map_item_status(transaction_status: str) -> PayoutStatus:
    """PayPal's item transaction_status in our words."""
    return ITEM_STATUS.get((transaction_status or "").upper(), PayoutStatus.UNKNOWN)


class PayPalProvider:
    """PayPal Payouts API (v1) with client-credentials OAuth."""

    name = "paypal"
    max_items_per_batch: int | None = MAX_ITEMS

    def __init__(
        self, *, client_id: str, client_secret: str, api_base: str, webhook_id: str = ""
    ) -> None:
        if not client_id or not client_secret:
            raise ProviderNotConfigured(
                "PayPal is not configured: set PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET.", code="not_configured"
            )
        self.client_id = client_id
        self.client_secret = client_secret
        self.api_base = api_base.rstrip("/")
        self.webhook_id = webhook_id

    @classmethod
    def from_settings(cls) -> PayPalProvider:
        """Build from Django settings."""
        return cls(
            client_id=getattr(settings, "PAYPAL_CLIENT_ID", ""),
            client_secret=getattr(settings, "PAYPAL_CLIENT_SECRET", ""),
            api_base=getattr(settings, "PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com"),
            webhook_id=getattr(settings, "PAYPAL_WEBHOOK_ID", ""),
        )

    # -- auth -------------------------------------------------------------------------------------

    @property
    def _token_cache_key(self) -> str:
        digest = hashlib.sha256(f"{self.api_base}|{self.client_id}".encode()).hexdigest()[:24]
        return TOKEN_CACHE_PREFIX + digest

    def _access_token(self, client: httpx.Client, *, refresh: bool = False) -> str:
        """A cached client-credentials token; fetched again shortly before it expires."""
        if not refresh:
            token = cache.get(self._token_cache_key)
            if token:
                return token
        response = http.send(
            client,
            "POST",
            f"{self.api_base}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
            headers={"Accept": "application/json"},
        )
        http.raise_for_status(response, what="PayPal OAuth")
        data = http.json_or_empty(response)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderUnavailable("PayPal OAuth answered without an access_token.", code="bad_token", raw=data)
        expires_in = int(data.get("expires_in") or 0)
        # Renew a minute early so a token never expires between cache read and use.
        timeout = max(expires_in - 60, 0)
        if timeout:
            cache.set(self._token_cache_key, token, timeout)
        return token

    def _request(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """An authenticated call; one silent retry with a fresh token when PayPal says 401."""
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        for attempt in (1, 2):
            token = self._access_token(client, refresh=attempt == 2)
            response = http.send(
                client, method, url, headers={**headers, "Authorization": f"Bearer {token}"}, **kwargs
            )
            if response.status_code != 401:
                return response
            cache.delete(self._token_cache_key)
        return response

    # -- submit -----------------------------------------------------------------------------------

    def _payload(self, batch_reference: str, items: list[PayoutItem]) -> dict[str, Any]:
        return {
            "sender_batch_header": {
                "sender_batch_id": sender_batch_id_for(batch_reference),
                "recipient_type": "EMAIL",
                "email_subject": "You have a payout",
            },
            "items": [
                {
                    "recipient_type": "EMAIL",
                    "receiver": item.recipient.get("email", ""),
                    "sender_item_id": item.reference,
                    "note": item.note,
                    "amount": {"value": money.to_major(item.amount_minor, item.currency), "currency": item.currency},
                }
                for item in items
            ],
        }

    def submit_batch(
        self, batch_reference: str, items: list[PayoutItem], *, first_attempt: bool = False
    ) -> list[SubmitResult]:
        """POST the batch; on "sender_batch_id already used" read the existing batch instead."""
        if not items:
            return []
        if len(items) > MAX_ITEMS:
            raise ProviderRejected(f"PayPal accepts at most {MAX_ITEMS} items per batch.", code="too_many_items")
        payload = self._payload(batch_reference, items)
        sender_batch_id = payload["sender_batch_header"]["sender_batch_id"]
        with http.new_client() as client:
            response = self._request(
                client,
                "POST",
                f"{self.api_base}/v1/payments/payouts",
                content=json.dumps(payload, separators=(",", ":")).encode(),
                # PayPal keeps this request id for 30 days on this endpoint: a repeat answers with the
                # original outcome. The sender_batch_id check is the second, documented line of defence.
                headers={"PayPal-Request-Id": sender_batch_id},
            )
            data = http.json_or_empty(response)
            if response.status_code == 400 and _is_duplicate_batch(data):
                batch_id = self._existing_batch_id(data)
                if not batch_id:
                    return [
                        SubmitResult(
                            reference=item.reference,
                            provider_id=None,
                            status=PayoutStatus.UNKNOWN,
                            raw=data,
                            error="PayPal says this sender_batch_id was already used but gave no link to it.",
                        )
                        for item in items
                    ]
                existing = self._read_batch(client, batch_id)
                return [SubmitResult(**vars(result)) for result in _item_results(existing, items, batch_id)]
            http.raise_for_status(response, what="PayPal create payout")
        header = data.get("batch_header") or {}
        batch_id = header.get("payout_batch_id")
        batch_status = str(header.get("batch_status") or "")
        status = PayoutStatus.FAILED if batch_status == "DENIED" else PayoutStatus.SUBMITTED
        return [
            SubmitResult(
                reference=item.reference,
                provider_id=None,
                status=status,
                raw=data,
                provider_status=batch_status,
                provider_batch_id=batch_id,
                error="PayPal denied the batch." if status == PayoutStatus.FAILED else None,
            )
            for item in items
        ]

    def _existing_batch_id(self, error: dict[str, Any]) -> str | None:
        """The payout_batch_id from the HATEOAS link PayPal attaches to the duplicate error.

        Only links on our configured API host count: we will not send our token anywhere else.
        """
        links: list[dict[str, Any]] = list(error.get("links") or [])
        for detail in error.get("details") or []:
            if isinstance(detail, dict):
                links.extend(detail.get("link") or detail.get("links") or [])
        api_host = urlsplit(self.api_base).hostname
        for link in links:
            href = str(link.get("href") or "") if isinstance(link, dict) else ""
            parts = urlsplit(href)
            marker = "/v1/payments/payouts/"
            if marker not in parts.path:
                continue
            if parts.hostname != api_host and not _is_paypal_host(parts.hostname or ""):
                continue
            batch_id = parts.path.split(marker, 1)[1].strip("/").split("/")[0]
            if batch_id:
                return batch_id
        return None

    # -- status -----------------------------------------------------------------------------------

    def _read_batch(self, client: httpx.Client, batch_id: str) -> dict[str, Any]:
        """GET the batch with every page of items."""
        items: list[dict[str, Any]] = []
        page = 1
        data: dict[str, Any] = {}
        while True:
            response = self._request(
                client,
                "GET",
                f"{self.api_base}/v1/payments/payouts/{batch_id}",
                params={"page": page, "page_size": PAGE_SIZE, "total_required": "true"},
            )
            http.raise_for_status(response, what="PayPal show payout batch")
            data = http.json_or_empty(response)
            page_items = data.get("items") or []
            items.extend(page_items)
            has_next = any(isinstance(link, dict) and link.get("rel") == "next" for link in data.get("links") or [])
            total_pages = int(data.get("total_page") or 0)
            if not page_items or not (has_next or page < total_pages) or page >= 100:
                break
            page += 1
        return {**data, "items": items}

    def fetch_status(self, batch_reference: str, items: list[PayoutItem]) -> list[StatusResult]:
        """Read the batch by its payout_batch_id; without one PayPal cannot be asked (resubmit resolves)."""
        batch_ids = {item.provider_batch_id for item in items if item.provider_batch_id}
        results: dict[str, StatusResult] = {}
        with http.new_client() as client:
            for batch_id in sorted(batch_ids):
                batch = self._read_batch(client, batch_id)
                wanted = [item for item in items if item.provider_batch_id == batch_id]
                for result in _item_results(batch, wanted, batch_id):
                    results[result.reference] = result
        return [
            results.get(item.reference)
            or StatusResult(
                reference=item.reference,
                provider_id=None,
                status=PayoutStatus.UNKNOWN,
                error="No PayPal payout_batch_id known; resubmit with the same sender_batch_id to find it.",
            )
            for item in items
        ]

    # -- webhooks ---------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], event: dict[str, Any]) -> None:
        """Ask PayPal whether this delivery is authentic; raises WebhookRejected when it is not."""
        if not self.webhook_id:
            raise ProviderNotConfigured(
                "PayPal webhooks are not configured: set PAYPAL_WEBHOOK_ID.", code="not_configured"
            )
        lowered = lower_headers(headers)
        names = {
            "auth_algo": "paypal-auth-algo",
            "cert_url": "paypal-cert-url",
            "transmission_id": "paypal-transmission-id",
            "transmission_sig": "paypal-transmission-sig",
            "transmission_time": "paypal-transmission-time",
        }
        missing = [header for header in names.values() if not lowered.get(header)]
        if missing:
            raise WebhookRejected(f"Missing PayPal signature headers: {', '.join(missing)}.", code="missing_signature")
        if not _is_paypal_host(urlsplit(lowered["paypal-cert-url"]).hostname or ""):
            raise WebhookRejected("PAYPAL-CERT-URL is not on a PayPal host.", code="bad_cert_url")
        body = {key: lowered[header] for key, header in names.items()}
        body["webhook_id"] = self.webhook_id
        body["webhook_event"] = event
        with http.new_client() as client:
            response = self._request(
                client,
                "POST",
                f"{self.api_base}/v1/notifications/verify-webhook-signature",
                content=json.dumps(body, separators=(",", ":")).encode(),
            )
            http.raise_for_status(response, what="PayPal verify webhook signature")
        verdict = http.json_or_empty(response).get("verification_status")
        if verdict != "SUCCESS":
            raise WebhookRejected(f"PayPal did not verify the signature ({verdict}).", code="bad_signature")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify with PayPal, then turn PAYMENT.PAYOUTS-ITEM.* / PAYOUTSBATCH.* into events."""
        event = load_json(body)
        self.verify_webhook(headers, event)
        return parse_event(event)

    # -- recipients -------------------------------------------------------------------------------

    def validate_recipient(self, details: dict[str, Any]) -> dict[str, Any]:
        """A PayPal payee is an email address."""
        email = str(details.get("email") or "").strip()
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"details.email": ["Enter the email address of your PayPal account."]}) from None
        return {"email": email.lower()}


def parse_event(event: dict[str, Any]) -> list[WebhookEvent]:
    """A verified PayPal event as our WebhookEvents (unrelated event types give an empty list)."""
    event_id = str(event.get("id") or "")
    event_type = str(event.get("event_type") or "")
    resource = event.get("resource") or {}
    if not event_id or not isinstance(resource, dict):
        raise WebhookRejected("PayPal event without id or resource.", code="invalid_event")
    if event_type in ITEM_EVENT_STATUS:
        item = resource.get("payout_item") or {}
        errors = resource.get("errors") or {}
        return [
            WebhookEvent(
                provider_event_id=event_id,
                event_type=event_type,
                reference=item.get("sender_item_id"),
                provider_id=resource.get("payout_item_id"),
                status=ITEM_EVENT_STATUS[event_type],
                raw=event,
                provider_status=str(resource.get("transaction_status") or ""),
                provider_batch_id=resource.get("payout_batch_id"),
                error=(errors.get("message") or errors.get("name")) if isinstance(errors, dict) else None,
            )
        ]
    if event_type in BATCH_EVENT_STATUS:
        header = resource.get("batch_header") or {}
        return [
            WebhookEvent(
                provider_event_id=event_id,
                event_type=event_type,
                reference=None,
                provider_id=None,
                status=BATCH_EVENT_STATUS[event_type],
                raw=event,
                provider_status=str(header.get("batch_status") or ""),
                provider_batch_id=header.get("payout_batch_id"),
            )
        ]
    return []


def _is_duplicate_batch(error: dict[str, Any]) -> bool:
    """PayPal's refusal of a sender_batch_id already used in the last 30 days."""
    texts = [str(error.get("name") or ""), str(error.get("message") or "")]
    for detail in error.get("details") or []:
        if isinstance(detail, dict):
            texts.extend(str(detail.get(key) or "") for key in ("field", "issue", "description"))
    joined = " ".join(texts).lower()
    return "sender_batch_id" in joined and ("already" in joined or "duplicate" in joined)


def _is_paypal_host(host: str) -> bool:
    host = host.lower()
    return host == "paypal.com" or host.endswith(".paypal.com")


def _item_results(batch: dict[str, Any], items: list[PayoutItem], batch_id: str) -> list[StatusResult]:
    """Match PayPal's batch items to ours by sender_item_id."""
    header = batch.get("batch_header") or {}
    batch_status = str(header.get("batch_status") or "")
    by_reference = {
        (entry.get("payout_item") or {}).get("sender_item_id"): entry
        for entry in batch.get("items") or []
        if isinstance(entry, dict)
    }
    results: list[StatusResult] = []
    for item in items:
        entry = by_reference.get(item.reference)
        if entry is None:
            if batch_status == "DENIED":
                status, error = PayoutStatus.FAILED, "PayPal denied the batch."
            elif batch_status in ("PENDING", "PROCESSING") and not by_reference:
                status, error = PayoutStatus.SUBMITTED, None
            else:
                # Sent under this sender_batch_id before without this item: PayPal will never pay it
                # under this id, so the caller must move it to a new batch.
                status, error = PayoutStatus.UNKNOWN, "Not part of the PayPal batch recorded for this sender_batch_id."
            results.append(
                StatusResult(
                    reference=item.reference,
                    provider_id=None,
                    status=status,
                    raw={"batch_header": header},
                    error=error,
                    provider_status=batch_status,
                    provider_batch_id=batch_id,
                )
            )
            continue
        transaction_status = str(entry.get("transaction_status") or "")
        errors = entry.get("errors") or {}
        status = map_item_status(transaction_status)
        results.append(
            StatusResult(
                reference=item.reference,
                provider_id=entry.get("payout_item_id"),
                status=status,
                raw=entry,
                error=(errors.get("message") or errors.get("name") or None)
                if isinstance(errors, dict) and status == PayoutStatus.FAILED
                else None,
                provider_status=transaction_status,
                provider_batch_id=batch_id,
            )
        )
    return results
