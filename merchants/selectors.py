"""Reads for merchants and programs; each takes the network first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count
from django.utils import timezone

from merchants.models import Creative, MerchantMembership, Program, ProgramTerms
from network.actors import MERCHANT, Actor
from network.models import Invitation, Network

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


def active_creatives(*, network: Network, program_ids: list[int]) -> list[Creative]:
    """The active creatives of these programs (for the portal, which applies each affiliate's link)."""
    return list(Creative.objects.for_network(network).filter(program_id__in=program_ids, is_active=True)
                .order_by("program_id", "-created_at", "-pk"))


def current_terms(*, network: Network, program: Program) -> ProgramTerms | None:
    """The program's terms version in force."""
    return ProgramTerms.objects.for_network(network).filter(program=program, version=program.terms_version).first()


def terms_history(*, network: Network, program_id: int) -> list[ProgramTerms]:
    """Every terms version of a program, newest first."""
    return list(ProgramTerms.objects.for_network(network).filter(program_id=program_id).order_by("-version"))


def merchant_members(*, network: Network, merchant_id: int) -> list[MerchantMembership]:
    """A merchant's members, admins first."""
    return list(MerchantMembership.objects.for_network(network).filter(merchant_id=merchant_id)
                .select_related("user").order_by("role", "created_at"))


def open_merchant_invitations(*, network: Network, merchant_id: int) -> list[Invitation]:
    """Invitations to a merchant not yet accepted and not expired."""
    return list(Invitation.objects.for_network(network)
                .filter(kind=MERCHANT, target_id=merchant_id, accepted_at__isnull=True,
                        expires_at__gt=timezone.now()).order_by("-created_at"))


def program_status_counts(*, network: Network, merchant_id: int) -> dict[str, int]:
    """How many programs of the merchant are in each status (one query)."""
    rows = (Program.objects.for_network(network).filter(merchant_id=merchant_id).values("status")
            .annotate(count=Count("pk")))
    return {row["status"]: row["count"] for row in rows}
