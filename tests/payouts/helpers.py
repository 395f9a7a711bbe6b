"""Small builders for payouts tests: accounts and approvals posted through the real API."""

from network.models import Network
from payouts import fees, ledger
from payouts.models import LedgerAccount, LedgerTransaction

Kind = LedgerAccount.Kind


def account(network: Network, kind: str, currency: str = "USD", **owner: object) -> LedgerAccount:
    return ledger.get_account(network=network, kind=kind, currency=currency, **owner)


def approve(tenant: object, *, key: str, commission: int, fee: int, currency: str = "USD",
            merchant: object = None, affiliate: object = None, occurred_at: object = None) -> LedgerTransaction:
    """Post an approval for the tenant's merchant and affiliate (or the given ones)."""
    lines = fees.approval_lines(network=tenant.network, merchant=merchant or tenant.merchant,
                                affiliate=affiliate or tenant.affiliate, commission_minor=commission,
                                fee_minor=fee, currency=currency)
    return ledger.post(network=tenant.network, idempotency_key=key, lines=lines, kind=ledger.Kind.APPROVAL,
                       source=key, program=tenant.program, occurred_at=occurred_at)


def counts() -> tuple[int, int]:
    from payouts.models import LedgerEntry

    return LedgerTransaction.objects.count(), LedgerEntry.objects.count()
