"""The network fee and the ledger lines of approving and reversing a commission.

The fee is billed to the merchant on top of the commission. Per network a default (percent of
commission, percent of sale, or flat per conversion); a merchant's non-blank `fee_type` overrides
it (its `fee_rate`/`fee_flat_minor`, falling back to the network's when null).

A flat fee is an amount in the network's default currency. There is no silent FX, so a flat fee on
a conversion in another currency is refused (`FeeCurrencyMismatch`, a ValidationError naming
`currency`): charging 0 would leak revenue without anyone noticing. Give such merchants a percent fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from network import money
from network.models import Network
from payouts import ledger
from payouts.ledger import AccountKind, Line
from payouts.models import LedgerEntry, LedgerTransaction

if TYPE_CHECKING:
    from affiliates.models import Affiliate
    from merchants.models import Merchant, Program

FeeType = Network.FeeType


class FeeCurrencyMismatch(ValidationError):
    """A flat fee (network default currency) cannot apply to a conversion in another currency."""


@dataclass(frozen=True)
class FeeTerms:
    """The fee that applies to one merchant: type, percentage and flat amount (default currency)."""

    fee_type: str
    rate: Decimal
    flat_minor: int
    flat_currency: str
    overridden: bool


def fee_terms(*, network: Network, merchant: Merchant | None) -> FeeTerms:
    """The merchant's override when its fee type is set, else the network default."""
    if merchant is not None and merchant.fee_type:
        return FeeTerms(
            fee_type=merchant.fee_type,
            rate=merchant.fee_rate if merchant.fee_rate is not None else network.fee_rate,
            flat_minor=merchant.fee_flat_minor if merchant.fee_flat_minor is not None else network.fee_flat_minor,
            flat_currency=network.default_currency, overridden=True,
        )
    return FeeTerms(fee_type=network.fee_type, rate=network.fee_rate, flat_minor=network.fee_flat_minor,
                    flat_currency=network.default_currency, overridden=False)


def network_fee(*, network: Network, merchant: Merchant | None, commission_minor: int,
                sale_amount_minor: int | None, currency: str) -> int:
    """The fee in minor units of `currency` for one conversion, by the one rounding rule."""
    terms = fee_terms(network=network, merchant=merchant)
    if terms.fee_type == FeeType.PERCENT_OF_COMMISSION:
        return money.apply_rate(commission_minor, terms.rate)
    if terms.fee_type == FeeType.PERCENT_OF_SALE:
        if sale_amount_minor is None:
            raise ValidationError({"amount": ["A percent-of-sale fee needs the sale amount."]})
        return money.apply_rate(sale_amount_minor, terms.rate)
    if terms.fee_type == FeeType.FLAT:
        if terms.flat_minor and currency != terms.flat_currency:
            raise FeeCurrencyMismatch({"currency": [
                f"The flat fee is in {terms.flat_currency}; this conversion is in {currency} and there is "
                "no silent FX. Give the merchant a percent fee."]})
        return terms.flat_minor
    raise ValueError(f"unknown fee type {terms.fee_type!r}")


def approval_lines(*, network: Network, merchant: Merchant | int, affiliate: Affiliate | int,
                   commission_minor: int, fee_minor: int, currency: str) -> list[Line]:
    """Merchant balance debited commission + fee; affiliate payable credited commission; revenue credited fee.

    Empty when both amounts are zero (nothing to post).
    """
    if commission_minor < 0 or fee_minor < 0:
        raise ValidationError({"commission": ["Commission and fee are never negative."]})
    if commission_minor + fee_minor == 0:
        return []
    lines = [Line.debit(ledger.get_account(network=network, kind=AccountKind.MERCHANT_BALANCE, currency=currency,
                                           merchant=merchant), commission_minor + fee_minor)]
    if commission_minor:
        lines.append(Line.credit(ledger.get_account(network=network, kind=AccountKind.AFFILIATE_PAYABLE,
                                                    currency=currency, affiliate=affiliate), commission_minor))
    if fee_minor:
        lines.append(Line.credit(ledger.get_account(network=network, kind=AccountKind.NETWORK_REVENUE,
                                                    currency=currency), fee_minor))
    return lines


