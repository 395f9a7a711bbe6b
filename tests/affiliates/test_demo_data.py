"""The demo loader: affiliates from several countries, enrolled, with links; idempotent."""

import pytest

from affiliates import demo_data
from affiliates.models import Affiliate, Coupon, Enrollment, TrackingLink
from tests import factories

pytestmark = pytest.mark.django_db


def test_demo_affiliates_are_enrolled_with_links_and_loading_twice_adds_nothing(tenant):
    second = factories.ProgramFactory(merchant=tenant.merchant)

    def load():
        context = {"network": tenant.network, "password": "pw-demo", "logins": [], "programs": {"a": tenant.program,
                                                                                                "b": second}}
        demo_data.load(context)
        return context

    context = load()
    counts = (Affiliate.objects.count(), Enrollment.objects.count(), TrackingLink.objects.count(),
              Coupon.objects.count())
    load()

    assert ("affiliate (Wanderlust Travel Blog, DE)", "affiliate@wanderlust.demo") in context["logins"]
    assert sorted(a.country.code for a in context["affiliates"].values()) == ["BR", "DE", "GB", "US", "VN"]
    assert counts == (6, 10, 18, 2)  # one application (Canal Aventura, last program) waits for review
    assert (Affiliate.objects.count(), Enrollment.objects.count(), TrackingLink.objects.count(),
            Coupon.objects.count()) == counts
    assert len(context["links"]) == 18


def test_demo_without_programs_in_context_reads_them_back(tenant):
    context = {"network": tenant.network, "password": "pw-demo", "logins": []}

    demo_data.load(context)

    assert Enrollment.objects.filter(program=tenant.program).count() == 5
