"""The one scoping rule shared by API viewsets and pages: network first, then the actor's own rows."""

from django.db.models import QuerySet

from network.actors import AFFILIATE, MERCHANT, STAFF, Actor


def scope_for_actor(
    queryset: QuerySet,
    actor: Actor,
    *,
    merchant_field: str | None,
    affiliate_field: str | None,
    staff_sees_all: bool = True,
) -> QuerySet:
    """Rows of the actor's network that the actor may see; an actor kind without a rule sees nothing."""
    if not hasattr(queryset, "for_network"):
        raise TypeError(f"{queryset.model.__name__} is not NetworkOwned; scope it explicitly")
    scoped = queryset.for_network(actor.network)
    if actor.kind == STAFF:
        return scoped if staff_sees_all else scoped.none()
    if actor.kind == MERCHANT and merchant_field and actor.merchant_id is not None:
        return scoped.filter(**{merchant_field: actor.merchant_id})
    if actor.kind == AFFILIATE and affiliate_field and actor.affiliate_id is not None:
        return scoped.filter(**{affiliate_field: actor.affiliate_id})
    return scoped.none()
