"""Merchant funding: service, API (staff only, idempotent by reference), funding status, refresh task."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from merchants.models import Program
from network.models import AuditEvent
from payouts import selectors, services, tasks
from payouts.models import MerchantFunding, NetworkBillingSettings
from tests import factories
from tests.payouts.helpers import approve, counts


def fund(tenant, amount=100000, reference="BANK-1", merchant=None):
    return services.record_merchant_funding(network=tenant.network, merchant_id=(merchant or tenant.merchant).pk,
                                            amount_minor=amount, currency="USD", reference=reference)


def test_funding_credits_the_merchant_balance_once_per_reference(tenant):
    first, created = fund(tenant)
    again, created_again = fund(tenant)

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert selectors.merchant_balances(network=tenant.network) == {(tenant.merchant.pk, "USD"): 100000}
    assert counts() == (1, 2)
    assert AuditEvent.objects.filter(action="merchant.funded").count() == 1


def test_a_reused_reference_with_other_details_is_refused(tenant):
    fund(tenant)

    with pytest.raises(ValidationError) as raised:
        fund(tenant, amount=5)

    assert list(raised.value.message_dict) == ["reference"]
    assert counts() == (1, 2)


def test_api_records_a_bank_transfer(tenant, staff_api):
    response = staff_api.post("/api/v1/merchant-funding/", {
        "merchant": tenant.merchant.pk, "amount": "1500.00", "currency": "USD", "reference": "SEPA-42"},
        format="json")
    replay = staff_api.post("/api/v1/merchant-funding/", {
        "merchant": tenant.merchant.pk, "amount": "1500.00", "currency": "USD", "reference": "SEPA-42"},
        format="json")

    assert response.status_code == 201
    assert response.json()["amount"] == "1500.00"
    assert replay.status_code == 200 and replay.json()["id"] == response.json()["id"]
    assert MerchantFunding.objects.get().amount_minor == 150000


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": "-1.00"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"currency": "XXQ"}, "currency"),
    ({"reference": ""}, "reference"),
])
def test_api_refuses_bad_input_and_writes_nothing(tenant, staff_api, body, field):
    payload = {"merchant": tenant.merchant.pk, "amount": "10.00", "currency": "USD", "reference": "R", **body}

    response = staff_api.post("/api/v1/merchant-funding/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert counts() == (0, 0)
    assert MerchantFunding.objects.count() == 0


def test_api_refuses_a_merchant_of_another_network(tenant, other_tenant, staff_api):
    response = staff_api.post("/api/v1/merchant-funding/", {
        "merchant": other_tenant.merchant.pk, "amount": "10.00", "currency": "USD", "reference": "R"},
        format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["merchant"]
    assert counts() == (0, 0)


def test_funding_api_is_staff_only_and_per_network(tenant, other_tenant, merchant_api, affiliate_api):
    fund(tenant)

    assert merchant_api.post("/api/v1/merchant-funding/", {}, format="json").status_code == 403
    assert affiliate_api.get("/api/v1/merchant-funding/").status_code == 403
    outsider = other_tenant.client_for("staff")
    assert outsider.get("/api/v1/merchant-funding/").json()["results"] == []
    assert outsider.get(f"/api/v1/merchant-funding/{MerchantFunding.objects.get().pk}/").status_code == 404


def test_funding_status_funded_low_unfunded(tenant):
    now = timezone.now()
    program = tenant.program
    assert selectors.funding_status_for_programs(tenant.network, [program.pk], now=now) == {program.pk: "unfunded"}
    # 30 days of history: 30 approvals of 10.00 + 2.00 fee = 360.00 → 12.00 a day → 168.00 for 14 days.
    for day in range(30):
        approve(tenant, key=f"c{day}", commission=1000, fee=200, occurred_at=now - timedelta(days=day, hours=1))
    fund(tenant, amount=36000 + 16800)  # leaves exactly 168.00
    assert selectors.funding_status_for_programs(tenant.network, [program.pk], now=now) == {program.pk: "funded"}
    approve(tenant, key="extra", commission=1, fee=0, occurred_at=now + timedelta(seconds=1))
    assert selectors.funding_status_for_programs(tenant.network, [program.pk], now=now) == {program.pk: "low"}


def test_funding_status_is_set_based(tenant, django_assert_max_num_queries):
    programs = [factories.ProgramFactory(merchant=tenant.merchant) for _ in range(5)]
    fund(tenant)

    # 4 for the ledger's figures + 1 for the pending commission tracking registers; none per program.
    with django_assert_max_num_queries(5):
        statuses = selectors.funding_status_for_programs(tenant.network, [p.pk for p in programs])

    assert set(statuses.values()) == {"funded"}


def test_funding_status_ignores_programs_of_other_networks(tenant, other_tenant):
    assert selectors.funding_status_for_programs(tenant.network, [other_tenant.program.pk]) == {}


def test_refresh_pauses_exhausted_programs_only_when_the_network_opted_in(tenant):
    tasks.refresh_funding_status.delay(tenant.network.pk)
    tenant.program.refresh_from_db()
    assert tenant.program.status == Program.Status.ACTIVE

    NetworkBillingSettings.objects.create(network=tenant.network, pause_unfunded_programs=True)
    funded = factories.ProgramFactory(merchant=factories.MerchantFactory(network=tenant.network))
    fund(tenant, merchant=funded.merchant)
    tasks.refresh_funding_status.delay(tenant.network.pk)

    tenant.program.refresh_from_db()
    funded.refresh_from_db()
    assert (tenant.program.status, funded.status) == (Program.Status.PAUSED, Program.Status.ACTIVE)
    assert AuditEvent.objects.filter(action="program.paused_unfunded").count() == 1


def test_refresh_stores_the_status_on_program_metrics(tenant):
    from django.apps import apps

    metrics = apps.get_model("affiliates", "ProgramMetrics")
    second = factories.ProgramFactory(merchant=factories.MerchantFactory(network=tenant.network))
    metrics.objects.create(network=tenant.network, program=second, funding_status="unknown")
    fund(tenant, merchant=second.merchant)

    services.refresh_funding_status(network=tenant.network)

    assert dict(metrics.objects.values_list("program_id", "funding_status")) == {
        tenant.program.pk: "unfunded", second.pk: "funded"}
