"""Stripe Connect transfers from the platform balance to affiliates' Express accounts.

Every POST carries an explicit Idempotency-Key derived from our reference. stripe-python invents a
random key per call when none is given; that key survives the SDK's own retries but not a Celery
retry, which would be a second transfer. Stripe keeps keys for at least 24 hours, so a retry within
that window replays the original answer (including a saved error), and after it the services must
look the transfer up by transfer_group (fetch_status) before sending again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError

from payouts.providers.base import (
    OnboardingLink,
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

ACCOUNT_ID_PATTERN = re.compile(r"^acct_[A-Za-z0-9]{6,}$")
TRANSFER_EVENTS = frozenset({"transfer.created", "transfer.updated", "transfer.reversed"})
KEY_VERSION = "v1"  # bump only to deliberately send a NEW transfer for the same reference


def transfer_idempotency_key(reference: str) -> str:
    """The Idempotency-Key of the transfer for one payout item (≤255 chars at Stripe)."""
    key = f"payout-item:{reference}:{KEY_VERSION}"
    if len(key) > 255:
        raise ValueError("Stripe idempotency keys are limited to 255 characters.")
    return key


def account_idempotency_key(reference: str) -> str:
    """The Idempotency-Key of the Express account created for one payee (e.g. "affiliate:7")."""
    return f"connect-account:{reference}:{KEY_VERSION}"


def call_stripe[T](function: Callable[[], T], *, what: str) -> T:
    """Run one SDK call, mapping Stripe's exceptions to ours."""
    try:
        return function()
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise ProviderUnavailable(f"{what}: {exc.user_message or exc}", code=type(exc).__name__) from exc
    except stripe.IdempotencyError as exc:
        # The same key was used with different parameters: something re-packed a payout. Stop loudly.
        raise ProviderRejected(f"{what}: {exc.user_message or exc}", code="idempotency_error") from exc
    except stripe.InvalidRequestError as exc:
        raise ProviderRejected(
            f"{what}: {exc.user_message or exc}", code=str(exc.code or "invalid_request"), raw=exc.json_body or {}
        ) from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise ProviderNotConfigured(f"{what}: {exc.user_message or exc}", code=type(exc).__name__) from exc
    except stripe.APIError as exc:
        # 5xx and 409 (a concurrent request with the same key is still running): retry with the same key.
        raise ProviderUnavailable(f"{what}: {exc.user_message or exc}", code=f"http_{exc.http_status}") from exc
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        if status >= 500 or status in (409, 429):
            raise ProviderUnavailable(f"{what}: {exc}", code=f"http_{status}") from exc
        raise ProviderRejected(f"{what}: {exc}", code=str(exc.code or type(exc).__name__)) from exc


def transfer_status(transfer: Mapping[str, Any]) -> tuple[PayoutStatus, str]:
    """A transfer in our words: created is paid (funds are on the connected account), reversed failed."""
    if transfer.get("reversed"):
        return PayoutStatus.FAILED, "reversed"
    if int(transfer.get("amount_reversed") or 0) > 0:
        return PayoutStatus.PAID, "partially_reversed"
    return PayoutStatus.PAID, "created"


def account_status(account: Mapping[str, Any]) -> dict[str, Any]:
    """What a payout profile keeps from an Account (`account.updated` or a retrieve)."""
    requirements = account.get("requirements") or {}
    capabilities = account.get("capabilities") or {}
    payouts_enabled = bool(account.get("payouts_enabled"))
    transfers_active = capabilities.get("transfers") == "active"
    return {
        "account_id": account.get("id"),
        "charges_enabled": bool(account.get("charges_enabled")),
        "payouts_enabled": payouts_enabled,
        "details_submitted": bool(account.get("details_submitted")),
        "transfers_capability": capabilities.get("transfers") or "",
        "currently_due": list(requirements.get("currently_due") or []),
        "past_due": list(requirements.get("past_due") or []),
        "disabled_reason": requirements.get("disabled_reason") or "",
        # Payable when Stripe accepts transfers to it and it can pay out to the affiliate's bank.
        "ready": payouts_enabled and transfers_active,
    }


