"""Affiliates (publishers), their members, enrollments in programs and tracking links."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from merchants.models import Program
from network.models import NetworkOwned

LINK_CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_link_code() -> str:
    """A globally unique, unguessable short code for /c/<code> (10 characters, ~58 bits)."""
    return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(10))


class Affiliate(NetworkOwned):
    """A publisher: an individual or a company that promotes programs."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        COMPANY = "company", _("Company")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.ACTIVE, Status.SUSPENDED}),
        Status.ACTIVE: frozenset({Status.SUSPENDED}),
        Status.SUSPENDED: frozenset({Status.ACTIVE}),
    }

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INDIVIDUAL)
    country = CountryField(blank=True)
    website = models.URLField(blank=True)
    # Promotion channels: "content", "email", "social", "paid_search", "coupon", …
    channels = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AffiliateMembership(NetworkOwned):
    """A user's role in one affiliate account."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="affiliate_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OWNER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["affiliate", "user"], name="affiliate_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.affiliate}"


class Enrollment(NetworkOwned):
    """An affiliate's membership of a program, with the terms version they accepted."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    # Re-applying after a rejection goes back to pending; suspending and reinstating are the merchant's.
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED}),
        Status.APPROVED: frozenset({Status.SUSPENDED}),
        Status.REJECTED: frozenset({Status.PENDING, Status.APPROVED}),
        Status.SUSPENDED: frozenset({Status.APPROVED}),
    }

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    accepted_terms_version = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    website = models.URLField(blank=True)
    promotion_methods = models.JSONField(default=list, blank=True)
    decision_reason = models.CharField(max_length=255, blank=True)
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "affiliate"], name="enrollment_unique")]
        indexes = [models.Index(fields=["network", "status"])]

    def __str__(self) -> str:
        return f"{self.affiliate_id} in {self.program_id}"

    def can_transition(self, to_status: str) -> bool:
        return to_status in self.ALLOWED_TRANSITIONS[self.status]

    @property
    def needs_terms_acceptance(self) -> bool:
        """True when the program published terms newer than the version this enrollment accepted."""
        return (self.accepted_terms_version or 0) < self.program.terms_version


class EnrollmentEvent(NetworkOwned):
    """One step in an enrollment's history: who moved it from which status to which, and why."""

    class Action(models.TextChoices):
        APPLIED = "applied", _("Applied")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")
        REINSTATED = "reinstated", _("Reinstated")
        REAPPLIED = "reapplied", _("Applied again")
        TERMS_ACCEPTED = "terms_accepted", _("Accepted new terms")

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    terms_version = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.from_status or '-'} → {self.to_status}"


class ProgramInvitation(NetworkOwned):
    """A merchant's invitation of one affiliate to a (usually private) program; makes it visible to them."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="affiliate_invitations")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="program_invitations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "affiliate"], name="program_invitation_unique")]

    def __str__(self) -> str:
        return f"{self.affiliate_id} invited to {self.program_id}"


class ProgramMetrics(NetworkOwned):
    """Marketplace figures of one program over the last 90 days, refreshed by the tracking and ledger jobs."""

    class Funding(models.TextChoices):
        FUNDED = "funded", _("Funded")
        LOW = "low", _("Low funds")
        UNFUNDED = "unfunded", _("Unfunded")
        UNKNOWN = "unknown", _("Unknown")

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="metrics")
    clicks_90d = models.PositiveBigIntegerField(default=0)
    conversions_90d = models.PositiveBigIntegerField(default=0)
    # Approved commission in the program's currency, minor units.
    approved_commission_90d_minor = models.BigIntegerField(default=0)
    # How many approved conversions the commission above is over (the average's denominator).
    conversions_count_for_average = models.PositiveBigIntegerField(default=0)
    reversed_90d = models.PositiveBigIntegerField(default=0)
    funding_status = models.CharField(max_length=16, choices=Funding.choices, default=Funding.UNKNOWN)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"metrics of {self.program_id}"


class Coupon(NetworkOwned):
    """A coupon code a merchant assigns to an affiliate; conversions using it are credited to them."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="coupons")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="coupons")
    # Stored upper-case so the (program, code) constraint is case-insensitive.
    code = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="coupon_unique_code")]
        indexes = [models.Index(fields=["network", "affiliate"])]

    def __str__(self) -> str:
        return self.code


class TrackingLink(NetworkOwned):
    """A tracking link: /c/<code> sends the visitor to its destination with a click id."""

    code = models.CharField(max_length=16, unique=True, default=new_link_code)
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="links")
    # Denormalised from the enrollment so the click path reads one row.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="links")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="links")
    destination_url = models.URLField(max_length=2000, blank=True)
    label = models.CharField(max_length=100, blank=True)
    sub1 = models.CharField(max_length=100, blank=True)
    sub2 = models.CharField(max_length=100, blank=True)
    sub3 = models.CharField(max_length=100, blank=True)
    sub4 = models.CharField(max_length=100, blank=True)
    sub5 = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["network", "affiliate", "program"])]

    def __str__(self) -> str:
        return self.code
