"""Coupons: merchants assign normalised, per-program unique codes to approved affiliates."""

import pytest

from affiliates import selectors
from affiliates.models import Coupon
from tests import factories
from tests.affiliates.factories import CouponFactory
from tests.affiliates.helpers import second_affiliate, second_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrollment(tenant):
    return factories.EnrollmentFactory(program=tenant.program, affiliate=tenant.affiliate)


def test_merchant_assigns_a_coupon_stored_upper_case(tenant, enrollment, merchant_api):
    response = merchant_api.post("/api/v1/coupons/", {"program": tenant.program.pk,
                                                      "affiliate": tenant.affiliate.pk, "code": " summer-10 "},
                                 format="json")

    assert response.status_code == 201
    assert response.json()["code"] == "SUMMER-10"
    coupon = selectors.coupon_for_code(network=tenant.network, program_id=tenant.program.pk, code="Summer-10")
    assert coupon.affiliate == tenant.affiliate


def test_codes_are_unique_per_program_in_any_case(tenant, enrollment, merchant_api):
    CouponFactory(program=tenant.program, affiliate=tenant.affiliate, code="SUMMER10")

    response = merchant_api.post("/api/v1/coupons/", {"program": tenant.program.pk,
                                                      "affiliate": tenant.affiliate.pk, "code": "summer10"},
                                 format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["code"]
    assert Coupon.objects.count() == 1


@pytest.mark.parametrize(("change", "field"), [({"code": "a"}, "code"), ({"code": "no spaces"}, "code"),
                                                ({"affiliate": 999999}, "affiliate"),
                                                ({"program": 999999}, "program")])
def test_bad_input_names_the_field_and_creates_nothing(tenant, enrollment, merchant_api, change, field):
    body = {"program": tenant.program.pk, "affiliate": tenant.affiliate.pk, "code": "GOOD10", **change}

    response = merchant_api.post("/api/v1/coupons/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Coupon.objects.count() == 0


def test_the_affiliate_must_be_approved_in_the_program(tenant, merchant_api):
    other_affiliate, _ = second_affiliate(tenant)

    response = merchant_api.post("/api/v1/coupons/", {"program": tenant.program.pk,
                                                      "affiliate": other_affiliate.pk, "code": "GOOD10"},
                                 format="json")

    assert list(response.json()["error"]["fields"]) == ["affiliate"]
    assert Coupon.objects.count() == 0


def test_another_merchant_cannot_assign_or_see_coupons_of_my_program(tenant, enrollment):
    coupon = CouponFactory(program=tenant.program, affiliate=tenant.affiliate)
    _, _, rival_api = second_merchant(tenant)

    response = rival_api.post("/api/v1/coupons/", {"program": tenant.program.pk, "affiliate": tenant.affiliate.pk,
                                                   "code": "STEAL10"}, format="json")

    assert list(response.json()["error"]["fields"]) == ["program"]
    assert rival_api.get(f"/api/v1/coupons/{coupon.pk}/").status_code == 404
    assert Coupon.objects.count() == 1


def test_affiliates_read_own_coupons_only_and_cannot_create(tenant, other_tenant, enrollment, affiliate_api):
    coupon = CouponFactory(program=tenant.program, affiliate=tenant.affiliate)
    _, other_api = second_affiliate(tenant)

    assert [row["code"] for row in affiliate_api.get("/api/v1/coupons/").json()["results"]] == [coupon.code]
    assert other_api.get(f"/api/v1/coupons/{coupon.pk}/").status_code == 404
    assert other_tenant.client_for("staff").get(f"/api/v1/coupons/{coupon.pk}/").status_code == 404
    assert affiliate_api.post("/api/v1/coupons/", {"program": tenant.program.pk, "affiliate": tenant.affiliate.pk,
                                                   "code": "SELF10"}, format="json").status_code == 403
