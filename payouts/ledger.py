"""The ledger API: accounts, `post` (balanced, idempotent, atomic) and line builders for payouts.

Other apps call only this module (and `payouts.fees` for commission lines):

    from payouts import fees, ledger
    lines = fees.approval_lines(network=n, merchant=m, affiliate=a, commission_minor=1000, fee_minor=200,
                                currency="EUR")
    ledger.post(network=n, idempotency_key=f"conversion:{c.pk}:approved", lines=lines,
                kind=ledger.Kind.APPROVAL, source=f"conversion:{c.pk}:approved", program=c.program)

Sign convention: `amount_minor` > 0 is a debit, < 0 a credit; each transaction sums to 0 per currency.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from network import money
from network.models import Network
from payouts.models import LedgerAccount, LedgerEntry, LedgerTransaction

if TYPE_CHECKING:
    from affiliates.models import Affiliate
    from merchants.models import Merchant, Program

AccountKind = LedgerAccount.Kind
Kind = LedgerTransaction.Kind


@dataclass(frozen=True)
class Line:
    """One line to post: a signed amount (+debit / −credit) in minor units on an account, in a currency."""

    account: LedgerAccount
    amount_minor: int
    currency: str

    @classmethod
    def debit(cls, account: LedgerAccount, amount_minor: int) -> Line:
        return cls(account=account, amount_minor=amount_minor, currency=account.currency)

    @classmethod
    def credit(cls, account: LedgerAccount, amount_minor: int) -> Line:
        return cls(account=account, amount_minor=-amount_minor, currency=account.currency)


class LedgerConflict(ValidationError):
    """The idempotency key was used before with different lines."""


def get_account(*, network: Network, kind: str, currency: str, merchant: Merchant | int | None = None,
                affiliate: Affiliate | int | None = None) -> LedgerAccount:
    """The network's account of this kind, owner and currency; created on first use (race-safe)."""
    money.validate_currency(currency)
    merchant_id = merchant if isinstance(merchant, int) or merchant is None else merchant.pk
    affiliate_id = affiliate if isinstance(affiliate, int) or affiliate is None else affiliate.pk
    if kind in LedgerAccount.AFFILIATE_KINDS and (affiliate_id is None or merchant_id is not None):
        raise ValueError(f"a {kind} account belongs to one affiliate")
    if kind in LedgerAccount.MERCHANT_KINDS and (merchant_id is None or affiliate_id is not None):
        raise ValueError(f"a {kind} account belongs to one merchant")
    if kind not in LedgerAccount.AFFILIATE_KINDS | LedgerAccount.MERCHANT_KINDS and (merchant_id or affiliate_id):
        raise ValueError(f"a {kind} account belongs to the network")
    _check_owner_network(network, merchant, affiliate, merchant_id, affiliate_id)
    lookup = {"network": network, "kind": kind, "currency": currency, "merchant_id": merchant_id,
              "affiliate_id": affiliate_id}
    found = LedgerAccount.objects.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(**lookup)
    except IntegrityError:
        # Another process created it between our read and our insert.
        return LedgerAccount.objects.get(**lookup)


def _check_owner_network(network: Network, merchant: object, affiliate: object, merchant_id: int | None,
                         affiliate_id: int | None) -> None:
    """An owner from another network would make a cross-tenant account (L10)."""
    from affiliates.models import Affiliate
    from merchants.models import Merchant

    if merchant_id is not None:
        owner_network = getattr(merchant, "network_id", None)
        if owner_network is None:
            owner_network = Merchant.objects.filter(pk=merchant_id).values_list("network_id", flat=True).first()
        if owner_network != network.pk:
            raise ValidationError({"merchant": ["This merchant is not in the network."]})
    if affiliate_id is not None:
        owner_network = getattr(affiliate, "network_id", None)
        if owner_network is None:
            owner_network = Affiliate.objects.filter(pk=affiliate_id).values_list("network_id", flat=True).first()
        if owner_network != network.pk:
            raise ValidationError({"affiliate": ["This affiliate is not in the network."]})


def lines_digest(lines: Iterable[Line]) -> str:
    """A canonical fingerprint of lines (order-independent) to compare a replay with the original."""
    canonical = sorted((line.account.pk, line.currency, line.amount_minor) for line in lines)
    return hashlib.sha256(repr(canonical).encode()).hexdigest()


