"""Clicks, customers bound to affiliates, conversions with their events, reversal requests, Stripe integration.

Clicks and conversions are the two big tables; both lead their indexes with `network` and carry a
time column so that monthly partitioning (DESIGN.md, "Scale") needs configuration, not rewrites.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.models import NetworkOwned


def new_click_id() -> str:
    """A globally unique, unguessable, short click id: 16 URL-safe characters, 96 random bits."""
    return secrets.token_urlsafe(12)


def new_integration_token() -> str:
    """The secret path segment of a Stripe webhook URL."""
    return secrets.token_urlsafe(24)


class Click(NetworkOwned):
    """One visit through /c/<code>; the click id travels to the merchant and comes back with the conversion."""

    class Device(models.TextChoices):
        DESKTOP = "desktop", _("Desktop")
        MOBILE = "mobile", _("Mobile")
        TABLET = "tablet", _("Tablet")
        OTHER = "other", _("Other")

    click_id = models.CharField(max_length=24, unique=True, default=new_click_id)
    created_at = models.DateTimeField(default=timezone.now)
    link = models.ForeignKey("affiliates.TrackingLink", on_delete=models.PROTECT, related_name="clicks")
    program = models.ForeignKey("merchants.Program", on_delete=models.PROTECT, related_name="clicks")
    affiliate = models.ForeignKey("affiliates.Affiliate", on_delete=models.PROTECT, related_name="clicks")
    sub1 = models.CharField(max_length=100, blank=True)
    sub2 = models.CharField(max_length=100, blank=True)
    sub3 = models.CharField(max_length=100, blank=True)
    sub4 = models.CharField(max_length=100, blank=True)
    sub5 = models.CharField(max_length=100, blank=True)
    destination_url = models.CharField(max_length=2000, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=8, choices=Device.choices, default=Device.OTHER)
    country = models.CharField(max_length=2, blank=True)
    # Privacy: never the address itself, only HMAC(IP_HASH_SALT, ip); equal hashes mean equal addresses.
    ip_hash = models.CharField(max_length=32, blank=True)
    # HMAC of ip + user agent: "the same visitor" for duplicate detection and first/last-click lookups.
    visitor_hash = models.CharField(max_length=32, blank=True)
    # Ad-network click ids seen on the click (gclid, msclkid, fbclid…): paid search on the affiliate's side.
    paid_click_params = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # A duplicate is counted as a gross click but is neither unique nor attributable.
    is_unique = models.BooleanField(default=True)
    is_attributable = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["network", "program", "created_at"]),
            models.Index(fields=["network", "affiliate", "created_at"]),
            models.Index(fields=["program", "visitor_hash", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.click_id


class Customer(NetworkOwned):
    """A merchant's customer bound to the affiliate who brought them (recurring and lifetime commissions)."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("merchants.Program", on_delete=models.PROTECT, related_name="+")
    affiliate = models.ForeignKey("affiliates.Affiliate", on_delete=models.PROTECT, related_name="customers")
    # The merchant's own customer id, or a Stripe customer id ("cus_…").
    external_id = models.CharField(max_length=128)
    first_click = models.ForeignKey(Click, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    bound_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "external_id"], name="customer_unique_external_id")]

    def __str__(self) -> str:
        return self.external_id


class ReasonCode(models.TextChoices):
    """Why a conversion was declined, held, reversed or a claim answered; affiliates see it."""

    DUPLICATE = "duplicate", _("Duplicate order")
    RETURNED = "returned", _("Goods returned")
    CANCELLED = "cancelled", _("Order cancelled")
    FRAUD = "fraud", _("Fraud")
    TEST_ORDER = "test_order", _("Test order")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible under the program terms")
    OTHER = "other", _("Other")


