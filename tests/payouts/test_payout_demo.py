"""payouts.demo_data: profiles and one paid sandbox batch, idempotent, safe without context."""

import pytest

from payouts import demo_data
from payouts.models import Payout, PayoutBatch, PayoutProfile
from tests import factories
from tests.payouts.payout_helpers import assert_ledger_sound

pytestmark = pytest.mark.django_db


def test_demo_payouts_are_idempotent_and_leave_a_paid_batch(tenant):
    factories.EnrollmentFactory(affiliate=tenant.affiliate, program=tenant.program)
    paypal = factories.AffiliateFactory(network=tenant.network, name="Zed PayPal")
    context = {"network": tenant.network, "affiliates": [tenant.affiliate, paypal]}

    demo_data.load(context)
    demo_data.load(context)

    assert sorted(PayoutProfile.objects.values_list("method", flat=True)) == ["paypal", "sandbox"]
    batch = PayoutBatch.objects.get()
    assert batch.status == "completed"
    assert list(Payout.objects.values_list("affiliate_id", "status")) == [(tenant.affiliate.pk, "paid")]
    assert_ledger_sound(tenant.network)


def test_demo_payouts_without_context_do_nothing(db):
    demo_data.load_payouts({})
    demo_data.load_payouts({"network": None})

    assert PayoutProfile.objects.count() == 0
