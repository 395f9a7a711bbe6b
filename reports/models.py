"""Rollups: hourly and daily aggregates of clicks and conversions, and the cursors that keep them current.

Rollups are derived data, rebuilt from raw rows (tracking's Click and Conversion) by
`services.refresh_rollups`. Their dimension columns are plain ids without database foreign keys on
purpose: a rebuild deletes and re-inserts buckets in bulk, and the rows must never block deleting
or archiving (detaching partitions of) the raw tables they were computed from. Only `network` is a
real foreign key (NetworkOwned), so every rollup query is scoped by network like any other table.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from network.models import NetworkOwned

# The dimension key of a rollup row (after the bucket); the unique constraints are built from it.
DIMENSIONS = ("program_id", "merchant_id", "affiliate_id", "link_id", "sub1", "country", "device", "currency")
MEASURES = (
    "clicks", "unique_clicks", "conversions", "pending_conversions", "approved_conversions",
    "reversed_conversions", "rejected_conversions", "sale_amount_minor", "commission_minor",
    "pending_commission_minor", "approved_commission_minor", "paid_commission_minor",
)


class RollupRow(NetworkOwned):
    """Dimensions and measures shared by the hourly and daily rollups."""

    program_id = models.BigIntegerField()
    # Denormalised from the program so merchant scoping is one column (network.scoping.scope_for_actor).
    merchant_id = models.BigIntegerField()
    affiliate_id = models.BigIntegerField()
    # 0 when a conversion came without a link (coupon or bound customer).
    link_id = models.BigIntegerField(default=0)
    sub1 = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    # "" when a conversion came without a click.
    device = models.CharField(max_length=8, blank=True)
    # Money measures are per currency: clicks carry their program's currency so EPC stays in one currency.
    currency = models.CharField(max_length=3)
    clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    # Tracked conversions that still count: pending, hold, approved, paid (not rejected, not reversed).
    conversions = models.BigIntegerField(default=0)
    pending_conversions = models.BigIntegerField(default=0)  # pending + hold
    approved_conversions = models.BigIntegerField(default=0)  # approved + paid
    reversed_conversions = models.BigIntegerField(default=0)
    rejected_conversions = models.BigIntegerField(default=0)
    # Sale amount and commission of the conversions that count (same set as `conversions`).
    sale_amount_minor = models.BigIntegerField(default=0)
    commission_minor = models.BigIntegerField(default=0)
    pending_commission_minor = models.BigIntegerField(default=0)
    approved_commission_minor = models.BigIntegerField(default=0)  # approved + paid
    paid_commission_minor = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class HourlyRollup(RollupRow):
    """Clicks and conversions of one UTC hour for one dimension key."""

    bucket = models.DateTimeField()  # the start of the UTC hour

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "bucket", *DIMENSIONS],
                                               name="hourly_rollup_unique_key")]
        indexes = [
            models.Index(fields=["network", "bucket"], name="hourly_rollup_network_bucket"),
            models.Index(fields=["network", "affiliate_id", "bucket"], name="hourly_rollup_affiliate"),
            models.Index(fields=["network", "merchant_id", "bucket"], name="hourly_rollup_merchant"),
            models.Index(fields=["program_id", "bucket"], name="hourly_rollup_program"),
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H}:00 program {self.program_id}"


class DailyRollup(RollupRow):
    """Clicks and conversions of one UTC day for one dimension key (summed from the hourly rollups)."""

    day = models.DateField()  # the UTC day

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "day", *DIMENSIONS],
                                               name="daily_rollup_unique_key")]
        indexes = [
            models.Index(fields=["network", "day"], name="daily_rollup_network_day"),
            models.Index(fields=["network", "affiliate_id", "day"], name="daily_rollup_affiliate"),
            models.Index(fields=["network", "merchant_id", "day"], name="daily_rollup_merchant"),
            models.Index(fields=["program_id", "day"], name="daily_rollup_program"),
        ]

    def __str__(self) -> str:
        return f"{self.day} program {self.program_id}"


class RollupCursor(models.Model):
    """How far the rollups have read one source table (not tenant data: one row per source, all networks)."""

    class Source(models.TextChoices):
        CLICKS = "clicks", "clicks"
        CONVERSIONS = "conversions", "conversions"

    source = models.CharField(max_length=16, choices=Source.choices, unique=True)
    # Clicks: every click with an id at or below this is in the rollups.
    last_id = models.BigIntegerField(default=0)
    # Conversions: every change with updated_at at or before this is in the rollups.
    last_updated_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(default=timezone.now)
    rows_seen = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.source}: id {self.last_id}, updated {self.last_updated_at}"
