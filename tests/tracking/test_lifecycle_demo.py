"""tracking.demo_data lifecycle part: reconciles, one declined test order, one partial return, one claim; idempotent."""

import pytest

from payouts import selectors as payout_selectors
from tests.tracking.factories import link_for
from tests.tracking.lifecycle_helpers import snapshot
from tracking import demo_data
from tracking.models import Conversion, ConversionClaim

pytestmark = pytest.mark.django_db


def test_demo_lifecycle_is_idempotent(tenant):
    context = {"network": tenant.network, "links": [link_for(tenant)]}
    demo_data.load(context)
    first = snapshot(), ConversionClaim.objects.count()
    demo_data.load(context)
    assert (snapshot(), ConversionClaim.objects.count()) == first
    demo = Conversion.objects.filter(order_id__startswith="DEMO-")
    assert demo.filter(status="approved").exists()
    assert demo.filter(reason_code="test_order", status="rejected").count() == 1
    assert demo.filter(reversal_count=1).count() == 1
    assert ConversionClaim.objects.filter(status="open").count() == 1
    assert payout_selectors.trial_balance(network=tenant.network) == {"USD": 0}