class Conversion(NetworkOwned):
    """A sale, lead or other action reported by a merchant, attributed (or not) and priced at conversion time."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        HOLD = "hold", _("On hold for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        REVERSED = "reversed", _("Reversed")
        PAID = "paid", _("Paid")

    class Source(models.TextChoices):
        API = "api", _("REST API")
        POSTBACK = "postback", _("Postback URL")
        PIXEL = "pixel", _("Browser pixel")
        STRIPE = "stripe", _("Stripe")

    class Attribution(models.TextChoices):
        CLICK_ID = "click_id", _("Click id")
        COUPON = "coupon", _("Coupon code")
        CUSTOMER = "customer", _("Bound customer")
        COOKIE = "cookie", _("Cookie")
        NONE = "none", _("Unattributed")

    # The lifecycle (DESIGN.md): every move is a conditional update in services.transition_conversion.
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED, Status.HOLD}),
        Status.HOLD: frozenset({Status.PENDING, Status.REJECTED}),
        Status.APPROVED: frozenset({Status.PAID, Status.REVERSED}),
        Status.PAID: frozenset({Status.REVERSED}),
        Status.REJECTED: frozenset(),
        Status.REVERSED: frozenset(),
    }

    program = models.ForeignKey("merchants.Program", on_delete=models.PROTECT, related_name="conversions")
    # Denormalised from the program so merchant scoping is one indexed column, not a join.
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    affiliate = models.ForeignKey("affiliates.Affiliate", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="conversions")
    click = models.ForeignKey(Click, on_delete=models.PROTECT, null=True, blank=True, related_name="conversions")
    link = models.ForeignKey("affiliates.TrackingLink", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    order_id = models.CharField(max_length=128)
    action = models.SlugField(max_length=32, default="sale")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    commission_minor = models.BigIntegerField(default=0)
    commission_rule_id = models.BigIntegerField(null=True, blank=True)
    terms_version = models.PositiveIntegerField(null=True, blank=True)
    recurring_index = models.PositiveIntegerField(default=0)
    explanation = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(max_length=255, blank=True)
    # The reason code of the last decision (blank for automatic moves), shown to the affiliate.
    reason_code = models.CharField(max_length=16, choices=ReasonCode.choices, blank=True)
    # Partial reversals: the part of the sale and of the commission given back so far (Σ ≤ the original).
    reversed_amount_minor = models.BigIntegerField(default=0)
    reversed_commission_minor = models.BigIntegerField(default=0)
    reversal_count = models.PositiveIntegerField(default=0)
    # The network fee charged at approval (0 until approved), for the merchant's view.
    fee_minor = models.BigIntegerField(default=0)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # The payout that settled it (the payouts app's reference; a key, not a foreign key).
    payout_ref = models.CharField(max_length=64, blank=True)
    flags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    attribution = models.CharField(max_length=16, choices=Attribution.choices, default=Attribution.NONE)
    attribution_note = models.CharField(max_length=255, blank=True)
    coupon_code = models.CharField(max_length=64, blank=True)
    customer_ref = models.CharField(max_length=128, blank=True)
    # A provider's payment reference (Stripe payment intent or invoice) so refunds find their conversion.
    payment_ref = models.CharField(max_length=128, blank=True, db_index=True)
    ip_hash = models.CharField(max_length=32, blank=True)
    sub1 = models.CharField(max_length=100, blank=True)
    sub2 = models.CharField(max_length=100, blank=True)
    sub3 = models.CharField(max_length=100, blank=True)
    sub4 = models.CharField(max_length=100, blank=True)
    sub5 = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField()
    # Earliest moment the reconciliation may approve it (occurred_at + program.lock_days).
    lock_until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["program", "order_id"], name="conversion_unique_order")]
        indexes = [
            models.Index(fields=["network", "merchant", "occurred_at"]),
            models.Index(fields=["network", "affiliate", "occurred_at"]),
            models.Index(fields=["network", "status", "lock_until"]),
            # The rollup refresh reads conversions whose updated_at moved past its watermark.
            models.Index(fields=["updated_at"], name="conversion_updated_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}:{self.order_id}"

    @property
    def is_attributed(self) -> bool:
        return self.affiliate_id is not None

    def can_transition(self, to_status: str) -> bool:
        return to_status in self.ALLOWED_TRANSITIONS[self.status]


class ConversionEvent(NetworkOwned):
    """What happened to a conversion (created, a status change, a reversal request), by whom and why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        TRANSITION = "transition", _("Status change")
        REVERSAL_REQUESTED = "reversal_requested", _("Reversal requested")
        PARTIAL_REVERSAL = "partial_reversal", _("Partly reversed")
        REATTRIBUTED = "reattributed", _("Credited after a claim")

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    reason = models.CharField(max_length=255, blank=True)
    reason_code = models.CharField(max_length=16, choices=ReasonCode.choices, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversion", "created_at"])]

    def __str__(self) -> str:
        return f"{self.conversion_id}:{self.kind}"


class ReversalRequest(NetworkOwned):
    """A refund or chargeback reported by a provider; the lifecycle work reverses the conversion from it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        IGNORED = "ignored", _("Ignored")

    conversion = models.ForeignKey(Conversion, on_delete=models.PROTECT, related_name="reversal_requests")
    source = models.CharField(max_length=16, choices=Conversion.Source.choices)
    # The provider's id of the refund or charge: a second delivery of the same refund adds nothing.
    external_ref = models.CharField(max_length=128)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversion", "external_ref"],
                                               name="reversal_request_unique_ref")]

    def __str__(self) -> str:
        return f"{self.conversion_id}:{self.external_ref}"


class StripeIntegration(NetworkOwned):
    """A program's Stripe webhook endpoint: /integrations/stripe/<token>/ verified with its signing secret."""

    program = models.OneToOneField("merchants.Program", on_delete=models.CASCADE, related_name="stripe_integration")
    token = models.CharField(max_length=64, unique=True, default=new_integration_token)
    webhook_secret = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"stripe:{self.program_id}"


class StripeEvent(NetworkOwned):
    """A Stripe event received once: Stripe retries and duplicates are answered from this row."""

    integration = models.ForeignKey(StripeIntegration, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=255, blank=True)
    conversion = models.ForeignKey(Conversion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "event_id"], name="stripe_event_unique")]

    def __str__(self) -> str:
        return self.event_id


