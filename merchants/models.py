"""Merchants (advertisers), their members, programs, commission rules and versioned terms."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.models import Network, NetworkOwned, validate_currency


def new_postback_token() -> str:
    """A program's secret for the GET postback door."""
    return secrets.token_urlsafe(24)


class Merchant(NetworkOwned):
    """An advertiser organisation in a network."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(max_length=120)
    website = models.URLField(blank=True)
    country = models.CharField(max_length=2, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Per-merchant override of the network fee; null fields mean "use the network default".
    fee_type = models.CharField(max_length=32, choices=Network.FeeType.choices, blank=True)
    fee_rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    fee_flat_minor = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["network", "name"], name="merchant_unique_name")]

    def __str__(self) -> str:
        return self.name


class MerchantMembership(NetworkOwned):
    """A user's role in one merchant organisation."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        ANALYST = "analyst", _("Analyst")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "user"], name="merchant_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.merchant}"


class Program(NetworkOwned):
    """An affiliate program: what a merchant pays for, for how long a click counts, where links may go."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    class Attribution(models.TextChoices):
        LAST_CLICK = "last_click", _("Last click")
        FIRST_CLICK = "first_click", _("First click")

    class Approval(models.TextChoices):
        AUTO = "auto", _("Automatic")
        MANUAL = "manual", _("Manual")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public in the marketplace")
        PRIVATE = "private", _("Private, by invitation")

    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.DRAFT: frozenset({Status.ACTIVE, Status.CLOSED}),
        Status.ACTIVE: frozenset({Status.PAUSED, Status.CLOSED}),
        Status.PAUSED: frozenset({Status.ACTIVE, Status.CLOSED}),
        Status.CLOSED: frozenset(),
    }

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=64, blank=True)
    landing_url = models.URLField(max_length=2000)
    # Deep-link allow-list: "example.com" allows exactly that host; "*.example.com" also its subdomains.
    allowed_domains = models.JSONField(default=list, blank=True)
    cookie_window_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    attribution = models.CharField(max_length=16, choices=Attribution.choices, default=Attribution.LAST_CLICK)
    approval = models.CharField(max_length=8, choices=Approval.choices, default=Approval.MANUAL)
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    lock_days = models.PositiveSmallIntegerField(default=30, validators=[MaxValueValidator(365)])
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    click_param = models.CharField(max_length=32, default="aff_click")
    postback_token = models.CharField(max_length=64, unique=True, default=new_postback_token)
    # Fraud screening knobs.
    min_seconds_to_convert = models.PositiveIntegerField(default=10)
    duplicate_click_window_seconds = models.PositiveIntegerField(default=30)
    terms_version = models.PositiveIntegerField(default=1)
    # Bumped by every program-changing service: the click path keys its link cache on it, so a change
    # (pause, new allowed domains, new landing URL) is seen by the next click without explicit deletes.
    cache_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["network", "status", "visibility"])]

    def __str__(self) -> str:
        return self.name

    def can_transition(self, to_status: str) -> bool:
        return to_status == self.status or to_status in self.ALLOWED_TRANSITIONS[self.status]


class CommissionRule(NetworkOwned):
    """What one action pays in a program: a percent of the sale or a flat amount, optionally recurring."""

    class Type(models.TextChoices):
        PERCENT = "percent", _("Percent of sale")
        FLAT = "flat", _("Flat amount")

    class Recurring(models.TextChoices):
        NONE = "none", _("First payment only")
        MONTHS = "months", _("For N months")
        LIFETIME = "lifetime", _("Lifetime")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rules")
    action = models.SlugField(max_length=32, default="sale")
    type = models.CharField(max_length=8, choices=Type.choices)
    rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True,
                               validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))])
    amount_minor = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(0)])
    recurring = models.CharField(max_length=8, choices=Recurring.choices, default=Recurring.NONE)
    recurring_months = models.PositiveSmallIntegerField(null=True, blank=True)
    # Performance tiers: [{"min_approved": 50, "rate": "10.0"} or {"min_approved": 50, "amount_minor": 500}]
    tiers = models.JSONField(default=list, blank=True)
    # Cap per affiliate per calendar month, in conversions; null = no cap.
    monthly_cap_per_affiliate = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "action"], name="commission_rule_unique_action")]

    def __str__(self) -> str:
        return f"{self.program_id}:{self.action}"


class ProgramTerms(NetworkOwned):
    """One version of a program's terms; a change makes a new version that affiliates must accept."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="terms_versions")
    version = models.PositiveIntegerField()
    promotion_methods = models.JSONField(default=list, blank=True)  # "content", "email", "social", "paid_search"
    ppc_brand_bidding = models.BooleanField(default=False)
    coupon_sites = models.BooleanField(default=True)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["program", "version"], name="program_terms_unique_version")]

    def __str__(self) -> str:
        return f"{self.program_id} v{self.version}"


class ProgramEvent(NetworkOwned):
    """One change of a program's status (who, when, from, to, why); append-only."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=8, choices=Program.Status.choices)
    to_status = models.CharField(max_length=8, choices=Program.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.program_id}: {self.from_status} → {self.to_status}"


class ProgramAffiliateRate(NetworkOwned):
    """A private rate for one affiliate and one action of a program; beats tiers and the program's rule."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="affiliate_rates")
    # A string reference: it creates no Python import of the affiliates app (which sits above this one).
    affiliate = models.ForeignKey("affiliates.Affiliate", on_delete=models.CASCADE, related_name="private_rates")
    action = models.SlugField(max_length=32, default="sale")
    type = models.CharField(max_length=8, choices=CommissionRule.Type.choices)
    rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True,
                               validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))])
    amount_minor = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "affiliate", "action"],
                                               name="program_affiliate_rate_unique")]

    def __str__(self) -> str:
        return f"{self.program_id}:{self.affiliate_id}:{self.action}"


def creative_upload_to(instance: Creative, filename: str) -> str:
    """Creatives live under the network and program so a tenant's files are easy to find and remove."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"creatives/{instance.network_id}/{instance.program_id}/{secrets.token_hex(8)}.{extension}"


class Creative(NetworkOwned):
    """A banner or a text link a merchant offers affiliates; the portal applies each affiliate's link."""

    class Kind(models.TextChoices):
        BANNER = "banner", _("Banner")
        TEXT = "text", _("Text link")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="creatives")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=120)
    image = models.ImageField(upload_to=creative_upload_to, blank=True, width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    text = models.CharField(max_length=500, blank=True)
    alt_text = models.CharField(max_length=200, blank=True)
    # A deep link on the program's allowed domains; blank means the program's landing URL.
    destination_url = models.URLField(max_length=2000, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["program_id", "-created_at", "-pk"]
        indexes = [models.Index(fields=["network", "program", "is_active"])]

    def __str__(self) -> str:
        return self.name
