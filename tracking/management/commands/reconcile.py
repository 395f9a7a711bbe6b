"""`manage.py reconcile [--now ISO8601]`: the reconciliation beat runs, by hand (tests move time with --now)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from network.models import Network
from tracking import reconcile


class Command(BaseCommand):
    help = "Approve due conversions, process refunds, close monthly tiers and post the ledger transactions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="the moment to reconcile at, ISO 8601 (default: now)")
        parser.add_argument("--network", help="only this network (slug)")
        parser.add_argument("--chunk-size", type=int, default=reconcile.DEFAULT_CHUNK_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None:
                raise CommandError("--now: give an ISO 8601 date and time, e.g. 2026-02-01T00:00:00Z")
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
        network = None
        if options["network"]:
            network = Network.objects.filter(slug=options["network"]).first()
            if network is None:
                raise CommandError(f"No network with the slug {options['network']!r}.")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        summary = reconcile.reconcile(now=now, network=network, chunk_size=options["chunk_size"])
        self.stdout.write(summary.line())
