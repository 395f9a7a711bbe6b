"""Tenancy: the Network (tenant), its domains, staff memberships, API keys and audit events."""

from __future__ import annotations

from decimal import Decimal
from typing import Self
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network import money


def validate_time_zone(value: str) -> None:
    """Refuse anything that is not an IANA time zone name."""
    if value not in available_timezones():
        raise ValidationError(_("%(value)s is not a time zone name."), params={"value": value}, code="invalid")


def validate_currency(value: str) -> None:
    """Refuse anything that is not an ISO 4217 code."""
    money.validate_currency(value)


class NetworkQuerySet(models.QuerySet):
    """Querysets of tenant-owned rows; `for_network` is the one way to scope them."""

    def for_network(self, network: Network | int) -> Self:
        network_id = network if isinstance(network, int) else network.pk
        if network_id is None:
            raise ValueError("for_network() needs a saved network")
        return self.filter(network_id=network_id)


class NetworkOwned(models.Model):
    """Base of every tenant-owned model: a non-null network and a scoped queryset."""

    network = models.ForeignKey("network.Network", on_delete=models.PROTECT, related_name="+")

    objects = NetworkQuerySet.as_manager()

    class Meta:
        abstract = True


class Network(models.Model):
    """A tenant: hosts merchants and affiliates, takes a fee, pays affiliates in batches."""

    class FeeType(models.TextChoices):
        PERCENT_OF_COMMISSION = "percent_of_commission", _("Percent of commission")
        PERCENT_OF_SALE = "percent_of_sale", _("Percent of sale")
        FLAT = "flat", _("Flat per conversion")

    class PayoutSchedule(models.TextChoices):
        MONTHLY = "monthly", _("Monthly on a day")
        TWICE_MONTHLY = "twice_monthly", _("Twice a month (1st and 16th)")
        NET = "net", _("Net-N days after the month closes")

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    default_currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    fee_type = models.CharField(max_length=32, choices=FeeType.choices, default=FeeType.PERCENT_OF_COMMISSION)
    # For the percent types: a percentage ("20.00" = 20 %). For flat: unused.
    fee_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("20"),
                                   validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))])
    # For the flat type: minor units of the conversion's currency.
    fee_flat_minor = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])

    payout_schedule = models.CharField(max_length=16, choices=PayoutSchedule.choices, default=PayoutSchedule.MONTHLY)
    payout_day = models.PositiveSmallIntegerField(default=15, validators=[MinValueValidator(1), MaxValueValidator(28)])
    payout_net_days = models.PositiveSmallIntegerField(default=30, validators=[MaxValueValidator(120)])
    # Minimum approved balance before an affiliate is paid, in minor units of the default currency.
    payout_minimum_minor = models.BigIntegerField(default=5000, validators=[MinValueValidator(0)])
    require_payout_maker_checker = models.BooleanField(default=True)

    require_staff_2fa = models.BooleanField(default=False)

    brand_name = models.CharField(max_length=120, blank=True)
    brand_colour = models.CharField(max_length=7, default="#2563eb",
                                    validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a #rrggbb colour."))])
    logo = models.ImageField(upload_to="network-logos/", blank=True)

    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name


class Domain(NetworkOwned):
    """A host name (custom domain or subdomain) that resolves to a network."""

    host = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.host


class Membership(NetworkOwned):
    """A user's staff role in a network (merchant and affiliate members live in their own apps)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        MANAGER = "manager", _("Manager")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.network_id}"


class ApiKey(NetworkOwned):
    """An API key: a public prefix plus a secret shown once; only the secret's hash is stored."""

    class ActorKind(models.TextChoices):
        STAFF = "staff", _("Network staff")
        MERCHANT = "merchant", _("Merchant")
        AFFILIATE = "affiliate", _("Affiliate")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    # Which of the user's roles in the network the key acts with; actor_id is the merchant or affiliate
    # id (a plain integer, because the tenancy app sits below the merchants and affiliates apps).
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["network", "user"])]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(NetworkOwned):
    """Who did what to which object, for the network's audit log."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["network", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class Invitation(NetworkOwned):
    """An invitation by email to a role: staff, a merchant's member or an affiliate's member."""

    kind = models.CharField(max_length=16, choices=ApiKey.ActorKind.choices)
    # The merchant or affiliate id for member invitations; null for staff.
    target_id = models.BigIntegerField(null=True, blank=True)
    role = models.CharField(max_length=16)
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.kind}:{self.role}"