def _signed_by_kind(lines: list[Line]) -> dict[str, tuple[Line, int]]:
    found: dict[str, tuple[Line, int]] = {}
    for line in lines:
        previous = found.get(line.account.kind)
        found[line.account.kind] = (line, line.amount_minor + (previous[1] if previous else 0))
    return found


def reversal_lines(*, original: LedgerTransaction, commission_minor: int,
                   already_reversed_commission_minor: int = 0,
                   already_reversed_fee_minor: int = 0) -> list[Line]:
    """The opposite of an approval, for all or part of its commission (Σ reversals ≤ original, L6).

    The fee is reversed in proportion, rounded cumulatively so that reversing everything in any number
    of steps returns exactly the original fee; the merchant line balances the rest.
    """
    if original.kind != LedgerTransaction.Kind.APPROVAL:
        raise ValidationError({"original": ["Only approvals are reversed this way."]})
    by_kind = _signed_by_kind(ledger.transaction_lines(original))
    payable = by_kind.get(AccountKind.AFFILIATE_PAYABLE)
    revenue = by_kind.get(AccountKind.NETWORK_REVENUE)
    merchant_line, _ = by_kind[AccountKind.MERCHANT_BALANCE]
    original_commission = -payable[1] if payable else 0
    original_fee = -revenue[1] if revenue else 0
    if commission_minor <= 0 and not (original_commission == 0 and commission_minor == 0):
        raise ValidationError({"amount": ["Reverse a positive amount."]})
    if already_reversed_commission_minor + commission_minor > original_commission:
        raise ValidationError({"amount": [
            f"Reversals would exceed the original commission ({original_commission} minor units; "
            f"{already_reversed_commission_minor} already reversed)."]})
    total_after = already_reversed_commission_minor + commission_minor
    if original_commission:
        fee_after = money.round_minor(Decimal(original_fee) * total_after / Decimal(original_commission))
    else:
        fee_after = original_fee  # a fee-only approval reverses its fee at once
    fee_part = fee_after - already_reversed_fee_minor
    lines: list[Line] = []
    if commission_minor:
        lines.append(Line.debit(payable[0].account, commission_minor))
    if fee_part:
        lines.append(Line.debit(revenue[0].account, fee_part))
    if commission_minor + fee_part:
        lines.append(Line.credit(merchant_line.account, commission_minor + fee_part))
    return lines


def reversed_so_far(original: LedgerTransaction) -> tuple[int, int]:
    """Commission and fee already reversed against an approval, from the reversal entries."""
    entries = LedgerEntry.objects.filter(transaction__reverses=original)
    commission = entries.filter(account__kind=AccountKind.AFFILIATE_PAYABLE).aggregate(s=Sum("amount_minor"))["s"]
    fee = entries.filter(account__kind=AccountKind.NETWORK_REVENUE).aggregate(s=Sum("amount_minor"))["s"]
    return commission or 0, fee or 0


@transaction.atomic
def post_reversal(*, network: Network, original: LedgerTransaction, commission_minor: int,
                  idempotency_key: str, source: str = "", description: str = "") -> LedgerTransaction:
    """Post a full or partial reversal of an approval; the original is locked so Σ reversals ≤ original."""
    existing = LedgerTransaction.objects.for_network(network).filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    locked = LedgerTransaction.objects.for_network(network).select_for_update().get(pk=original.pk)
    done_commission, done_fee = reversed_so_far(locked)
    lines = reversal_lines(original=locked, commission_minor=commission_minor,
                           already_reversed_commission_minor=done_commission,
                           already_reversed_fee_minor=done_fee)
    return ledger.post(network=network, idempotency_key=idempotency_key, lines=lines,
                       kind=LedgerTransaction.Kind.REVERSAL, source=source or f"reversal-of:{locked.pk}",
                       description=description, program=locked.program, reverses=locked)


def cost_per_conversion(*, network: Network, merchant: Merchant, program: Program,
                        sale_amount_minor: int, commission_minor: int) -> dict[str, int | str]:
    """What one conversion costs the merchant: commission, fee and total, in the program's currency."""
    fee = network_fee(network=network, merchant=merchant, commission_minor=commission_minor,
                      sale_amount_minor=sale_amount_minor, currency=program.currency)
    return {"currency": program.currency, "commission_minor": commission_minor, "fee_minor": fee,
            "total_minor": commission_minor + fee}