class ConversionClaim(NetworkOwned):
    """An affiliate's claim for a missing or wrongly declined conversion; the merchant accepts or rejects it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.ACCEPTED, Status.REJECTED}),
        Status.ACCEPTED: frozenset(),
        Status.REJECTED: frozenset(),
    }

    program = models.ForeignKey("merchants.Program", on_delete=models.PROTECT, related_name="+")
    # Denormalised from the program: merchant scoping is one column.
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    affiliate = models.ForeignKey("affiliates.Affiliate", on_delete=models.PROTECT, related_name="conversion_claims")
    order_id = models.CharField(max_length=128)
    order_date = models.DateField()
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    note = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # The conversion the claim is about (found at opening) or the one accepting it created.
    conversion = models.ForeignKey(Conversion, on_delete=models.PROTECT, null=True, blank=True, related_name="claims")
    answer = models.CharField(max_length=500, blank=True)
    reason_code = models.CharField(max_length=16, choices=ReasonCode.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open claim per order: a second one would be answered twice.
            models.UniqueConstraint(fields=["program", "order_id"], condition=models.Q(status="open"),
                                    name="conversion_claim_one_open_per_order"),
            models.CheckConstraint(condition=models.Q(amount_minor__gte=0), name="conversion_claim_amount_positive"),
        ]
        indexes = [models.Index(fields=["network", "merchant", "status"]),
                   models.Index(fields=["network", "affiliate", "created_at"])]

    def __str__(self) -> str:
        return f"claim {self.program_id}:{self.order_id}"


class ConversionClaimEvent(NetworkOwned):
    """What happened to a claim (opened, accepted, rejected), by whom and why."""

    claim = models.ForeignKey(ConversionClaim, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.claim_id}:{self.to_status}"
