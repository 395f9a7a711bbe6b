"""Terms gating on /c/<code>: after new terms, an approved affiliate's link credits nothing until accepted."""

import pytest

from affiliates import services as affiliate_services
from affiliates.models import Enrollment
from merchants import services as merchant_services
from merchants.models import Program
from tests.tracking.factories import link_for
from tests.tracking.test_click import click_id_of, visit
from tracking import clicks
from tracking.models import Click

pytestmark = pytest.mark.django_db


def _publish_new_terms(tenant) -> None:
    merchant_services.publish_terms(network=tenant.network, program_id=tenant.program.pk, actor=None,
                                    promotion_methods=[], ppc_brand_bidding=True, coupon_sites=True, text="v2")


def _let_version_check_run(monkeypatch) -> None:
    # What VERSION_CHECK_SECONDS does by itself: the next click re-reads the cached programs' versions.
    monkeypatch.setattr(clicks, "_versions_checked_at", 0.0)


def test_new_terms_stop_crediting_until_accepted_and_cache_version_makes_it_visible(tenant, monkeypatch):
    Program.objects.filter(pk=tenant.program.pk).update(landing_url="https://shop.example.com/home")
    link = link_for(tenant)
    assert click_id_of(visit(f"/c/{link.code}")) is not None  # warm: the entry is cached in this process
    assert Click.objects.count() == 1

    _publish_new_terms(tenant)
    assert Program.objects.get(pk=tenant.program.pk).terms_version == 2
    _let_version_check_run(monkeypatch)
    response = visit(f"/c/{link.code}?to=https://shop.example.com/deep")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/home"  # the landing page, like a paused program
    assert click_id_of(response) is None
    assert not response.cookies
    assert Click.objects.count() == 1

    enrollment = Enrollment.objects.get(pk=link.enrollment_id)
    affiliate_services.accept_terms(network=tenant.network, enrollment_id=enrollment.pk,
                                    affiliate_id=tenant.affiliate.pk)
    _let_version_check_run(monkeypatch)
    response = visit(f"/c/{link.code}", REMOTE_ADDR="81.2.69.160")  # another visitor: not a duplicate
    assert click_id_of(response) == Click.objects.order_by("-id").first().click_id
    assert Click.objects.count() == 2


def test_link_never_accepted_is_not_credited(tenant):
    link = link_for(tenant)
    Enrollment.objects.filter(pk=link.enrollment_id).update(accepted_terms_version=None)
    response = visit(f"/c/{link.code}")
    assert click_id_of(response) is None
    assert Click.objects.count() == 0


def test_cached_entry_without_version_bump_is_kept(tenant, monkeypatch):
    """The gate is read through the cache: a raw change without a version bump waits for LINK_CACHE_SECONDS."""
    link = link_for(tenant)
    assert click_id_of(visit(f"/c/{link.code}")) is not None
    Program.objects.filter(pk=tenant.program.pk).update(terms_version=2)  # no cache_version bump
    _let_version_check_run(monkeypatch)
    assert click_id_of(visit(f"/c/{link.code}")) is not None
    Program.objects.filter(pk=tenant.program.pk).update(cache_version=tenant.program.cache_version + 1)
    _let_version_check_run(monkeypatch)
    assert click_id_of(visit(f"/c/{link.code}")) is None
    assert Click.objects.count() == 2
