"""Reads for affiliates, enrollments and links; each takes the network first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from affiliates.models import AffiliateMembership
from network.actors import AFFILIATE, Actor
from network.models import Network

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def affiliate_actors(network: Network, user: AbstractBaseUser) -> list[Actor]:
    """One actor per affiliate account the user belongs to in the network."""
    memberships = (AffiliateMembership.objects.for_network(network).filter(user_id=user.pk)
                   .select_related("affiliate").order_by("affiliate__name"))
    return [Actor(network=network, user=user, kind=AFFILIATE, role=m.role, affiliate_id=m.affiliate_id,
                  label=m.affiliate.name) for m in memberships]


def affiliate_network_ids(user: AbstractBaseUser) -> list[int]:
    """Networks where the user is an affiliate member."""
    return list(AffiliateMembership.objects.filter(user_id=user.pk).values_list("network_id", flat=True))


def affiliate_principal_user(network: Network, affiliate_id: int) -> AbstractBaseUser | None:
    """The affiliate's first member by role then age, or None when the affiliate is not in this network."""
    membership = (AffiliateMembership.objects.for_network(network).filter(affiliate_id=affiliate_id)
                  .select_related("user").order_by("-role", "created_at").first())
    return membership.user if membership else None
