"""Demo data of the payouts app: prepay every demo merchant's balance (idempotent by bank reference),
payout profiles for the demo affiliates (sandbox, PayPal, bank IBAN) and one paid batch of history."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from affiliates.models import Affiliate, Enrollment
from merchants.models import Merchant, Program
from network import money
from payouts import fees, ledger, payout_services, services
from payouts.models import PayoutBatch, PayoutProfile

DEMO_PREPAYMENT = "5000.00"
DEMO_TAX = {"form": "w8ben", "legal_name": "", "country": "DE", "tax_id": "DEMO-TAX-ID", "signed_on": "2026-01-02"}
# Profiles in turn: the sandbox (which pays at once), PayPal, and a bank transfer by IBAN.
DEMO_METHODS = [
    ("sandbox", {"behaviour": "succeed", "label": "Demo sandbox"}),
    ("paypal", {"email": "payouts-demo@example.com"}),
    ("bank", {"account_holder": "Demo Affiliate", "iban": "DE89370400440532013000"}),
]
HISTORY_PERIOD_MONTHS_AGO = 2


def _rows(given: Any) -> list[Any]:
    """The merchants and affiliates apps put dicts (short name → row) into the context; tests pass lists."""
    if isinstance(given, dict):
        return list(given.values())
    return list(given or [])


def load(context: dict[str, Any]) -> None:
    network = context.get("network")
    if network is None:
        return
    merchants = _rows(context.get("merchants")) or list(Merchant.objects.for_network(network).order_by("name"))
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
    load_payouts(context)


def load_payouts(context: dict[str, Any]) -> None:
    """Profiles for the demo affiliates and one paid sandbox batch from two months ago (idempotent)."""
    network = context.get("network")
    if network is None:
        return
    affiliates = _rows(context.get("affiliates")) or list(Affiliate.objects.for_network(network).order_by("name"))
    for index, affiliate in enumerate(affiliates):
        if PayoutProfile.objects.for_network(network).filter(affiliate=affiliate).exists():
            continue  # keep what the affiliate changed in the portal
        method, details = DEMO_METHODS[index % len(DEMO_METHODS)]
        payout_services.save_payout_profile(
            network=network, affiliate_id=affiliate.pk, method=method, details=details,
            currency=network.default_currency, threshold=None, tax={**DEMO_TAX, "legal_name": affiliate.name[:140]})
    _paid_history(network=network, affiliates=affiliates)


def _paid_history(*, network: Any, affiliates: list[Any]) -> None:
    sandbox_affiliates = [a for a in affiliates if PayoutProfile.objects.for_network(network)
                          .filter(affiliate=a, method="sandbox").exists()]
    if not sandbox_affiliates:
        return
    local = timezone.now().astimezone(UTC)
    month = (local.year * 12 + local.month - 1) - HISTORY_PERIOD_MONTHS_AGO
    then = datetime(month // 12, month % 12 + 1, network.payout_day, 12, tzinfo=UTC)
    period_key = payout_services.due_period(network=network, now=then)[0]
    if PayoutBatch.objects.for_network(network).filter(period_key=period_key).exists():
        return
    for affiliate in sandbox_affiliates:
        enrollment = Enrollment.objects.for_network(network).filter(affiliate=affiliate).select_related(
            "program__merchant").first()
        if enrollment is None:
            continue
        program = enrollment.program
        amount = max(network.payout_minimum_minor, 1) + 2500
        # An earlier approved commission, posted like an approval (fee included), paid by the history batch.
        try:
            fee = fees.network_fee(network=network, merchant=program.merchant, commission_minor=amount,
                                   sale_amount_minor=amount * 10, currency=program.currency)
        except ValidationError:  # a flat fee in another currency: the demo history goes without a fee
            fee = 0
        ledger.post(network=network, idempotency_key=f"demo:history:{affiliate.pk}:approved",
                    kind=ledger.Kind.APPROVAL, source=f"demo:history:{affiliate.pk}", program=program,
                    occurred_at=then - timedelta(days=20),
                    lines=fees.approval_lines(network=network, merchant=program.merchant, affiliate=affiliate,
                                              commission_minor=amount, fee_minor=fee, currency=program.currency))
    batch = payout_services.build_payout_batch(network=network, now=then).batch
    approver = _approver(network)
    if batch.status == PayoutBatch.Status.REVIEW and approver is not None:
        payout_services.approve_payout_batch(network=network, batch_id=batch.pk, actor=approver, now=then)
        payout_services.submit_payout_batch(network=network, batch_id=batch.pk, now=then)


def _approver(network: Any) -> Any:
    from network.models import Membership

    membership = Membership.objects.for_network(network).select_related("user").order_by("pk").first()
    return membership.user if membership else None
