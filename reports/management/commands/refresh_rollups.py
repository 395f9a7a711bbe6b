"""`manage.py refresh_rollups [--now ISO8601] [--rebuild]`: what beat runs every minute."""

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from reports import services


class Command(BaseCommand):
    help = "Bring the hourly and daily report rollups up to date with new clicks and changed conversions."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--now", help="ISO 8601 moment to run as (tests move time with it)")
        parser.add_argument("--rebuild", action="store_true", help="forget the cursors and rebuild everything")

    def handle(self, *args: Any, **options: Any) -> None:
        now: datetime | None = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None or now.tzinfo is None:
                raise CommandError("--now must be an ISO 8601 date-time with an offset, e.g. 2026-01-31T12:00:00Z")
        run = services.rebuild_rollups if options["rebuild"] else services.refresh_rollups
        result = run(now=now)
        self.stdout.write(f"rollups: {result.hours} hour buckets, {result.days} day buckets recomputed; "
                          f"clicks up to id {result.clicks_last_id}")
