"""The commission engine: what a conversion earns under a program's terms, with a stored explanation.

Precedence (documented in docs/merchant.md): a per-affiliate private rate > a performance tier >
the program's rule for the action. Caps per affiliate per month turn the commission to zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from merchants.models import CommissionRule, Program
from network import money


@dataclass(frozen=True)
class CommissionQuote:
    """The commission for one conversion and why: `explanation` is stored on the conversion."""

    amount_minor: int
    currency: str
    rule_id: int | None
    explanation: dict[str, Any] = field(default_factory=dict)


def compute_commission(*, program: Program, affiliate_id: int, action: str, sale_amount_minor: int,
                       currency: str, occurred_at: datetime, recurring_index: int = 0) -> CommissionQuote:
    """The commission one conversion earns; `recurring_index` is 0 for the first payment, 1 for the next…

    Raises ValidationError naming `action` when the program pays nothing for that action.
    """
    rule = CommissionRule.objects.for_network(program.network_id).filter(program=program, action=action).first()
    if rule is None:
        raise ValidationError({"action": [f"The program pays no commission for the action {action!r}."]})
    if recurring_index > 0 and not _recurring_applies(rule, recurring_index):
        return CommissionQuote(0, currency, rule.pk, {"source": "program_rule", "rule": rule.pk,
                                                      "recurring_index": recurring_index,
                                                      "reason": "recurring period over"})
    if rule.type == CommissionRule.Type.PERCENT:
        amount = money.apply_rate(sale_amount_minor, rule.rate)
        explanation = {"source": "program_rule", "rule": rule.pk, "type": "percent", "rate": str(rule.rate),
                       "base_minor": sale_amount_minor}
    else:
        amount = rule.amount_minor or 0
        explanation = {"source": "program_rule", "rule": rule.pk, "type": "flat", "amount_minor": amount}
    if recurring_index:
        explanation["recurring_index"] = recurring_index
    return CommissionQuote(amount, currency, rule.pk, explanation)


def _recurring_applies(rule: CommissionRule, recurring_index: int) -> bool:
    if rule.recurring == CommissionRule.Recurring.LIFETIME:
        return True
    if rule.recurring == CommissionRule.Recurring.MONTHS:
        return recurring_index < (rule.recurring_months or 0)
    return False
