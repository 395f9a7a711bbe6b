"""Invitations: staff invite staff, merchants and affiliates; members invite members.

Accepting an invitation gives the accepting user the invited role. Staff memberships are made
here; the merchants and affiliates apps register how to add a member (`register_acceptor`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from network.models import ApiKey, Invitation, Membership, Network

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

INVITATION_DAYS = 14

Acceptor = Callable[[Invitation, "AbstractBaseUser"], None]
_acceptors: dict[str, Acceptor] = {}


def register_acceptor(kind: str, acceptor: Acceptor) -> None:
    """Register how an accepted invitation of this kind becomes a membership (from AppConfig.ready)."""
    _acceptors[kind] = acceptor


def _accept_staff(invitation: Invitation, user: AbstractBaseUser) -> None:
    Membership.objects.update_or_create(network_id=invitation.network_id, user=user,
                                        defaults={"role": invitation.role})


register_acceptor(ApiKey.ActorKind.STAFF, _accept_staff)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_invitation(*, network: Network, email: str, kind: str, role: str, target_id: int | None = None,
                      invited_by: AbstractBaseUser | None = None) -> tuple[Invitation, str]:
    """Create an invitation; returns it and the token for the link (only the hash is stored)."""
    if kind not in ApiKey.ActorKind.values:
        raise ValidationError({"kind": [f"{kind!r} is not a role kind."]})
    if kind == ApiKey.ActorKind.STAFF and role not in Membership.Role.values:
        raise ValidationError({"role": [f"{role!r} is not a staff role."]})
    if (kind == ApiKey.ActorKind.STAFF) != (target_id is None):
        raise ValidationError({"target_id": ["Staff invitations have no target; member invitations need one."]})
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationError({"email": ["Enter a valid email address."]})
    token = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        network=network, email=email, kind=kind, role=role, target_id=target_id, token_hash=hash_token(token),
        invited_by=invited_by if invited_by is not None and invited_by.is_authenticated else None,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    return invitation, token


def find_open_invitation(*, token: str) -> Invitation | None:
    """The unexpired, unaccepted invitation a token names."""
    return (Invitation.objects.select_related("network")
            .filter(token_hash=hash_token(token), accepted_at__isnull=True, expires_at__gt=timezone.now()).first())


@transaction.atomic
def accept_invitation(*, token: str, user: AbstractBaseUser) -> Invitation:
    """Give the user the invited role; a used, expired or unknown token is refused and changes nothing."""
    invitation = find_open_invitation(token=token)
    if invitation is None:
        raise ValidationError({"token": ["This invitation is unknown, expired or already used."]})
    if invitation.email.lower() != (user.email or "").lower():
        raise ValidationError({"email": ["This invitation was sent to another email address."]})
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now(), accepted_by=user)
    if claimed != 1:
        raise ValidationError({"token": ["This invitation is unknown, expired or already used."]})
    acceptor = _acceptors.get(invitation.kind)
    if acceptor is None:
        raise ValidationError({"kind": [f"Invitations of kind {invitation.kind!r} cannot be accepted here."]})
    acceptor(invitation, user)
    invitation.refresh_from_db()
    return invitation
