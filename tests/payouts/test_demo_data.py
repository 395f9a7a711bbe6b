"""payouts.demo_data: funds the demo merchants once, whatever else is (not yet) loaded."""

from payouts import demo_data, selectors
from payouts.models import MerchantFunding


def test_demo_funding_is_deterministic_and_idempotent(tenant):
    context = {"network": tenant.network}

    demo_data.load(context)
    demo_data.load(context)

    assert MerchantFunding.objects.count() == 1
    assert selectors.merchant_balances(network=tenant.network) == {(tenant.merchant.pk, "USD"): 500000}


def test_demo_without_a_network_does_nothing(db):
    demo_data.load({})

    assert MerchantFunding.objects.count() == 0
