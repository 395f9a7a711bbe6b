"""The outbox, routing, retries with exact backoff, no retry on 4xx, dead letters, redelivery."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from django.db import transaction

from tests.webhooks.factories import WebhookDeliveryFactory, WebhookEndpointFactory
from webhooks import outbox, services
from webhooks.models import DeliveryAttempt, DeliveryStatus, OutboxEvent, OwnerKind, WebhookDelivery

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://hooks.example.com/receive"


def test_the_backoff_schedule_is_exact():
    assert [services.retry_delay_seconds(n) for n in range(1, 7)] == [60, 240, 960, 3840, 15360, 61440]
    assert services.MAX_ATTEMPTS == 7


@pytest.mark.django_db
def test_emit_routes_to_staff_the_merchant_and_the_affiliate_subscribed(tenant, other_tenant,
                                                                        django_capture_on_commit_callbacks):
    network = tenant.network
    staff = WebhookEndpointFactory(network=network, event_types=["conversion.created"])
    WebhookEndpointFactory(network=network, event_types=["payout.paid"])  # not subscribed
    WebhookEndpointFactory(network=network, event_types=["conversion.created"], is_active=False)
    merchant = WebhookEndpointFactory(network=network, owner_kind=OwnerKind.MERCHANT, owner_id=tenant.merchant.pk,
                                      event_types=["conversion.created"])
    WebhookEndpointFactory(network=network, owner_kind=OwnerKind.MERCHANT, owner_id=tenant.merchant.pk + 1000,
                           event_types=["conversion.created"])  # another merchant
    affiliate = WebhookEndpointFactory(network=network, owner_kind=OwnerKind.AFFILIATE,
                                       owner_id=tenant.affiliate.pk, event_types=["conversion.created"])
    WebhookEndpointFactory(network=other_tenant.network, event_types=["conversion.created"])  # other network

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        event = outbox.emit(network=network, event_type="conversion.created", payload={"id": 7},
                            merchant_id=tenant.merchant.pk, affiliate_id=tenant.affiliate.pk,
                            idempotency_key="conversion:7:created")

    assert set(WebhookDelivery.objects.filter(event=event).values_list("endpoint_id", flat=True)) == {
        staff.pk, merchant.pk, affiliate.pk}
    assert len(callbacks) == 1
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 3


@pytest.mark.django_db
def test_emit_with_the_same_idempotency_key_writes_once(network):
    WebhookEndpointFactory(network=network)
    with transaction.atomic():
        first = outbox.emit(network=network, event_type="payout.paid", payload={"a": 1}, idempotency_key="payout:1")
    with transaction.atomic():
        again = outbox.emit(network=network, event_type="payout.paid", payload={"a": 2}, idempotency_key="payout:1")
    assert again.pk == first.pk
    assert OutboxEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_a_rolled_back_change_emits_nothing(network):
    WebhookEndpointFactory(network=network)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        outbox.emit(network=network, event_type="payout.paid", payload={}, idempotency_key="payout:2")
        raise Boom
    assert OutboxEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_event_type_is_refused(network):
    with pytest.raises(ValueError):
        outbox.emit(network=network, event_type="conversion.eaten", payload={}, idempotency_key="x")
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_three_failures_then_success_is_delivered_exactly_once_more_and_logged(allow_private):
    delivery = WebhookDeliveryFactory(endpoint__url=URL, next_attempt_at=NOW)
    answers = [httpx.Response(500, text="down"), httpx.ConnectError("refused"), httpx.Response(503),
               httpx.Response(200, text="thanks")]
    with respx.mock() as router:
        route = router.post(URL).mock(side_effect=answers)
        moments = [NOW, NOW + timedelta(seconds=60), NOW + timedelta(seconds=60 + 240),
                   NOW + timedelta(seconds=60 + 240 + 960)]
        schedule = []
        for moment in moments:
            # Too early: nothing is sent before the backoff has passed.
            assert services.dispatch_due_deliveries(now=moment - timedelta(seconds=1)) == 0
            assert services.dispatch_due_deliveries(now=moment) == 1
            delivery.refresh_from_db()
            schedule.append((delivery.status, delivery.attempts, delivery.next_attempt_at))
        # Later runs send nothing more.
        assert services.dispatch_due_deliveries(now=NOW + timedelta(days=3)) == 0
        assert services.attempt_webhook_delivery(delivery_id=delivery.pk, now=NOW + timedelta(days=3)) is None
    assert route.call_count == 4
    assert schedule == [
        (DeliveryStatus.PENDING, 1, moments[1]),
        (DeliveryStatus.PENDING, 2, moments[2]),
        (DeliveryStatus.PENDING, 3, moments[3]),
        (DeliveryStatus.DELIVERED, 4, None),
    ]
    assert delivery.delivered_at == moments[3]
    assert delivery.last_status_code == 200
    assert delivery.response_excerpt == "thanks"
    log = list(DeliveryAttempt.objects.filter(webhook_delivery=delivery).values_list(
        "attempted_at", "status_code", "outcome"))
    assert log == [(moments[0], 500, "pending"), (moments[1], None, "pending"), (moments[2], 503, "pending"),
                   (moments[3], 200, "delivered")]
    # The same event id went out every time, so the receiver can deduplicate.
    assert {call.request.headers["webhook-id"] for call in route.calls} == {delivery.event.public_id}


@pytest.mark.django_db
@pytest.mark.parametrize("code", [400, 401, 404, 410, 422])
def test_a_4xx_answer_is_not_retried(allow_private, code):
    delivery = WebhookDeliveryFactory(endpoint__url=URL, next_attempt_at=NOW)
    with respx.mock() as router:
        route = router.post(URL).mock(return_value=httpx.Response(code, text="no"))
        services.dispatch_due_deliveries(now=NOW)
        assert services.dispatch_due_deliveries(now=NOW + timedelta(days=2)) == 0
    delivery.refresh_from_db()
    assert route.call_count == 1
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.last_status_code) == (
        DeliveryStatus.FAILED, 1, None, code)


@pytest.mark.django_db
def test_429_is_retried_and_honours_a_longer_retry_after(allow_private):
    delivery = WebhookDeliveryFactory(endpoint__url=URL, next_attempt_at=NOW)
    with respx.mock() as router:
        router.post(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "600"}))
        services.attempt_webhook_delivery(delivery_id=delivery.pk, now=NOW)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.PENDING, 1, NOW + timedelta(seconds=600))


@pytest.mark.django_db
def test_after_max_attempts_of_5xx_the_delivery_is_dead(allow_private):
    delivery = WebhookDeliveryFactory(endpoint__url=URL, next_attempt_at=NOW)
    moment = NOW
    with respx.mock() as router:
        route = router.post(URL).mock(return_value=httpx.Response(502))
        for attempt in range(1, services.MAX_ATTEMPTS + 1):
            assert services.attempt_webhook_delivery(delivery_id=delivery.pk, now=moment) is not None
            if attempt < services.MAX_ATTEMPTS:
                moment += timedelta(seconds=services.retry_delay_seconds(attempt))
        assert services.dispatch_due_deliveries(now=moment + timedelta(days=30)) == 0
    delivery.refresh_from_db()
    assert route.call_count == 7
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.DEAD, 7, None)


@pytest.mark.django_db
def test_redeliver_sends_a_finished_delivery_once_more(allow_private, django_capture_on_commit_callbacks):
    delivery = WebhookDeliveryFactory(endpoint__url=URL, next_attempt_at=NOW)
    with respx.mock() as router:
        route = router.post(URL).mock(side_effect=[httpx.Response(404), httpx.Response(204)])
        services.attempt_webhook_delivery(delivery_id=delivery.pk, now=NOW)
        with django_capture_on_commit_callbacks(execute=True):  # eager Celery in tests: the task runs here
            services.redeliver_webhook(network=delivery.network, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert route.call_count == 2
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 204)
    assert DeliveryAttempt.objects.filter(webhook_delivery=delivery).count() == 2


@pytest.mark.django_db
def test_a_target_that_now_resolves_privately_is_refused_at_delivery_time():
    delivery = WebhookDeliveryFactory(endpoint__url="https://intranet.example/hook", next_attempt_at=NOW)
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(return_value=httpx.Response(200))
        services.attempt_webhook_delivery(delivery_id=delivery.pk, now=NOW)
    delivery.refresh_from_db()
    assert route.call_count == 0
    assert delivery.status == DeliveryStatus.FAILED
    assert "not a public internet address" in delivery.last_error


@pytest.mark.django_db
def test_a_disabled_endpoint_is_not_called(allow_private):
    delivery = WebhookDeliveryFactory(endpoint__url=URL, endpoint__is_active=False, next_attempt_at=NOW)
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(return_value=httpx.Response(200))
        services.attempt_webhook_delivery(delivery_id=delivery.pk, now=NOW)
    delivery.refresh_from_db()
    assert route.call_count == 0
    assert delivery.status == DeliveryStatus.FAILED


@pytest.mark.django_db
def test_emit_then_commit_delivers_through_the_task(tenant, allow_private, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(network=tenant.network, url=URL, event_types=["enrollment.created"])
    with respx.mock() as router:
        route = router.post(URL).mock(return_value=httpx.Response(200))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event = outbox.emit(network=tenant.network, event_type="enrollment.created", payload={"id": 1},
                                idempotency_key="enrollment:1:created")
    assert route.call_count == 1
    assert WebhookDelivery.objects.get(event=event).status == DeliveryStatus.DELIVERED
