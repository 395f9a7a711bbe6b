"""Property test: any sequence of conversions, approvals (by hand and by reconcile), partial and full
reversals, refunds and payouts keeps every transaction balanced, the trial balance at zero, and each
affiliate's balance equal to approved − reversed − paid."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from affiliates.models import Enrollment
from network import money
from payouts import ledger
from payouts import selectors as payout_selectors
from payouts.models import LedgerEntry
from tests import factories
from tests.tracking.factories import click_for
from tracking import lifecycle, reconcile, services
from tracking.models import Conversion

OCCURRED = datetime(2026, 1, 5, 12, tzinfo=UTC)
LATER = datetime(2026, 3, 1, tzinfo=UTC)


class LifecycleMachine(RuleBasedStateMachine):
    """An independent model of each affiliate's approved, reversed and paid commission."""

    @initialize()
    def set_up(self) -> None:
        self.network = factories.NetworkFactory()
        merchant = factories.MerchantFactory(network=self.network)
        self.program = factories.ProgramFactory(merchant=merchant, lock_days=30)
        factories.CommissionRuleFactory(program=self.program, rate=Decimal("7.5"))
        self.affiliates = [factories.AffiliateFactory(network=self.network) for _ in range(2)]
        self.links = []
        for affiliate in self.affiliates:
            enrollment = factories.EnrollmentFactory(program=self.program, affiliate=affiliate, network=self.network,
                                                     status=Enrollment.Status.APPROVED)
            self.links.append(factories.TrackingLinkFactory(enrollment=enrollment))
        self.counter = 0
        self.expected_approved: dict[int, int] = defaultdict(int)
        self.expected_paid: dict[int, int] = defaultdict(int)

    def conversions(self, *statuses: str) -> list[Conversion]:
        return list(Conversion.objects.for_network(self.network).filter(status__in=statuses).order_by("pk"))

    @rule(affiliate=st.integers(0, 1), amount=st.integers(0, 10**7))
    def convert(self, affiliate: int, amount: int) -> None:
        self.counter += 1
        click = click_for(self.links[affiliate], created_at=OCCURRED - timedelta(hours=1),
                          visitor_hash=f"v{self.counter}", ip_hash=f"i{self.counter}")
        services.record_conversion(program=self.program, order_id=f"O-{self.counter}",
                                   amount=money.to_major(amount, "USD"), currency="USD", source="api",
                                   click_id=click.click_id, occurred_at=OCCURRED, now=OCCURRED)

    def _approved(self, conversion: Conversion) -> None:
        self.expected_approved[conversion.affiliate_id] += conversion.commission_minor

    @precondition(lambda self: self.conversions("pending", "hold"))
    @rule(data=st.data())
    def approve_by_hand(self, data: st.DataObject) -> None:
        conversion = data.draw(st.sampled_from(self.conversions("pending", "hold")))
        if conversion.status == "hold":
            lifecycle.release_conversion(network=self.network, conversion_id=conversion.pk)
        lifecycle.approve_conversion(network=self.network, conversion_id=conversion.pk)
        self._approved(conversion)

    @rule()
    def run_reconcile(self) -> None:
        due = self.conversions("pending")
        reconcile.reconcile(now=LATER, network=self.network, chunk_size=3)
        for conversion in due:
            self._approved(conversion)

    @precondition(lambda self: self.conversions("pending"))
    @rule(data=st.data(), hold=st.booleans())
    def reject_or_hold(self, data: st.DataObject, hold: bool) -> None:
        conversion = data.draw(st.sampled_from(self.conversions("pending")))
        if hold:
            lifecycle.hold_conversion(network=self.network, conversion_id=conversion.pk, reason_code="fraud")
        else:
            lifecycle.reject_conversion(network=self.network, conversion_id=conversion.pk, reason_code="cancelled")

    def _reversed(self, before: Conversion) -> None:
        after = Conversion.objects.get(pk=before.pk)
        expected_total = before.commission_minor if after.reversed_amount_minor >= after.amount_minor else int(
            (Decimal(before.commission_minor) * after.reversed_amount_minor / Decimal(max(after.amount_minor, 1)))
            .quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        assert after.reversed_commission_minor == expected_total
        assert after.reversed_amount_minor <= after.amount_minor
        self.expected_approved[before.affiliate_id] -= after.reversed_commission_minor - before.reversed_commission_minor

    @precondition(lambda self: self.conversions("approved", "paid"))
    @rule(data=st.data(), whole=st.booleans())
    def reverse(self, data: st.DataObject, whole: bool) -> None:
        conversion = data.draw(st.sampled_from(self.conversions("approved", "paid")))
        remaining = conversion.amount_minor - conversion.reversed_amount_minor
        amount = None if whole or remaining <= 1 else data.draw(st.integers(1, remaining - 1))
        lifecycle.reverse_conversion(network=self.network, conversion_id=conversion.pk, amount_minor=amount)
        self._reversed(conversion)

    @precondition(lambda self: self.conversions("approved", "paid", "pending"))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        conversion = data.draw(st.sampled_from(self.conversions("approved", "paid", "pending")))
        self.counter += 1
        refunded = data.draw(st.integers(0, conversion.amount_minor))
        request, _ = services.request_reversal(conversion=conversion, source="stripe", external_ref=f"ch_{self.counter}",
                                               amount_minor=refunded, reason="refund")
        lifecycle.process_reversal_request(network=self.network, request_id=request.pk)
        if conversion.status in ("approved", "paid"):
            self._reversed(conversion)

    @rule(affiliate=st.integers(0, 1))
    def pay_out(self, affiliate: int) -> None:
        balance = payout_selectors.affiliate_balances(network=self.network,
                                                      affiliate_ids=[self.affiliates[affiliate].pk])
        available = balance[0].available_minor if balance else 0
        if available <= 0:
            return
        self.counter += 1
        owner = self.affiliates[affiliate]
        for kind, lines in ((ledger.Kind.PAYOUT_RESERVE, ledger.payout_reserve_lines),
                            (ledger.Kind.PAYOUT_SETTLE, ledger.payout_settle_lines)):
            ledger.post(network=self.network, idempotency_key=f"payout:{self.counter}:{kind}", kind=kind,
                        lines=lines(network=self.network, affiliate=owner, amount_minor=available, currency="USD"))
        ids = [c.pk for c in self.conversions("approved") if c.affiliate_id == owner.pk]
        lifecycle.mark_conversions_paid(network=self.network, conversion_ids=ids, payout_ref=f"payout:{self.counter}")
        self.expected_paid[owner.pk] += available

    @invariant()
    def books_are_exact(self) -> None:
        if not hasattr(self, "network"):
            return
        unbalanced = (LedgerEntry.objects.for_network(self.network).values("transaction_id", "currency")
                      .annotate(total=Sum("amount_minor")).exclude(total=0))
        assert list(unbalanced) == []
        assert all(total == 0 for total in payout_selectors.trial_balance(network=self.network).values())
        balances = {b.affiliate_id: b for b in payout_selectors.affiliate_balances(network=self.network)}
        for affiliate in self.affiliates:
            found = balances.get(affiliate.pk)
            approved = found.approved_minor if found else 0
            paid = found.paid_minor if found else 0
            assert approved == self.expected_approved[affiliate.pk] - self.expected_paid[affiliate.pk]
            assert paid == self.expected_paid[affiliate.pk]
            pending = sum(c.commission_minor for c in self.conversions("pending", "hold")
                          if c.affiliate_id == affiliate.pk)
            assert (found.pending_minor if found else 0) == pending


LifecycleMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=14, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow,
                                                                     HealthCheck.function_scoped_fixture])


@pytest.mark.django_db
def test_lifecycle_state_machine() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LifecycleMachine, settings=LifecycleMachine.TestCase.settings)
