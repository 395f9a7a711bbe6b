"""Periodic work of the reports app (thin: one service call)."""

from celery import shared_task

from reports import services


@shared_task(acks_late=True)
def refresh_rollups() -> dict[str, object]:
    """Bring the rollups up to date (beat runs this every minute); a rerun changes nothing."""
    result = services.refresh_rollups()
    return {"hours": result.hours, "days": result.days}
