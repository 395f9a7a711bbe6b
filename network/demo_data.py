"""Demo data of the tenancy app: the network and its staff."""

from typing import Any

from network import services
from network.models import Membership, Network


def load(context: dict[str, Any]) -> None:
    network, _ = Network.objects.get_or_create(
        slug="demo",
        defaults={"name": "Demo Affiliate Network", "default_currency": "USD", "time_zone": "Europe/Berlin",
                  "brand_name": "Seed Demo Network", "payout_minimum_minor": 5000},
    )
    context["network"] = network
    for email, role in [("owner@demo.test", Membership.Role.OWNER), ("manager@demo.test", Membership.Role.MANAGER)]:
        user = services.get_or_create_user(email=email, password=context["password"], verified=True)
        Membership.objects.get_or_create(network=network, user=user, defaults={"role": role})
        context["logins"].append((f"network {role}", email))
