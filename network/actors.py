"""Actors: who is acting, in which network, with which role.

An actor is one of a user's roles in one network: network staff, a member of one merchant, or a
member of one affiliate. The tenancy app sits below `merchants` and `affiliates`, so those apps
register how to find their members (`register_provider`) when Django starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from network.models import ApiKey, Membership, Network

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

STAFF = ApiKey.ActorKind.STAFF.value
MERCHANT = ApiKey.ActorKind.MERCHANT.value
AFFILIATE = ApiKey.ActorKind.AFFILIATE.value
ACTOR_KINDS = (STAFF, MERCHANT, AFFILIATE)

STAFF_MANAGERS = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """One role of one user in one network; what every scoped query and permission check reads."""

    network: Network
    user: AbstractBaseUser
    kind: str
    role: str
    merchant_id: int | None = None
    affiliate_id: int | None = None
    label: str = ""
    api_key: ApiKey | None = field(default=None, compare=False)

    @property
    def is_staff(self) -> bool:
        return self.kind == STAFF

    @property
    def is_merchant(self) -> bool:
        return self.kind == MERCHANT

    @property
    def is_affiliate(self) -> bool:
        return self.kind == AFFILIATE

    @property
    def can_manage_network(self) -> bool:
        """Owners and admins change network settings; managers run the day-to-day."""
        return self.kind == STAFF and self.role in STAFF_MANAGERS

    @property
    def actor_id(self) -> int | None:
        return self.merchant_id if self.kind == MERCHANT else self.affiliate_id if self.kind == AFFILIATE else None

    def has_scope(self, scope: str) -> bool:
        """API key scopes: no key (a browser session) or an empty list means every scope."""
        if self.api_key is None or not self.api_key.scopes:
            return True
        scopes = set(self.api_key.scopes)
        if "*" in scopes or scope in scopes:
            return True
        capability, _, mode = scope.partition(":")
        # "read" grants every ":read"; "conversions:write" also grants "conversions:read".
        return (mode == "read" and ("read" in scopes or f"{capability}:write" in scopes)) or (
            mode == "write" and "write" in scopes
        )


ActorProvider = Callable[[Network, "AbstractBaseUser"], list[Actor]]
_providers: dict[str, ActorProvider] = {}


def register_provider(kind: str, provider: ActorProvider) -> None:
    """Register how to list a user's actors of one kind in a network (called from AppConfig.ready)."""
    _providers[kind] = provider


def staff_actors(network: Network, user: AbstractBaseUser) -> list[Actor]:
    """The user's staff actor in the network, if any."""
    membership = Membership.objects.for_network(network).filter(user_id=user.pk).first()
    if membership is None:
        return []
    return [Actor(network=network, user=user, kind=STAFF, role=membership.role, label=network.display_name)]


register_provider(STAFF, staff_actors)


def actors_for(network: Network, user: AbstractBaseUser, kind: str | None = None) -> list[Actor]:
    """Every actor the user can act as in the network, staff first; optionally of one kind."""
    if not user.is_authenticated:
        return []
    kinds = [kind] if kind else list(ACTOR_KINDS)
    found: list[Actor] = []
    for each in kinds:
        provider = _providers.get(each)
        if provider is not None:
            found.extend(provider(network, user))
    return found


def actor_for_api_key(api_key: ApiKey) -> Actor | None:
    """The actor an API key acts as, if the user still holds that role (a removed member's key stops)."""
    for actor in actors_for(api_key.network, api_key.user, kind=api_key.actor_kind):
        if actor.actor_id == api_key.actor_id:
            return Actor(network=actor.network, user=actor.user, kind=actor.kind, role=actor.role,
                         merchant_id=actor.merchant_id, affiliate_id=actor.affiliate_id, label=actor.label,
                         api_key=api_key)
    return None


def networks_for_user(user: AbstractBaseUser) -> list[Network]:
    """Networks where the user holds any role, for the network switcher and host-less resolution."""
    if not user.is_authenticated:
        return []
    ids: set[int] = set(Membership.objects.filter(user_id=user.pk).values_list("network_id", flat=True))
    for provider_kind in (MERCHANT, AFFILIATE):
        network_ids = _network_id_providers.get(provider_kind)
        if network_ids is not None:
            ids.update(network_ids(user))
    return list(Network.objects.filter(pk__in=ids).order_by("name"))


_network_id_providers: dict[str, Callable[[AbstractBaseUser], list[int]]] = {}


def register_network_ids_provider(kind: str, provider: Callable[[AbstractBaseUser], list[int]]) -> None:
    """Register how to list the networks where a user is a merchant or affiliate member."""
    _network_id_providers[kind] = provider


_principal_user_lookups: dict[str, Callable[[Network, int], AbstractBaseUser | None]] = {}


def register_principal_user_lookup(kind: str, lookup: Callable[[Network, int], AbstractBaseUser | None]) -> None:
    """Register how to find the main user of a merchant or affiliate (its first admin or owner)."""
    _principal_user_lookups[kind] = lookup


def principal_user(network: Network, kind: str, actor_id: int) -> AbstractBaseUser | None:
    """The user a staff-issued key for a merchant or affiliate acts as; None when there is no such actor here."""
    lookup = _principal_user_lookups.get(kind)
    return lookup(network, actor_id) if lookup is not None else None
