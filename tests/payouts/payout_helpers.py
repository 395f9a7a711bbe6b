"""Builders for payout tests: profiles through the real service, balances through real approvals."""

from datetime import UTC, datetime

from payouts import payout_selectors, payout_services, selectors
from payouts.models import LedgerEntry, LedgerTransaction, Payout, PayoutBatch
from tests.payouts.helpers import approve

TAX = {"form": "w8ben", "legal_name": "Ann Example", "country": "DE", "tax_id": "DE123456789",
       "signed_on": "2026-01-02"}
# The 15th of March, after the default monthly payout day (15): the "2026-03" period is due.
NOW = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)


def profile(tenant: object, affiliate: object = None, *, method: str = "sandbox", details: dict | None = None,
            currency: str = "USD", threshold: str | None = None, tax: dict | None = TAX) -> object:
    affiliate = affiliate or tenant.affiliate
    return payout_services.save_payout_profile(
        network=tenant.network, affiliate_id=affiliate.pk, method=method,
        details=details if details is not None else {"behaviour": "succeed"}, currency=currency,
        threshold=threshold, tax=tax, now=NOW)


def earn(tenant: object, amount_minor: int, *, affiliate: object = None, key: str | None = None,
         currency: str = "USD") -> None:
    affiliate = affiliate or tenant.affiliate
    approve(tenant, key=key or f"conversion:{affiliate.pk}{amount_minor}{currency}:approved",
            commission=amount_minor, fee=0, affiliate=affiliate, currency=currency)


def available(tenant: object, affiliate: object = None, currency: str = "USD") -> int:
    affiliate = affiliate or tenant.affiliate
    for balance in selectors.affiliate_balances(network=tenant.network, affiliate_ids=[affiliate.pk]):
        if balance.currency == currency:
            return balance.available_minor
    return 0


def assert_ledger_sound(network: object) -> None:
    """Trial balance zero per currency (L1) and in transit = Σ open payouts (L8)."""
    assert all(total == 0 for total in selectors.trial_balance(network=network).values())
    for currency, (transit, open_sum) in payout_selectors.in_transit_check(network=network).items():
        assert transit == open_sum, currency


def snapshot() -> tuple[int, int, int, int]:
    return (PayoutBatch.objects.count(), Payout.objects.count(), LedgerTransaction.objects.count(),
            LedgerEntry.objects.count())
