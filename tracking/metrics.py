"""Marketplace figures per program (affiliates.ProgramMetrics) from the last 90 days of clicks and conversions.

Two aggregate queries for every program of every network (one per metric family: clicks; conversions
with their approved commission and reversals), then one bulk upsert. The funding status on the same
rows belongs to the payouts job and is left as it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from affiliates.models import ProgramMetrics
from merchants.models import Program
from tracking.models import Click, Conversion

WINDOW = timedelta(days=90)
Status = Conversion.Status


def refresh_program_metrics(*, now: datetime | None = None) -> int:
    """Recompute clicks, conversions, approved commission and reversals of every program; returns how many rows."""
    now = now or timezone.now()
    since = now - WINDOW
    clicks = dict(Click.objects.filter(created_at__gte=since, created_at__lt=now, is_unique=True)
                  .values_list("program_id").annotate(n=Count("pk")).values_list("program_id", "n"))
    credited = ~Q(status=Status.REJECTED)
    approved = Q(status__in=[Status.APPROVED, Status.PAID])
    conversions = {row["program_id"]: row for row in (
        Conversion.objects.filter(occurred_at__gte=since, occurred_at__lt=now, affiliate__isnull=False)
        .values("program_id")
        .annotate(conversions=Count("pk", filter=credited),
                  approved_count=Count("pk", filter=approved),
                  # Net of partial reversals: what the affiliates keep.
                  commission=Sum("commission_minor", filter=approved),
                  reversed_commission=Sum("reversed_commission_minor", filter=approved),
                  reversed=Count("pk", filter=Q(status=Status.REVERSED))))}
    rows = []
    for program_id, network_id in Program.objects.values_list("pk", "network_id").order_by("pk"):
        found = conversions.get(program_id, {})
        rows.append(ProgramMetrics(
            network_id=network_id, program_id=program_id, clicks_90d=clicks.get(program_id, 0),
            conversions_90d=found.get("conversions", 0),
            approved_commission_90d_minor=(found.get("commission") or 0) - (found.get("reversed_commission") or 0),
            conversions_count_for_average=found.get("approved_count", 0), reversed_90d=found.get("reversed", 0),
            refreshed_at=now))
    ProgramMetrics.objects.bulk_create(
        rows, batch_size=1000, update_conflicts=True, unique_fields=["program"],
        update_fields=["clicks_90d", "conversions_90d", "approved_commission_90d_minor",
                       "conversions_count_for_average", "reversed_90d", "refreshed_at"])
    return len(rows)
