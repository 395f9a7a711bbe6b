"""Pages: console ledger and funding, merchant billing, portal earnings; outsiders get 404."""

import pytest

from payouts import services
from payouts.models import MerchantFunding, NetworkBillingSettings
from tests import factories
from tests.payouts.helpers import approve, counts


@pytest.fixture
def staff(tenant, client):
    client.force_login(tenant.owner)
    return client


def test_console_ledger_shows_a_zero_trial_balance_and_accounts(tenant, staff, django_assert_max_num_queries):
    approve(tenant, key="c1", commission=1000, fee=200)
    for index in range(5):  # more accounts must not mean more queries
        approve(tenant, key=f"x{index}", commission=10, fee=0, affiliate=factories.AffiliateFactory(network=tenant.network))

    # 4 queries are the page's; the rest are the layout's session, tenancy and role switcher.
    with django_assert_max_num_queries(20):
        response = staff.get("/console/ledger/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Trial balance USD" in body and "Balanced" in body and "Out of balance" not in body
    assert tenant.merchant.name in body and tenant.affiliate.name in body


def test_console_ledger_is_empty_with_a_hint(staff):
    assert "Nothing posted yet" in staff.get("/console/ledger/").content.decode()


def test_console_funding_records_a_transfer(tenant, staff):
    response = staff.post("/console/funding/", {"funding-merchant": tenant.merchant.pk, "funding-amount": "250.00",
                                                "funding-currency": "usd", "funding-reference": "SEPA-1"})

    assert response.status_code == 302
    assert MerchantFunding.objects.get().amount_minor == 25000
    assert "SEPA-1" in staff.get("/console/funding/").content.decode()


def test_console_funding_refuses_bad_input_and_writes_nothing(tenant, staff):
    response = staff.post("/console/funding/", {"funding-merchant": tenant.merchant.pk, "funding-amount": "2.505",
                                                "funding-currency": "USD", "funding-reference": "SEPA-1"})

    assert response.status_code == 400
    assert "amount" in response.context["form"].errors
    assert counts() == (0, 0)


def test_console_funding_refuses_another_networks_merchant(tenant, other_tenant, staff):
    response = staff.post("/console/funding/", {"funding-merchant": other_tenant.merchant.pk,
                                                "funding-amount": "2.00", "funding-currency": "USD",
                                                "funding-reference": "SEPA-1"})

    assert response.status_code == 400
    assert "merchant" in response.context["form"].errors
    assert counts() == (0, 0)


def test_console_funding_saves_billing_settings(tenant, staff):
    response = staff.post("/console/funding/", {"billing-funding_horizon_days": "7",
                                                "billing-pause_unfunded_programs": "on"})

    assert response.status_code == 302
    saved = NetworkBillingSettings.objects.get(network=tenant.network)
    assert (saved.funding_horizon_days, saved.pause_unfunded_programs) == (7, True)


@pytest.mark.parametrize("path", ["/console/ledger/", "/console/funding/", "/console/invoices/"])
def test_console_pages_are_404_for_outsiders(tenant, other_tenant, client, path):
    client.force_login(tenant.merchant_user)
    assert client.get(path).status_code == 404
    client.force_login(other_tenant.merchant_user)
    assert client.get(path).status_code == 404


def test_merchant_billing_shows_balance_status_cost_and_invoices(tenant, client):
    services.record_merchant_funding(network=tenant.network, merchant_id=tenant.merchant.pk, amount_minor=50000,
                                     currency="USD", reference="B1")
    approve(tenant, key="c1", commission=1000, fee=200)
    other_merchant = factories.MerchantFactory(network=tenant.network, name="Rival Shop")
    services.record_merchant_funding(network=tenant.network, merchant_id=other_merchant.pk, amount_minor=777,
                                     currency="USD", reference="B2")
    client.force_login(tenant.merchant_user)

    body = client.get("/merchant/billing/").content.decode()

    assert "$488.00" in body  # 500.00 − 12.00
    assert "$12.00" in body  # average cost per conversion
    assert "Funded" in body
    assert "$7.77" not in body and "Rival Shop" not in body


def test_merchant_billing_is_404_for_an_affiliate(tenant, client):
    client.force_login(tenant.affiliate_user)
    assert client.get("/merchant/billing/").status_code == 404


def test_portal_earnings_shows_my_balances_only(tenant, client):
    approve(tenant, key="c1", commission=1234, fee=0)
    other = factories.AffiliateFactory(network=tenant.network)
    approve(tenant, key="c2", commission=9876, fee=0, affiliate=other)
    client.force_login(tenant.affiliate_user)

    body = client.get("/portal/earnings/").content.decode()

    assert "$12.34" in body and "$98.76" not in body


def test_portal_earnings_empty_state_and_outsiders(tenant, other_tenant, client):
    client.force_login(tenant.affiliate_user)
    assert "No earnings yet" in client.get("/portal/earnings/").content.decode()
    client.force_login(tenant.merchant_user)
    assert client.get("/portal/earnings/").status_code == 404