class StripeConnectProvider:
    """Transfers via stripe-python's StripeClient over httpx (so tests mock it with respx)."""

    name = "stripe"
    max_items_per_batch: int | None = None

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str = "",
        api_base: str = "",
        client: stripe.StripeClient | None = None,
    ) -> None:
        if not api_key and client is None:
            raise ProviderNotConfigured("Stripe is not configured: set STRIPE_API_KEY.", code="not_configured")
        self.webhook_secret = webhook_secret
        # max_network_retries=0: our Celery task retries with the same explicit key; SDK retries would
        # only hide timeouts from us.
        self.client = client or stripe.StripeClient(
            api_key,
            http_client=stripe.HTTPXClient(allow_sync_methods=True),
            max_network_retries=0,
            **({"base_addresses": {"api": api_base}} if api_base else {}),
        )

    @classmethod
    def from_settings(cls) -> StripeConnectProvider:
        """Build from Django settings."""
        return cls(
            api_key=getattr(settings, "STRIPE_API_KEY", ""),
            webhook_secret=getattr(settings, "STRIPE_WEBHOOK_SECRET", ""),
            api_base=getattr(settings, "STRIPE_API_BASE", ""),
        )

    # -- submit -----------------------------------------------------------------------------------

    def submit_batch(
        self, batch_reference: str, items: list[PayoutItem], *, first_attempt: bool = False
    ) -> list[SubmitResult]:
        """One transfer per item, each under its own deterministic Idempotency-Key.

        A transient error stops the loop and raises: the retry replays the earlier items from Stripe's
        idempotency store. A permanent refusal of one item (bad destination, no balance) fails that item
        only; Stripe stores that refusal under the key, so a retry sees the same answer.
        """
        results: list[SubmitResult] = []
        for item in items:
            params = {
                "amount": item.amount_minor,
                "currency": item.currency.lower(),
                "destination": item.recipient.get("account_id", ""),
                "transfer_group": batch_reference,
                "metadata": {"reference": item.reference},
            }
            try:
                transfer = call_stripe(
                    lambda params=params, item=item: self.client.v1.transfers.create(
                        params=params, options={"idempotency_key": transfer_idempotency_key(item.reference)}
                    ),
                    what="Stripe create transfer",
                )
            except ProviderRejected as exc:
                if exc.code == "idempotency_error":
                    raise
                results.append(
                    SubmitResult(
                        reference=item.reference,
                        provider_id=None,
                        status=PayoutStatus.FAILED,
                        raw=exc.raw,
                        error=exc.message,
                        provider_status=exc.code,
                    )
                )
                continue
            data = transfer.to_dict()
            status, word = transfer_status(data)
            results.append(
                SubmitResult(reference=item.reference, provider_id=data.get("id"), status=status, raw=data,
                             provider_status=word)
            )
        return results

    # -- status -----------------------------------------------------------------------------------

    def fetch_status(self, batch_reference: str, items: list[PayoutItem]) -> list[StatusResult]:
        """List the batch's transfers by transfer_group and match them on metadata.reference."""
        page = call_stripe(
            lambda: self.client.v1.transfers.list(params={"transfer_group": batch_reference, "limit": 100}),
            what="Stripe list transfers",
        )
        by_reference: dict[str, dict[str, Any]] = {}
        iterator = iter(page.auto_paging_iter())
        while True:
            transfer = call_stripe(lambda iterator=iterator: next(iterator, None), what="Stripe list transfers")
            if transfer is None:
                break
            data = transfer.to_dict()
            reference = (data.get("metadata") or {}).get("reference")
            if reference:
                by_reference[reference] = data
        results: list[StatusResult] = []
        for item in items:
            data = by_reference.get(item.reference)
            if data is None:
                results.append(
                    StatusResult(reference=item.reference, provider_id=None, status=PayoutStatus.UNKNOWN,
                                 error="No Stripe transfer with this reference in the transfer group.",
                                 provider_status="not_found")
                )
                continue
            status, word = transfer_status(data)
            results.append(
                StatusResult(reference=item.reference, provider_id=data.get("id"), status=status, raw=data,
                             provider_status=word)
            )
        return results

    # -- onboarding -------------------------------------------------------------------------------

    def create_express_account(
        self, *, reference: str, email: str = "", country: str = "", recipient_agreement: bool = False
    ) -> dict[str, Any]:
        """Create the Express account for a payee once (idempotent on our reference for 24 h)."""
        params: dict[str, Any] = {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"reference": reference},
        }
        if email:
            params["email"] = email
        if country:
            params["country"] = country.upper()
        if recipient_agreement:
            # Cross-border payees need the recipient service agreement (no card payments).
            params["tos_acceptance"] = {"service_agreement": "recipient"}
        account = call_stripe(
            lambda: self.client.v1.accounts.create(
                params=params, options={"idempotency_key": account_idempotency_key(reference)}
            ),
            what="Stripe create account",
        )
        return account.to_dict()

    def onboarding_link(
        self,
        *,
        reference: str,
        refresh_url: str,
        return_url: str,
        account_id: str = "",
        email: str = "",
        country: str = "",
        recipient_agreement: bool = False,
    ) -> OnboardingLink:
        """An Account Link for Express onboarding; creates the account first when none is stored."""
        if not account_id:
            account_id = self.create_express_account(
                reference=reference, email=email, country=country, recipient_agreement=recipient_agreement
            )["id"]
        # Account links are single-use and short-lived: never cached, so no idempotency key.
        link = call_stripe(
            lambda: self.client.v1.account_links.create(
                params={"account": account_id, "refresh_url": refresh_url, "return_url": return_url,
                        "type": "account_onboarding"}
            ),
            what="Stripe create account link",
        )
        return OnboardingLink(url=link.to_dict()["url"], account_id=account_id)

    def retrieve_account_status(self, *, account_id: str) -> dict[str, Any]:
        """The account's payability, fetched fresh (webhooks arrive out of order)."""
        account = call_stripe(lambda: self.client.v1.accounts.retrieve(account_id), what="Stripe retrieve account")
        return account_status(account.to_dict())

    # -- webhooks ---------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify the Stripe-Signature (HMAC, 300 s tolerance), then map transfer.* and account.updated."""
        if not self.webhook_secret:
            raise ProviderNotConfigured("Stripe webhooks need STRIPE_WEBHOOK_SECRET.", code="not_configured")
        signature = lower_headers(headers).get("stripe-signature", "")
        try:
            stripe.Webhook.construct_event(body, signature, self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"Stripe signature: {exc}", code="bad_signature") from exc
        except ValueError as exc:
            raise WebhookRejected("Body is not JSON.", code="invalid_json") from exc
        return parse_event(load_json(body))

    # -- recipients -------------------------------------------------------------------------------

    def validate_recipient(self, details: dict[str, Any]) -> dict[str, Any]:
        """A Stripe payee is a connected account id (acct_…) created through onboarding."""
        account_id = str(details.get("account_id") or "").strip()
        if not ACCOUNT_ID_PATTERN.match(account_id):
            raise ValidationError({"details.account_id": ["Connect your Stripe account first (acct_… expected)."]})
        return {"account_id": account_id}


