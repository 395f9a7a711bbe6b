"""Reads of the webhooks app; every one takes the network first."""

from django.db.models import Q, QuerySet

from network.models import Network
from webhooks.models import AffiliatePostback, OwnerKind, WebhookDelivery, WebhookEndpoint


def endpoints_for_event(network: Network, *, event_type: str, merchant_id: int | None,
                        affiliate_id: int | None) -> list[WebhookEndpoint]:
    """Active endpoints that receive the event: the staff's, plus the merchant's and the affiliate's."""
    owners = Q(owner_kind=OwnerKind.STAFF)
    if merchant_id is not None:
        owners |= Q(owner_kind=OwnerKind.MERCHANT, owner_id=merchant_id)
    if affiliate_id is not None:
        owners |= Q(owner_kind=OwnerKind.AFFILIATE, owner_id=affiliate_id)
    candidates = WebhookEndpoint.objects.for_network(network).filter(owners, is_active=True).order_by("pk")
    # The subscription list is a small JSON array; filtering it here works on SQLite and PostgreSQL alike.
    return [endpoint for endpoint in candidates if event_type in endpoint.event_types]


def endpoints_for_owner(network: Network, *, owner_kind: str, owner_id: int | None) -> QuerySet[WebhookEndpoint]:
    """One owner's endpoints, newest first."""
    return WebhookEndpoint.objects.for_network(network).filter(owner_kind=owner_kind, owner_id=owner_id)


def deliveries_for_owner(network: Network, *, owner_kind: str, owner_id: int | None) -> QuerySet[WebhookDelivery]:
    """One owner's deliveries with what the log page shows, newest first."""
    return (WebhookDelivery.objects.for_network(network)
            .filter(endpoint__owner_kind=owner_kind, endpoint__owner_id=owner_id)
            .select_related("endpoint", "event"))


def postbacks_for_event(network: Network, *, affiliate_id: int, program_id: int | None,
                        event_type: str) -> list[AffiliatePostback]:
    """The affiliate's active postbacks for the event: those for every program and those for this one."""
    programs = Q(program_id__isnull=True)
    if program_id is not None:
        programs |= Q(program_id=program_id)
    candidates = (AffiliatePostback.objects.for_network(network)
                  .filter(programs, affiliate_id=affiliate_id, is_active=True).order_by("pk"))
    return [postback for postback in candidates if event_type in postback.event_types]
