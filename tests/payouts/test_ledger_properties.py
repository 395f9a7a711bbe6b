"""Property tests: any sequence of approvals, reversals, fundings and payouts keeps the books exact."""

from collections import defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from network import money
from payouts import fees, ledger, selectors, services
from payouts.models import LedgerEntry
from tests import factories

CURRENCIES = ["USD", "EUR", "JPY"]


class LedgerMachine(RuleBasedStateMachine):
    """A model of what each affiliate and merchant should hold, checked against the ledger after every step."""

    @initialize()
    def set_up(self) -> None:
        self.network = factories.NetworkFactory()
        self.merchant = factories.MerchantFactory(network=self.network)
        self.affiliates = [factories.AffiliateFactory(network=self.network) for _ in range(2)]
        self.counter = 0
        self.approvals: list[tuple[object, int, int, int, str]] = []  # (txn, affiliate idx, commission, fee, cur)
        self.reversed: dict[int, int] = defaultdict(int)
        self.payouts: list[dict[str, object]] = []
        self.expected_approved: dict[tuple[int, str], int] = defaultdict(int)
        self.expected_reserved: dict[tuple[int, str], int] = defaultdict(int)
        self.expected_paid: dict[tuple[int, str], int] = defaultdict(int)
        self.expected_merchant: dict[str, int] = defaultdict(int)

    def key(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}:{self.counter}"

    @rule(affiliate=st.integers(0, 1), commission=st.integers(0, 10**9), fee=st.integers(0, 10**7),
          currency=st.sampled_from(CURRENCIES))
    def approve(self, affiliate: int, commission: int, fee: int, currency: str) -> None:
        lines = fees.approval_lines(network=self.network, merchant=self.merchant,
                                    affiliate=self.affiliates[affiliate], commission_minor=commission,
                                    fee_minor=fee, currency=currency)
        if not lines:
            return
        posted = ledger.post(network=self.network, idempotency_key=self.key("approval"), lines=lines,
                             kind=ledger.Kind.APPROVAL)
        self.approvals.append((posted, affiliate, commission, fee, currency))
        self.expected_approved[(affiliate, currency)] += commission
        self.expected_merchant[currency] -= commission + fee

    @precondition(lambda self: self.approvals)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        posted, affiliate, commission, fee, currency = data.draw(st.sampled_from(self.approvals))
        amount = data.draw(st.integers(1, max(commission, 1) + 5))
        before = LedgerEntry.objects.filter(network=self.network).count()
        try:
            reversal = fees.post_reversal(network=self.network, original=posted, commission_minor=amount,
                                          idempotency_key=self.key("reversal"))
        except ValidationError:
            assert self.reversed[posted.pk] + amount > commission  # refused only when it would exceed (L6)
            assert LedgerEntry.objects.filter(network=self.network).count() == before
            return
        assert self.reversed[posted.pk] + amount <= commission
        self.reversed[posted.pk] += amount
        self.expected_approved[(affiliate, currency)] -= amount
        cost = reversal.entries.filter(account__kind="merchant_balance").aggregate(s=Sum("amount_minor"))["s"]
        self.expected_merchant[currency] -= cost
        if self.reversed[posted.pk] == commission:  # fully reversed: the whole fee came back, exactly
            assert fees.reversed_so_far(posted) == (commission, fee)

    @rule(amount=st.integers(1, 10**8), currency=st.sampled_from(CURRENCIES))
    def fund(self, amount: int, currency: str) -> None:
        services.record_merchant_funding(network=self.network, merchant_id=self.merchant.pk, amount_minor=amount,
                                         currency=currency, reference=self.key("bank"))
        self.expected_merchant[currency] += amount

    @rule(affiliate=st.integers(0, 1), currency=st.sampled_from(CURRENCIES), share=st.integers(1, 100))
    def reserve(self, affiliate: int, currency: str, share: int) -> None:
        available = self.expected_approved[(affiliate, currency)] - self.expected_reserved[(affiliate, currency)]
        amount = available * share // 100
        if amount <= 0:
            return
        ledger.post(network=self.network, idempotency_key=self.key("reserve"), kind=ledger.Kind.PAYOUT_RESERVE,
                    lines=ledger.payout_reserve_lines(network=self.network, affiliate=self.affiliates[affiliate],
                                                      amount_minor=amount, currency=currency))
        self.payouts.append({"affiliate": affiliate, "currency": currency, "amount": amount, "state": "reserved"})
        self.expected_reserved[(affiliate, currency)] += amount

    @precondition(lambda self: any(p["state"] in ("reserved", "settled") for p in self.payouts))
    @rule(data=st.data(), outcome=st.sampled_from(["settle", "void", "return"]))
    def resolve(self, data: st.DataObject, outcome: str) -> None:
        wanted = "settled" if outcome == "return" else "reserved"
        candidates = [p for p in self.payouts if p["state"] == wanted]
        if not candidates:
            return
        payout = data.draw(st.sampled_from(candidates))
        builder = {"settle": ledger.payout_settle_lines, "void": ledger.payout_void_lines,
                   "return": ledger.payout_return_lines}[outcome]
        kind = {"settle": ledger.Kind.PAYOUT_SETTLE, "void": ledger.Kind.PAYOUT_VOID,
                "return": ledger.Kind.PAYOUT_RETURN}[outcome]
        ledger.post(network=self.network, idempotency_key=self.key(outcome), kind=kind,
                    lines=builder(network=self.network, affiliate=self.affiliates[payout["affiliate"]],
                                  amount_minor=payout["amount"], currency=payout["currency"]))
        key = (payout["affiliate"], payout["currency"])
        if outcome == "settle":
            self.expected_reserved[key] -= payout["amount"]
            self.expected_approved[key] -= payout["amount"]
            self.expected_paid[key] += payout["amount"]
            payout["state"] = "settled"
        elif outcome == "void":
            self.expected_reserved[key] -= payout["amount"]
            payout["state"] = "voided"
        else:
            self.expected_approved[key] += payout["amount"]
            self.expected_paid[key] -= payout["amount"]
            payout["state"] = "returned"

    @invariant()
    def trial_balance_is_zero(self) -> None:
        if not hasattr(self, "network"):
            return
        assert all(total == 0 for total in selectors.trial_balance(network=self.network).values())
        unbalanced = (LedgerEntry.objects.filter(network=self.network).values("transaction_id", "currency")
                      .annotate(s=Sum("amount_minor")).exclude(s=0))
        assert list(unbalanced) == []

    @invariant()
    def balances_equal_the_model(self) -> None:
        if not hasattr(self, "network"):
            return
        found = {(self.affiliates.index(next(a for a in self.affiliates if a.pk == b.affiliate_id)), b.currency):
                 (b.approved_minor, b.reserved_minor, b.paid_minor, b.available_minor)
                 for b in selectors.affiliate_balances(network=self.network)}
        keys = set(found) | {k for k, v in self.expected_approved.items() if v} | {
            k for k, v in self.expected_paid.items() if v}
        for key in keys:
            approved, reserved = self.expected_approved[key], self.expected_reserved[key]
            assert found.get(key, (0, 0, 0, 0)) == (approved, reserved, self.expected_paid[key], approved - reserved)
            assert approved - reserved >= -(10**12)  # integers, never floats (L9)
        merchant = selectors.merchant_balances(network=self.network)
        for currency, value in self.expected_merchant.items():
            assert merchant.get((self.merchant.pk, currency), 0) == value
            money.validate_currency(currency)


LedgerMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=12, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])


@pytest.mark.django_db
def test_ledger_state_machine() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)
