"""Factories of the webhooks tests."""

import factory

from tests.factories import NetworkFactory
from webhooks import signing
from webhooks.models import (
    AffiliatePostback,
    EventType,
    OutboxEvent,
    OwnerKind,
    WebhookDelivery,
    WebhookEndpoint,
)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    network = factory.SubFactory(NetworkFactory)
    owner_kind = OwnerKind.STAFF
    owner_id = None
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/receive")
    event_types = factory.LazyFunction(lambda: list(EventType.values))
    secret = factory.LazyFunction(signing.generate_secret)


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    network = factory.SubFactory(NetworkFactory)
    event_type = EventType.CONVERSION_CREATED
    payload = factory.LazyFunction(lambda: {"conversion": {"id": 1, "amount": "12.50", "currency": "EUR"}})
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    network = factory.SelfAttribute("endpoint.network")
    event = factory.SubFactory(OutboxEventFactory, network=factory.SelfAttribute("..network"))


class AffiliatePostbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AffiliatePostback

    network = factory.SubFactory(NetworkFactory)
    affiliate_id = 1
    url_template = "https://tracker.example/pb?cid={click_id}&payout={commission}&cur={currency}&s={status}"
    event_types = factory.LazyFunction(lambda: ["conversion.created", "conversion.approved", "conversion.reversed"])
