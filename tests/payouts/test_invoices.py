"""Invoices: issued per merchant, month and currency from ledger entries; numbered without gaps; idempotent."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from payouts import fees, services, tasks
from payouts.models import Invoice, InvoiceLine
from tests import factories
from tests.payouts.helpers import approve


def at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
def march(tenant):
    """Two approvals in March 2026, one in April; a partial reversal posted today (the current month)."""
    first = approve(tenant, key="c1", commission=1000, fee=200, occurred_at=at(3))
    approve(tenant, key="c2", commission=500, fee=100, occurred_at=at(20))
    reversal = fees.post_reversal(network=tenant.network, original=first, commission_minor=500,
                                  idempotency_key="c1:partial")
    assert reversal.occurred_at.year >= 2026
    approve(tenant, key="c3", commission=999, fee=1, occurred_at=at(2, month=4))
    return tenant


def test_issue_builds_lines_from_the_ledger(march):
    tenant = march

    [invoice] = services.issue_invoices(network=tenant.network, period=date(2026, 3, 1),
                                        now=at(1, month=5))

    assert (invoice.number, invoice.commission_minor, invoice.fee_minor, invoice.total_minor) == (1, 1500, 300, 1800)
    assert (invoice.period_start, invoice.period_end, invoice.currency) == (date(2026, 3, 1), date(2026, 4, 1), "USD")
    assert list(invoice.lines.values_list("kind", "transactions", "commission_minor", "fee_minor")) == [
        ("approval", 2, 1500, 300)]


def test_issuing_twice_issues_nothing_new(march):
    services.issue_invoices(network=march.network, period=date(2026, 3, 1))

    assert services.issue_invoices(network=march.network, period=date(2026, 3, 15)) == []
    assert Invoice.objects.count() == 1


def test_numbers_are_sequential_per_network(march, other_tenant):
    second_merchant = factories.MerchantFactory(network=march.network)
    approve(march, key="m2", commission=100, fee=10, merchant=second_merchant, occurred_at=at(5))
    approve(other_tenant, key="o1", commission=100, fee=10, occurred_at=at(5))

    issued = services.issue_invoices(network=march.network, period=date(2026, 3, 1))
    april = services.issue_invoices(network=march.network, period=date(2026, 4, 1))
    theirs = services.issue_invoices(network=other_tenant.network, period=date(2026, 3, 1))

    assert [invoice.number for invoice in issued + april] == [1, 2, 3]
    assert [invoice.number for invoice in theirs] == [1]


def test_a_month_that_has_not_ended_is_refused(march):
    with pytest.raises(ValidationError) as raised:
        services.issue_invoices(network=march.network, period=date(2026, 4, 1), now=at(15, month=4))

    assert list(raised.value.message_dict) == ["period"]
    assert Invoice.objects.count() == 0 and InvoiceLine.objects.count() == 0


def test_reversals_in_the_period_are_credited(tenant):
    first = approve(tenant, key="c1", commission=1000, fee=200)
    fees.post_reversal(network=tenant.network, original=first, commission_minor=250, idempotency_key="r")
    today = first.occurred_at.date()

    [invoice] = services.issue_invoices(network=tenant.network, period=today)

    assert list(invoice.lines.order_by("kind").values_list("kind", "commission_minor", "fee_minor", "total_minor")) == [
        ("approval", 1000, 200, 1200), ("reversal", -250, -50, -300)]
    assert invoice.total_minor == 900


def test_task_issues_the_given_month(march):
    tasks.issue_invoices.delay(march.network.pk, "2026-03-10")

    assert Invoice.objects.get().total_minor == 1800


def invoice_for(tenant):
    approve(tenant, key="c1", commission=1000, fee=200, occurred_at=at(3))
    [invoice] = services.issue_invoices(network=tenant.network, period=date(2026, 3, 1))
    return invoice


def test_api_merchant_reads_its_own_invoices(tenant, merchant_api, django_assert_max_num_queries):
    invoice = invoice_for(tenant)

    with django_assert_max_num_queries(8):
        response = merchant_api.get("/api/v1/invoices/")

    [row] = response.json()["results"]
    assert (row["id"], row["number"], row["total"], row["lines"][0]["fee"]) == (invoice.pk, "2026-000001",
                                                                                 "12.00", "2.00")


def test_api_invoices_of_another_merchant_or_network_are_404(tenant, other_tenant):
    invoice = invoice_for(tenant)
    other = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    from rest_framework.test import APIClient

    from network.models import ApiKey

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + factories.api_key_for(
        network=tenant.network, user=other.user, kind=ApiKey.ActorKind.MERCHANT, actor_id=other.merchant.pk))

    assert client.get(f"/api/v1/invoices/{invoice.pk}/").status_code == 404
    assert client.get("/api/v1/invoices/").json()["results"] == []
    assert other_tenant.client_for("staff").get(f"/api/v1/invoices/{invoice.pk}/").status_code == 404


def test_invoice_pages_and_csv(tenant, client):
    invoice = invoice_for(tenant)
    client.force_login(tenant.merchant_user)

    page = client.get(f"/merchant/invoices/{invoice.pk}/")
    download = client.get(f"/merchant/invoices/{invoice.pk}/csv/")

    assert page.status_code == 200 and "2026-000001" in page.content.decode()
    body = b"".join(download.streaming_content).decode()
    assert download["Content-Type"].startswith("text/csv")
    assert body.splitlines()[1] == (f"2026-000001,2026-03-01,2026-04-01,{tenant.program.pk},approval,"
                                    f"{tenant.program.name} · Commission approved,1,10.00,2.00,12.00,USD")
    assert body.splitlines()[-1] == "2026-000001,2026-03-01,2026-04-01,,total,,,10.00,2.00,12.00,USD"
    client.force_login(tenant.owner)
    assert client.get(f"/console/invoices/{invoice.pk}/").status_code == 200
    assert client.get(f"/console/invoices/{invoice.pk}/csv/").status_code == 200
    assert "2026-000001" in client.get("/console/invoices/").content.decode()


def test_invoice_pages_of_another_merchant_or_network_are_404(tenant, other_tenant, client):
    invoice = invoice_for(tenant)
    other = factories.MerchantMembershipFactory(merchant__network=tenant.network)

    client.force_login(other.user)
    assert client.get(f"/merchant/invoices/{invoice.pk}/").status_code == 404
    assert client.get(f"/merchant/invoices/{invoice.pk}/csv/").status_code == 404
    client.force_login(other_tenant.owner)
    assert client.get(f"/console/invoices/{invoice.pk}/").status_code == 404
