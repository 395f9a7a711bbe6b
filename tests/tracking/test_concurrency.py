"""50 identical concurrent conversion posts create exactly one conversion (PostgreSQL, real transactions)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.tracking.factories import click_for, link_for
from tracking import services
from tracking.models import Conversion, ConversionEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"),
]


def test_fifty_concurrent_identical_posts_create_one_conversion(tenant):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    barrier = threading.Barrier(50)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            conversion, created = services.record_conversion(
                program=tenant.program, order_id="RACE-1", amount="10.00", currency="USD", source="api",
                click_id=click.click_id)
            results.append((conversion.pk, created))
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Conversion.objects.count() == 1
    assert ConversionEvent.objects.count() == 1
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(results) == 50


def test_fifty_concurrent_api_posts_answer_201_once(tenant):
    click = click_for(link_for(tenant), created_at=timezone.now() - timedelta(hours=1))
    clients = [tenant.client_for("merchant") for _ in range(50)]
    barrier = threading.Barrier(50)
    codes: list[int] = []
    bodies: list[dict] = []

    def post(client) -> None:
        try:
            barrier.wait()
            response = client.post("/api/v1/conversions/", {
                "program": tenant.program.pk, "order_id": "RACE-API", "amount": "10.00", "currency": "USD",
                "click_id": click.click_id}, format="json")
            codes.append(response.status_code)
            bodies.append(response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 49 + [201]
    assert all(body == bodies[0] for body in bodies)
    assert Conversion.objects.count() == 1
