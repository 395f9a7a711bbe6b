"""`manage.py build_payouts --network S [--now ISO8601]`: build the batch the schedule would build."""

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from network.models import Network
from payouts import payout_services


class Command(BaseCommand):
    help = "Build the payout batch of the period due now (or at --now); a rerun builds nothing new."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", required=True, help="the network's slug")
        parser.add_argument("--now", help="ISO 8601 time to build as of (tests move time with it)")

    def handle(self, *args: Any, **options: Any) -> None:
        network = Network.objects.filter(slug=options["network"]).first()
        if network is None:
            raise CommandError(f"No network with the slug {options['network']!r}.")
        now = None
        if options.get("now"):
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError("--now must be an ISO 8601 time, e.g. 2026-03-15T09:00:00+00:00.") from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now, timezone.UTC)
        result = payout_services.build_payout_batch(network=network, now=now)
        batch = result.batch
        self.stdout.write(json.dumps({"network": network.slug, "batch": batch.pk, "period": batch.period_key,
                                      "created": result.created, "payouts": batch.payouts.count(),
                                      "exceptions": len(batch.exceptions), "status": batch.status}))
