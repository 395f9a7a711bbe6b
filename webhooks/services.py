"""Writes of the webhooks app: endpoints, secrets, postbacks, and sending deliveries with retries.

Sending never holds a database lock across the HTTP call: a delivery is *claimed* by pushing its
`next_attempt_at` forward by a lease (conditional update, or SKIP LOCKED for the beat batch), the
request is made, and the outcome is written in a short transaction. A worker that dies mid-call
leaves the lease to expire and the delivery is tried again (at-least-once; receivers deduplicate
on `webhook-id`).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from network import services as network_services
from network.models import Network
from webhooks import selectors, signing, ssrf
from webhooks.models import (
    DELIVERY_TRANSITIONS,
    POSTBACK_EVENT_TYPES,
    AffiliatePostback,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    OwnerKind,
    PostbackDelivery,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

# Retry policy, shared by webhooks and postbacks: attempt n (1-based) that fails transiently is
# retried after RETRY_BASE_SECONDS * RETRY_FACTOR ** (n - 1): 1 min, 4 min, 16 min, 64 min, ~4.3 h,
# ~17 h; the 7th transient failure gives up (about 23 hours in all).
RETRY_BASE_SECONDS = 60
RETRY_FACTOR = 4
MAX_ATTEMPTS = 7
# How long a claimed delivery is reserved for the worker sending it (well above the HTTP timeout).
CLAIM_LEASE_SECONDS = 120
HTTP_TIMEOUT_SECONDS = 10.0
# After a rotation the old secret keeps signing this long, so receivers can switch without a gap.
ROTATION_GRACE = timedelta(hours=24)
DISPATCH_BATCH_SIZE = 100
EXCERPT_CHARS = 1000

POSTBACK_MACROS = ("click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "order_id", "commission", "currency",
                   "status")
_MACRO = re.compile(r"\{([A-Za-z0-9_]*)\}")


def retry_delay_seconds(attempts: int) -> int:
    """Seconds to wait after the given number of failed attempts (1-based)."""
    return RETRY_BASE_SECONDS * RETRY_FACTOR ** (attempts - 1)


@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt came to."""

    status: str  # delivered, failed, or pending (= retry)
    status_code: int | None = None
    error: str = ""
    response_excerpt: str = ""
    retry_after_seconds: int | None = None


def classify(response: httpx.Response) -> Outcome:
    """2xx delivered; 5xx and 429 retried; anything else (other 4xx, redirects) failed for good."""
    code = response.status_code
    excerpt = response.text[:EXCERPT_CHARS]
    if 200 <= code < 300:
        return Outcome(DeliveryStatus.DELIVERED, code, "", excerpt)
    if code >= 500 or code == 429:
        retry_after = response.headers.get("retry-after", "")
        seconds = int(retry_after) if retry_after.isdigit() else None
        return Outcome(DeliveryStatus.PENDING, code, f"HTTP {code}", excerpt, seconds)
    return Outcome(DeliveryStatus.FAILED, code, f"HTTP {code}", excerpt)


def _check_transition(current: str, new: str) -> None:
    if new not in DELIVERY_TRANSITIONS[current]:
        raise ValidationError({"status": [_("A delivery cannot go from %(old)s to %(new)s.")
                                          % {"old": current, "new": new}]})


# ---------------------------------------------------------------------------------------- endpoints


def _validate_event_types(event_types: list[str], *, allowed: tuple[str, ...] | list[str]) -> list[str]:
    if not isinstance(event_types, list) or not event_types:
        raise ValidationError({"event_types": [_("Choose at least one event.")]})
    unknown = [value for value in event_types if value not in allowed]
    if unknown:
        raise ValidationError({"event_types": [_("Unknown event types: %(types)s.")
                                               % {"types": ", ".join(map(str, unknown))}]})
    return sorted(set(event_types))


@transaction.atomic
def create_endpoint(*, network: Network, owner_kind: str, owner_id: int | None, url: str, event_types: list[str],
                    description: str = "", is_active: bool = True,
                    actor: AbstractBaseUser | None = None) -> WebhookEndpoint:
    """Register a webhook endpoint with a fresh signing secret (returned on the object, shown once)."""
    if owner_kind not in OwnerKind.values or (owner_kind == OwnerKind.STAFF) != (owner_id is None):
        raise ValueError("A staff endpoint has no owner id; a merchant or affiliate endpoint has one")
    ssrf.validate_target_url(url)
    endpoint = WebhookEndpoint.objects.create(
        network=network, owner_kind=owner_kind, owner_id=owner_id, url=url, description=description,
        event_types=_validate_event_types(event_types, allowed=EventType.values), is_active=is_active,
        secret=signing.generate_secret(),
    )
    network_services.record_audit(network=network, actor=actor, action="webhook_endpoint.created", obj=endpoint,
                                  data={"url": url})
    return endpoint