def parse_event(event: dict[str, Any]) -> list[WebhookEvent]:
    """A verified Stripe event as our WebhookEvents (other types give an empty list)."""
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id or not isinstance(obj, dict):
        raise WebhookRejected("Stripe event without id or object.", code="invalid_event")
    if event_type in TRANSFER_EVENTS:
        status, word = transfer_status(obj)
        if event_type == "transfer.reversed" and not obj.get("reversed"):
            word = "partially_reversed"
        return [
            WebhookEvent(
                provider_event_id=event_id,
                event_type=event_type,
                reference=(obj.get("metadata") or {}).get("reference"),
                provider_id=obj.get("id"),
                status=status,
                raw=event,
                provider_status=word,
                provider_batch_id=obj.get("transfer_group"),
            )
        ]
    if event_type == "account.updated":
        return [
            WebhookEvent(
                provider_event_id=event_id,
                event_type=event_type,
                reference=(obj.get("metadata") or {}).get("reference"),
                provider_id=obj.get("id"),
                status=PayoutStatus.UNKNOWN,
                raw=event,
                detail=account_status(obj),
            )
        ]
    return []


def signed_headers(payload: bytes | str, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Stripe-Signature headers for a payload (tests, and the demo's local webhook replays)."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(text, secret, timestamp)}

