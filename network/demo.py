"""The demo network: each app contributes its part through `<app>.demo.load(context)`, in app order."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.db import transaction

DEMO_PASSWORD = "demo-pass-2026"
DEMO_NETWORK_SLUG = "demo"


@transaction.atomic
def load_demo() -> dict[str, Any]:
    """Load (or top up) the demo network; running it again creates nothing new."""
    context: dict[str, Any] = {"password": DEMO_PASSWORD, "logins": []}
    for app_config in apps.get_app_configs():
        if app_config.name.split(".")[0] not in ("network", "webhooks", "merchants", "affiliates", "payouts", "tracking", "reports"):
            continue
        try:
            module = importlib.import_module(f"{app_config.name}.demo_data")
        except ModuleNotFoundError as error:
            if error.name != f"{app_config.name}.demo_data":
                raise
            continue
        module.load(context)
    return context
