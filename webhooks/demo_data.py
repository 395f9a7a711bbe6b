"""Demo data of the webhooks app: one (disabled) staff endpoint so the console's log page has an example."""

from typing import Any

from webhooks import signing
from webhooks.models import EventType, OwnerKind, WebhookEndpoint


def load(context: dict[str, Any]) -> None:
    network = context["network"]
    WebhookEndpoint.objects.get_or_create(
        network=network, owner_kind=OwnerKind.STAFF, owner_id=None, url="https://hooks.example.com/seed-demo",
        defaults={"description": "Example endpoint (disabled): point it at your own receiver",
                  "event_types": list(EventType.values), "is_active": False, "secret": signing.generate_secret()},
    )
