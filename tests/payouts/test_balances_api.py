"""GET /api/v1/balances/: an affiliate sees its own, staff everyone's, a merchant its balance; outsiders nothing."""

from payouts import fees, ledger, services
from tests import factories
from tests.payouts.helpers import approve


def test_affiliate_sees_its_own_balances_per_currency(tenant, affiliate_api):
    approve(tenant, key="c1", commission=1250, fee=250)
    approve(tenant, key="c2", commission=500, fee=0, currency="EUR")
    ledger.post(network=tenant.network, idempotency_key="p1", kind=ledger.Kind.PAYOUT_RESERVE,
                lines=ledger.payout_reserve_lines(network=tenant.network, affiliate=tenant.affiliate,
                                                  amount_minor=1000, currency="USD"))

    response = affiliate_api.get("/api/v1/balances/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"affiliate": tenant.affiliate.pk, "currency": "EUR", "pending": "0.00", "approved": "5.00", "paid": "0.00",
         "available": "5.00", "reserved": "0.00"},
        {"affiliate": tenant.affiliate.pk, "currency": "USD", "pending": "0.00", "approved": "12.50",
         "paid": "0.00", "available": "2.50", "reserved": "10.00"},
    ]


def test_pending_comes_from_a_registered_source(tenant, affiliate_api, monkeypatch):
    from payouts import selectors

    monkeypatch.setattr(selectors, "_pending_sources", [
        lambda network, ids: {(tenant.affiliate.pk, "USD"): 777} if network == tenant.network else {}])

    response = affiliate_api.get("/api/v1/balances/")

    assert response.json()["results"][0]["pending"] == "7.77"


def test_another_affiliate_of_the_network_sees_none_of_mine(tenant):
    approve(tenant, key="c1", commission=1250, fee=250)
    other = factories.AffiliateMembershipFactory(affiliate__network=tenant.network)
    from rest_framework.test import APIClient

    from network.models import ApiKey

    client = APIClient()
    key = factories.api_key_for(network=tenant.network, user=other.user, kind=ApiKey.ActorKind.AFFILIATE,
                                actor_id=other.affiliate.pk)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = client.get("/api/v1/balances/", {"affiliate": tenant.affiliate.pk})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_other_network_staff_see_nothing_of_mine(tenant, other_tenant):
    approve(tenant, key="c1", commission=1250, fee=250)

    response = other_tenant.client_for("staff").get("/api/v1/balances/", {"affiliate": tenant.affiliate.pk})

    assert response.json()["results"] == []


def test_staff_see_all_and_filter_by_affiliate(tenant, staff_api, django_assert_max_num_queries):
    second = factories.AffiliateFactory(network=tenant.network)
    approve(tenant, key="c1", commission=1000, fee=0)
    approve(tenant, key="c2", commission=300, fee=0, affiliate=second)

    with django_assert_max_num_queries(8):
        everyone = staff_api.get("/api/v1/balances/").json()["results"]
    filtered = staff_api.get("/api/v1/balances/", {"affiliate": second.pk}).json()["results"]

    assert [(row["affiliate"], row["approved"]) for row in everyone] == sorted(
        [(tenant.affiliate.pk, "10.00"), (second.pk, "3.00")])
    assert [(row["affiliate"], row["approved"]) for row in filtered] == [(second.pk, "3.00")]


def test_a_bad_filter_is_a_400_naming_the_field(staff_api):
    response = staff_api.get("/api/v1/balances/", {"affiliate": "abc"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["affiliate"]


def test_merchant_sees_its_prepaid_balance(tenant, merchant_api):
    services.record_merchant_funding(network=tenant.network, merchant_id=tenant.merchant.pk, amount_minor=100000,
                                     currency="USD", reference="BANK-1")
    approve(tenant, key="c1", commission=1000, fee=200)
    other_merchant = factories.MerchantFactory(network=tenant.network)
    services.record_merchant_funding(network=tenant.network, merchant_id=other_merchant.pk, amount_minor=5,
                                     currency="USD", reference="BANK-2")

    response = merchant_api.get("/api/v1/balances/", {"merchant": other_merchant.pk})

    assert response.json()["results"] == [{"merchant": tenant.merchant.pk, "currency": "USD", "balance": "988.00"}]


def test_reversal_after_payout_leaves_a_negative_balance_that_nets_off(tenant, affiliate_api):
    network, affiliate = tenant.network, tenant.affiliate
    original = approve(tenant, key="c1", commission=1000, fee=0)
    for key, builder, kind in [("r", ledger.payout_reserve_lines, ledger.Kind.PAYOUT_RESERVE),
                               ("s", ledger.payout_settle_lines, ledger.Kind.PAYOUT_SETTLE)]:
        ledger.post(network=network, idempotency_key=key, kind=kind,
                    lines=builder(network=network, affiliate=affiliate, amount_minor=1000, currency="USD"))
    fees.post_reversal(network=network, original=original, commission_minor=400, idempotency_key="refund")

    assert affiliate_api.get("/api/v1/balances/").json()["results"][0]["available"] == "-4.00"
    approve(tenant, key="c2", commission=1000, fee=0)
    row = affiliate_api.get("/api/v1/balances/").json()["results"][0]
    assert (row["approved"], row["available"], row["paid"]) == ("6.00", "6.00", "10.00")
