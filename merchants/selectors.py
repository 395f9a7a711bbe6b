"""Reads for merchants and programs; each takes the network first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from merchants.models import MerchantMembership, Program
from network.actors import MERCHANT, Actor
from network.models import Network

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def merchant_actors(network: Network, user: AbstractBaseUser) -> list[Actor]:
    """One actor per merchant the user belongs to in the network."""
    memberships = (MerchantMembership.objects.for_network(network).filter(user_id=user.pk)
                   .select_related("merchant").order_by("merchant__name"))
    return [Actor(network=network, user=user, kind=MERCHANT, role=m.role, merchant_id=m.merchant_id,
                  label=m.merchant.name) for m in memberships]


def merchant_network_ids(user: AbstractBaseUser) -> list[int]:
    """Networks where the user is a merchant member."""
    return list(MerchantMembership.objects.filter(user_id=user.pk).values_list("network_id", flat=True))


def program_for_network(*, network: Network, program_id: int) -> Program:
    """A program of the network by id; missing and foreign look the same (DoesNotExist)."""
    return Program.objects.for_network(network).get(pk=program_id)


def merchant_principal_user(network: Network, merchant_id: int) -> AbstractBaseUser | None:
    """The merchant's first member by role then age, or None when the merchant is not in this network."""
    membership = (MerchantMembership.objects.for_network(network).filter(merchant_id=merchant_id)
                  .select_related("user").order_by("role", "created_at").first())
    return membership.user if membership else None