def validate_lines(*, network: Network, lines: Sequence[Line]) -> None:
    """Refuse empty, zero, foreign, mismatched or unbalanced lines (L1, L9, L10) before anything is written."""
    if not lines:
        raise ValidationError({"lines": ["A transaction needs at least one line."]})
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        if not isinstance(line.amount_minor, int) or isinstance(line.amount_minor, bool):
            raise ValidationError({"lines": ["Amounts are integers in minor units."]})
        if line.amount_minor == 0:
            raise ValidationError({"lines": ["A line may not be zero."]})
        if line.account.pk is None or line.account.network_id != network.pk:
            raise ValidationError({"lines": ["Every account must belong to the transaction's network."]})
        if line.currency != line.account.currency:
            raise ValidationError({"lines": [
                f"Line in {line.currency} on an account in {line.account.currency}: no silent FX."]})
        totals[line.currency] += line.amount_minor
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise ValidationError({"lines": [f"Unbalanced: sums per currency {dict(sorted(unbalanced.items()))}."]})


def post(*, network: Network, idempotency_key: str, lines: Sequence[Line], description: str = "",
         source: str = "", kind: str = Kind.ADJUSTMENT, program: Program | None = None,
         reverses: LedgerTransaction | None = None, occurred_at: datetime | None = None) -> LedgerTransaction:
    """Post one balanced transaction atomically; a replay with the same key returns the original.

    A replay whose lines differ raises LedgerConflict (the caller has a bug or a key collision).
    """
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValidationError({"idempotency_key": ["Give an idempotency key of 1 to 200 characters."]})
    lines = list(lines)
    validate_lines(network=network, lines=lines)
    digest = lines_digest(lines)
    existing = LedgerTransaction.objects.for_network(network).filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replayed(existing, digest)
    try:
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(
                network=network, idempotency_key=idempotency_key, description=description[:255],
                source=source[:200], kind=kind, program=program, reverses=reverses, lines_digest=digest,
                occurred_at=occurred_at or timezone.now(),
            )
            LedgerEntry.objects.bulk_create([
                LedgerEntry(network=network, transaction=posted, account=line.account,
                            amount_minor=line.amount_minor, currency=line.currency)
                for line in lines
            ])
    except IntegrityError:
        # A concurrent post with the same key committed first (L4): return what it wrote.
        existing = LedgerTransaction.objects.for_network(network).filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replayed(existing, digest)
    return posted


def _replayed(existing: LedgerTransaction, digest: str) -> LedgerTransaction:
    if existing.lines_digest != digest:
        raise LedgerConflict({"idempotency_key": [
            f"The key {existing.idempotency_key!r} was already posted with different lines."]})
    return existing


def transaction_lines(posted: LedgerTransaction) -> list[Line]:
    """The lines of a posted transaction (for reversals and checks)."""
    return [Line(account=entry.account, amount_minor=entry.amount_minor, currency=entry.currency)
            for entry in posted.entries.select_related("account").order_by("pk")]


# --- Payout postings (two-phase, L8): reserve on batch creation, then settle, void or return. ---

def payout_reserve_lines(*, network: Network, affiliate: Affiliate | int, amount_minor: int,
                         currency: str) -> list[Line]:
    """Move an amount from the affiliate's payable into payouts in transit."""
    payable = get_account(network=network, kind=AccountKind.AFFILIATE_PAYABLE, currency=currency, affiliate=affiliate)
    transit = get_account(network=network, kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=currency,
                          affiliate=affiliate)
    return [Line.debit(payable, amount_minor), Line.credit(transit, amount_minor)]


def payout_settle_lines(*, network: Network, affiliate: Affiliate | int, amount_minor: int,
                        currency: str) -> list[Line]:
    """The provider paid: in transit is cleared against the provider's clearing account."""
    transit = get_account(network=network, kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=currency,
                          affiliate=affiliate)
    clearing = get_account(network=network, kind=AccountKind.PROVIDER_CLEARING, currency=currency)
    return [Line.debit(transit, amount_minor), Line.credit(clearing, amount_minor)]


def payout_void_lines(*, network: Network, affiliate: Affiliate | int, amount_minor: int,
                      currency: str) -> list[Line]:
    """The payout failed before money moved: the reservation returns to the payable."""
    transit = get_account(network=network, kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=currency,
                          affiliate=affiliate)
    payable = get_account(network=network, kind=AccountKind.AFFILIATE_PAYABLE, currency=currency, affiliate=affiliate)
    return [Line.debit(transit, amount_minor), Line.credit(payable, amount_minor)]


def payout_return_lines(*, network: Network, affiliate: Affiliate | int, amount_minor: int,
                        currency: str) -> list[Line]:
    """A settled payout came back (unclaimed, returned): the money is owed to the affiliate again."""
    clearing = get_account(network=network, kind=AccountKind.PROVIDER_CLEARING, currency=currency)
    payable = get_account(network=network, kind=AccountKind.AFFILIATE_PAYABLE, currency=currency, affiliate=affiliate)
    return [Line.debit(clearing, amount_minor), Line.credit(payable, amount_minor)]
