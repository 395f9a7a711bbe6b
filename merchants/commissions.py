"""The commission engine: what a conversion earns under a program's terms, with a stored explanation.

Precedence (documented in docs/merchant.md), from strongest to weakest:

1. a per-affiliate private rate for the action (ProgramAffiliateRate),
2. the highest performance tier of the program's rule whose `min_approved` the affiliate has reached
   (approved conversions of this action in this program in the calendar month, before this one),
3. the program's rule for the action.

Whatever the source, the rule's recurring policy and its cap per affiliate per month apply: past the
recurring period, or at the cap, the commission is 0 with a `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from merchants.models import CommissionRule, Program, ProgramAffiliateRate
from network import money


@dataclass(frozen=True)
class CommissionQuote:
    """The commission for one conversion and why: `explanation` is stored on the conversion."""

    amount_minor: int
    currency: str
    rule_id: int | None
    explanation: dict[str, Any] = field(default_factory=dict)


def compute_commission(*, program: Program, affiliate_id: int, action: str, sale_amount_minor: int,
                       currency: str, occurred_at: datetime, recurring_index: int = 0,
                       approved_count_this_month: int = 0, conversions_this_month: int = 0,
                       rule: CommissionRule | None = None,
                       affiliate_rate: ProgramAffiliateRate | None = None) -> CommissionQuote:
    """The commission one conversion earns.

    `recurring_index` is 0 for the first payment, 1 for the next…; `approved_count_this_month` is the
    affiliate's approved conversions of this action in this program this calendar month (for tiers);
    `conversions_this_month` is their conversions of this action this month so far, not counting this
    one (for the cap). `rule` and `affiliate_rate` may be passed preloaded to save queries.
    Raises ValidationError naming `action` when the program pays nothing for that action.
    """
    if sale_amount_minor < 0:
        raise ValidationError({"amount": ["The sale amount cannot be negative."]})
    if rule is None:
        rule = CommissionRule.objects.for_network(program.network_id).filter(program=program, action=action).first()
    if affiliate_rate is None:
        affiliate_rate = (ProgramAffiliateRate.objects.for_network(program.network_id)
                          .filter(program=program, affiliate_id=affiliate_id, action=action).first())
    if rule is None and affiliate_rate is None:
        raise ValidationError({"action": [f"The program pays no commission for the action {action!r}."]})

    explanation: dict[str, Any] = {"action": action, "affiliate": affiliate_id, "currency": currency,
                                   "rule": rule.pk if rule else None}
    rule_id = rule.pk if rule else None
    recurring = rule.recurring if rule else CommissionRule.Recurring.NONE
    if recurring_index:
        explanation.update(recurring_index=recurring_index, recurring=recurring)
        if recurring == CommissionRule.Recurring.MONTHS:
            explanation["recurring_months"] = rule.recurring_months if rule else None
    if recurring_index > 0 and not _recurring_applies(rule, recurring_index):
        return CommissionQuote(0, currency, rule_id, {**explanation, "source": "none", "amount_minor": 0,
                                                      "reason": "recurring period over"})
    cap = rule.monthly_cap_per_affiliate if rule else None
    if cap is not None:
        explanation.update(monthly_cap=cap, conversions_this_month=conversions_this_month)
        if conversions_this_month >= cap:
            return CommissionQuote(0, currency, rule_id, {**explanation, "source": "none", "amount_minor": 0,
                                                          "reason": "monthly cap reached"})

    if affiliate_rate is not None:
        explanation.update(source="affiliate_rate", affiliate_rate=affiliate_rate.pk)
        type_, rate, flat = affiliate_rate.type, affiliate_rate.rate, affiliate_rate.amount_minor
    else:
        assert rule is not None
        type_, rate, flat = rule.type, rule.rate, rule.amount_minor
        tier = _reached_tier(rule, approved_count_this_month)
        if tier is not None:
            explanation.update(source="tier", tier={"min_approved": tier["min_approved"]},
                               approved_count_this_month=approved_count_this_month)
            if "rate" in tier:
                rate = Decimal(str(tier["rate"]))
            else:
                flat = int(tier["amount_minor"])
        else:
            explanation["source"] = "program_rule"
            if rule.tiers:
                explanation["approved_count_this_month"] = approved_count_this_month

    if type_ == CommissionRule.Type.PERCENT:
        rate = rate if rate is not None else Decimal(0)
        amount = money.apply_rate(sale_amount_minor, rate)
        explanation.update(type="percent", rate=f"{rate.normalize():f}", base_minor=sale_amount_minor)
    else:
        # A flat amount is in the program's currency; converting would be silent FX, which we never do.
        if currency != program.currency:
            raise ValidationError({"currency": [
                f"Flat commissions are in {program.currency}; this conversion is in {currency}."]})
        amount = flat or 0
        explanation.update(type="flat")
    explanation["amount_minor"] = amount
    return CommissionQuote(amount, currency, rule_id, explanation)


def _reached_tier(rule: CommissionRule, approved_count: int) -> dict[str, Any] | None:
    """The highest tier whose threshold the count has reached, or None."""
    reached = [tier for tier in rule.tiers or [] if approved_count >= int(tier.get("min_approved", 0))]
    return max(reached, key=lambda tier: int(tier["min_approved"])) if reached else None


def _recurring_applies(rule: CommissionRule | None, recurring_index: int) -> bool:
    if rule is None:
        return False
    if rule.recurring == CommissionRule.Recurring.LIFETIME:
        return True
    if rule.recurring == CommissionRule.Recurring.MONTHS:
        return recurring_index < (rule.recurring_months or 0)
    return False
