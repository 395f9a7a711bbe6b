"""Demo data of the payouts app: prepay every demo merchant's balance (idempotent by bank reference)."""

from typing import Any

from merchants.models import Merchant, Program
from network import money
from payouts import services

DEMO_PREPAYMENT = "5000.00"


def load(context: dict[str, Any]) -> None:
    network = context.get("network")
    if network is None:
        return
    # The merchants app puts a dict (short name → Merchant) into the context.
    merchants = list((context.get("merchants") or {}).values()) or list(
        Merchant.objects.for_network(network).order_by("name"))
    for merchant in merchants:
        currencies = sorted(set(Program.objects.for_network(network).filter(merchant=merchant)
                                .values_list("currency", flat=True))) or [network.default_currency]
        for currency in currencies:
            # A deterministic reference makes a second run a replay that records nothing new.
            services.record_merchant_funding(
                network=network, merchant_id=merchant.pk, amount_minor=money.to_minor(DEMO_PREPAYMENT, currency),
                currency=currency, reference=f"DEMO-PREPAY-{merchant.name}-{currency}"[:120],
                note="Demo prepayment by bank transfer",
            )
    services.refresh_funding_status(network=network)
