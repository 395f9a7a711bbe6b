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

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    accepted_terms_version = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    decision_reason = models.CharField(max_length=255, blank=True)
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "affiliate"], name="enrollment_unique")]
        indexes = [models.Index(fields=["network", "status"])]

    def __str__(self) -> str:
        return f"{self.affiliate_id} in {self.program_id}"


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