@transaction.atomic
def update_endpoint(*, network: Network, endpoint_id: int, actor: AbstractBaseUser | None = None,
                    **changes: Any) -> WebhookEndpoint:
    """Change an endpoint's url, events, description or active flag; a new url is checked again."""
    endpoint = WebhookEndpoint.objects.for_network(network).select_for_update().get(pk=endpoint_id)
    if "url" in changes:
        ssrf.validate_target_url(changes["url"])
        endpoint.url = changes["url"]
    if "event_types" in changes:
        endpoint.event_types = _validate_event_types(changes["event_types"], allowed=EventType.values)
    for name in ("description", "is_active"):
        if name in changes:
            setattr(endpoint, name, changes[name])
    endpoint.save()
    network_services.record_audit(network=network, actor=actor, action="webhook_endpoint.updated", obj=endpoint,
                                  data={name: str(value) for name, value in changes.items()})
    return endpoint


@transaction.atomic
def delete_endpoint(*, network: Network, endpoint_id: int, actor: AbstractBaseUser | None = None) -> None:
    """Remove an endpoint and its delivery log."""
    endpoint = WebhookEndpoint.objects.for_network(network).get(pk=endpoint_id)
    network_services.record_audit(network=network, actor=actor, action="webhook_endpoint.deleted", obj=endpoint,
                                  data={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def rotate_endpoint_secret(*, network: Network, endpoint_id: int, now: datetime | None = None,
                           actor: AbstractBaseUser | None = None) -> WebhookEndpoint:
    """Issue a new secret; the old one keeps signing (alongside) for ROTATION_GRACE."""
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.for_network(network).select_for_update().get(pk=endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_GRACE
    endpoint.secret = signing.generate_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    network_services.record_audit(network=network, actor=actor, action="webhook_endpoint.secret_rotated",
                                  obj=endpoint)
    return endpoint


def live_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that sign right now: the current one, plus the previous one until it expires."""
    secrets_in_use = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets_in_use.append(endpoint.previous_secret)
    return secrets_in_use


# ------------------------------------------------------------------------------------------ sending


def _claim_one(model: type[Model], delivery_id: int, now: datetime) -> bool:
    """Reserve one due delivery for this worker; False when it is not due or someone else has it."""
    claimed = model.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING,  # type: ignore[attr-defined]
                                   next_attempt_at__lte=now).update(
        next_attempt_at=now + timedelta(seconds=CLAIM_LEASE_SECONDS))
    return claimed == 1


def _claim_due(model: type[Model], now: datetime, limit: int) -> list[int]:
    """Reserve a batch of due deliveries; concurrent dispatchers skip each other's rows."""
    with transaction.atomic():
        due = (model.objects.filter(status=DeliveryStatus.PENDING,  # type: ignore[attr-defined]
                                    next_attempt_at__lte=now).order_by("next_attempt_at", "pk"))
        # SQLite has no row locks (its writes are serialised anyway); SKIP LOCKED is what lets several
        # PostgreSQL workers run the dispatcher at once.
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            model.objects.filter(pk__in=ids).update(  # type: ignore[attr-defined]
                next_attempt_at=now + timedelta(seconds=CLAIM_LEASE_SECONDS))
    return ids


def _record(model: type[WebhookDelivery] | type[PostbackDelivery], delivery_id: int, outcome: Outcome,
            now: datetime) -> WebhookDelivery | PostbackDelivery:
    """Write one attempt's outcome and the next step of the schedule."""
    with transaction.atomic():
        delivery = model.objects.select_for_update().get(pk=delivery_id)
        if delivery.status != DeliveryStatus.PENDING:
            return delivery  # redelivered or finished by someone else meanwhile: theirs wins
        attempts = delivery.attempts + 1
        status = outcome.status
        next_attempt_at = None
        if status == DeliveryStatus.PENDING:
            if attempts >= MAX_ATTEMPTS:
                status = DeliveryStatus.DEAD
            else:
                delay = retry_delay_seconds(attempts)
                if outcome.retry_after_seconds:
                    delay = max(delay, min(outcome.retry_after_seconds, 86_400))
                next_attempt_at = now + timedelta(seconds=delay)
        _check_transition(delivery.status, status)
        delivery.status = status
        delivery.attempts = attempts
        delivery.next_attempt_at = next_attempt_at
        delivery.last_attempt_at = now
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error[:500]
        delivery.response_excerpt = outcome.response_excerpt[:EXCERPT_CHARS]
        if status == DeliveryStatus.DELIVERED:
            delivery.delivered_at = now
        delivery.save()
        parent = ({"webhook_delivery": delivery} if isinstance(delivery, WebhookDelivery)
                  else {"postback_delivery": delivery})
        DeliveryAttempt.objects.create(network_id=delivery.network_id, attempted_at=now,
                                       status_code=outcome.status_code, error=outcome.error[:500],
                                       response_excerpt=outcome.response_excerpt[:EXCERPT_CHARS],
                                       outcome=status, **parent)
    if status in (DeliveryStatus.FAILED, DeliveryStatus.DEAD):
        logger.warning("%s %s %s after %s attempts: %s", model.__name__, delivery_id, status, attempts,
                       outcome.error)
    return delivery


def _http(method: str, url: str, **kwargs: Any) -> Outcome:
    """One request, refused before it leaves when the target now resolves to a private address."""
    try:
        ssrf.validate_target_url(url)
    except ValidationError as error:
        return Outcome(DeliveryStatus.FAILED, None, " ".join(error.messages))
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        return Outcome(DeliveryStatus.PENDING, None, f"{type(error).__name__}: {error}"[:500])
    return classify(response)


def event_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body of a delivery: an envelope around the event's payload (stable across retries)."""
    event = delivery.event
    envelope = {"id": event.public_id, "type": event.event_type, "created_at": event.created_at.isoformat(),
                "network": delivery.network.slug, "data": event.payload}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str).encode()


def _send_webhook(delivery_id: int, now: datetime) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_related("endpoint", "event", "network").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        outcome = Outcome(DeliveryStatus.FAILED, None, "The endpoint is disabled.")
    else:
        body = event_body(delivery)
        headers = signing.headers_for(secrets_in_use=live_secrets(endpoint, now=now),
                                      message_id=delivery.event.public_id, timestamp=int(now.timestamp()),
                                      body=body)
        outcome = _http("POST", endpoint.url, content=body, headers=headers)
    return _record(WebhookDelivery, delivery_id, outcome, now)  # type: ignore[return-value]


def attempt_webhook_delivery(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send one due webhook delivery now; None when it is not due (done, scheduled later, or taken)."""
    now = now or timezone.now()
    if not _claim_one(WebhookDelivery, delivery_id, now):
        return None
    return _send_webhook(delivery_id, now)


def _send_postback(delivery_id: int, now: datetime) -> PostbackDelivery:
    delivery = PostbackDelivery.objects.select_related("postback").get(pk=delivery_id)
    if not delivery.postback.is_active:
        outcome = Outcome(DeliveryStatus.FAILED, None, "The postback is disabled.")
    else:
        outcome = _http("GET", delivery.url, headers={"user-agent": "Seed-Postbacks/1"})
    return _record(PostbackDelivery, delivery_id, outcome, now)  # type: ignore[return-value]


def attempt_postback_delivery(*, delivery_id: int, now: datetime | None = None) -> PostbackDelivery | None:
    """Fire one due postback now; None when it is not due."""
    now = now or timezone.now()
    if not _claim_one(PostbackDelivery, delivery_id, now):
        return None
    return _send_postback(delivery_id, now)


def dispatch_due_deliveries(*, now: datetime | None = None, limit: int = DISPATCH_BATCH_SIZE) -> int:
    """Claim and send every due webhook and postback delivery (what beat runs each minute); returns the count."""
    now = now or timezone.now()
    sent = 0
    for delivery_id in _claim_due(WebhookDelivery, now, limit):
        _send_webhook(delivery_id, now)
        sent += 1
    for delivery_id in _claim_due(PostbackDelivery, now, limit):
        _send_postback(delivery_id, now)
        sent += 1
    return sent


@transaction.atomic
def redeliver_webhook(*, network: Network, delivery_id: int, actor: AbstractBaseUser | None = None,
                      now: datetime | None = None) -> WebhookDelivery:
    """Queue a finished delivery again, with a fresh retry schedule; a pending one is left as it is."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.for_network(network).select_for_update().get(pk=delivery_id)
    if delivery.status == DeliveryStatus.PENDING:
        return delivery
    _check_transition(delivery.status, DeliveryStatus.PENDING)
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    network_services.record_audit(network=network, actor=actor, action="webhook_delivery.redelivered",
                                  obj=delivery)
    transaction.on_commit(lambda: _enqueue_webhook(delivery.pk))
    return delivery


def _enqueue_webhook(delivery_id: int) -> None:
    from webhooks import tasks

    tasks.enqueue_webhook_delivery(delivery_id)


# ---------------------------------------------------------------------------------------- postbacks


def validate_url_template(template: str) -> str:
    """Refuse a postback template with unknown macros, macros in the host, or a private target."""
    macros = _MACRO.findall(template)
    unknown = sorted({name for name in macros if name not in POSTBACK_MACROS})
    if unknown:
        raise ValidationError({"url_template": [_("Unknown macros: %(names)s. Use %(known)s.") % {
            "names": ", ".join("{" + name + "}" for name in unknown),
            "known": ", ".join("{" + name + "}" for name in POSTBACK_MACROS)}]})
    try:
        netloc = urlsplit(template).netloc
    except ValueError:
        raise ValidationError({"url_template": [_("Enter a valid URL.")]}) from None
    if "{" in netloc or "}" in netloc:
        raise ValidationError({"url_template": [_("Macros may appear in the path and query, not in the host.")]})
    ssrf.validate_target_url(render_postback_url(template, {}), field="url_template")
    return template


def render_postback_url(template: str, values: dict[str, Any]) -> str:
    """The template with every macro replaced by its URL-encoded value (missing values become empty)."""
    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return quote("" if value is None else str(value), safe="")

    return _MACRO.sub(replace, template)


@transaction.atomic
def create_postback(*, network: Network, affiliate_id: int, url_template: str, event_types: list[str],
                    program_id: int | None = None, is_active: bool = True,
                    actor: AbstractBaseUser | None = None) -> AffiliatePostback:
    """Register an affiliate's postback URL."""
    postback = AffiliatePostback.objects.create(
        network=network, affiliate_id=affiliate_id, program_id=program_id,
        url_template=validate_url_template(url_template),
        event_types=_validate_event_types(event_types, allowed=[str(t) for t in POSTBACK_EVENT_TYPES]),
        is_active=is_active,
    )
    network_services.record_audit(network=network, actor=actor, action="postback.created", obj=postback,
                                  data={"url_template": url_template})
    return postback


@transaction.atomic
def update_postback(*, network: Network, postback_id: int, actor: AbstractBaseUser | None = None,
                    **changes: Any) -> AffiliatePostback:
    """Change a postback's template, events, program or active flag."""
    postback = AffiliatePostback.objects.for_network(network).select_for_update().get(pk=postback_id)
    if "url_template" in changes:
        postback.url_template = validate_url_template(changes["url_template"])
    if "event_types" in changes:
        postback.event_types = _validate_event_types(changes["event_types"],
                                                     allowed=[str(t) for t in POSTBACK_EVENT_TYPES])
    for name in ("program_id", "is_active"):
        if name in changes:
            setattr(postback, name, changes[name])
    postback.save()
    return postback


@transaction.atomic
def delete_postback(*, network: Network, postback_id: int, actor: AbstractBaseUser | None = None) -> None:
    """Remove a postback and its delivery log."""
    postback = AffiliatePostback.objects.for_network(network).get(pk=postback_id)
    network_services.record_audit(network=network, actor=actor, action="postback.deleted", obj=postback)
    postback.delete()


def fire_affiliate_postbacks(*, network: Network, affiliate_id: int, program_id: int | None, event_type: str,
                             values: dict[str, Any], idempotency_key: str = "") -> list[PostbackDelivery]:
    """Queue the affiliate's postbacks for a conversion event, in the caller's transaction.

    `values` carries the macro values (click_id, sub1…sub5, order_id, commission, currency, status).
    With an idempotency_key (e.g. "conversion:42:approved") a retried call queues nothing twice.
    """
    if event_type not in POSTBACK_EVENT_TYPES:
        raise ValueError(f"Postbacks fire on conversion events only, not {event_type!r}")
    queued: list[PostbackDelivery] = []
    with transaction.atomic():
        now = timezone.now()
        for postback in selectors.postbacks_for_event(network, affiliate_id=affiliate_id, program_id=program_id,
                                                      event_type=event_type):
            fields = {"network": network, "event_type": event_type, "next_attempt_at": now,
                      "url": render_postback_url(postback.url_template, values)}
            if idempotency_key:
                delivery, created = PostbackDelivery.objects.get_or_create(
                    postback=postback, idempotency_key=idempotency_key, defaults=fields)
                if not created:
                    continue
            else:
                delivery = PostbackDelivery.objects.create(postback=postback, **fields)
            queued.append(delivery)
        ids = [delivery.pk for delivery in queued]
        if ids:
            transaction.on_commit(lambda: _enqueue_postbacks(ids))
    return queued


def _enqueue_postbacks(delivery_ids: list[int]) -> None:
    from webhooks import tasks

    for delivery_id in delivery_ids:
        tasks.enqueue_postback_delivery(delivery_id)
