"""`manage.py bootstrap_network`: create a network and its owner, print one JSON line."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from network import services


class Command(BaseCommand):
    help = "Create a network and its owner; prints {\"network\", \"owner\", \"api_key\"} as one JSON line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--domain", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            network, owner, key = services.bootstrap_network(
                slug=options["slug"], name=options["name"], owner_email=options["owner_email"],
                password=options["password"], currency=options["currency"], domain=options["domain"],
            )
        except ValidationError as error:
            messages = [f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
            raise CommandError("; ".join(messages)) from None
        self.stdout.write(json.dumps({"network": network.slug, "owner": owner.email, "api_key": key}))
