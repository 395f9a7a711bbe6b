"""Writes for the tenancy app: networks, staff, API keys, audit events."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from network.models import ApiKey, AuditEvent, Domain, Membership, Network

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

API_KEY_PREFIX = "sk"


def _hash_secret(secret: str) -> str:
    # The secret is 192 random bits, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def record_audit(*, network: Network, actor: AbstractBaseUser | None, action: str, obj: Any = None,
                 data: dict[str, Any] | None = None) -> AuditEvent:
    """Append one audit event."""
    return AuditEvent.objects.create(
        network=network,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "pk", "")) if obj is not None else "",
        data=data or {},
    )


def get_or_create_user(*, email: str, password: str | None = None, verified: bool = False) -> AbstractBaseUser:
    """The user with this email (case-insensitive), created when missing; optionally mark the email verified."""
    from allauth.account.models import EmailAddress

    User = get_user_model()
    email = User.objects.normalize_email(email.strip()).lower()
    if not email or "@" not in email:
        raise ValidationError({"email": ["Enter a valid email address."]})
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=email[:150], email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    if verified:
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    return user


@transaction.atomic
def bootstrap_network(*, slug: str, name: str, owner_email: str, password: str, currency: str = "USD",
                      domain: str | None = None) -> tuple[Network, AbstractBaseUser, str]:
    """Create a network, its owner and the owner's first API key; refuse an existing slug."""
    if slugify(slug) != slug or not slug:
        raise ValidationError({"slug": [f"{slug!r} is not a valid slug (lowercase letters, digits, hyphens)."]})
    if Network.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"A network with the slug {slug!r} already exists."]})
    if domain and Domain.objects.filter(host=domain.lower()).exists():
        raise ValidationError({"domain": [f"The domain {domain!r} already belongs to a network."]})
    network = Network(slug=slug, name=name, default_currency=currency)
    network.full_clean()
    try:
        network.save()
    except IntegrityError:
        raise ValidationError({"slug": [f"A network with the slug {slug!r} already exists."]}) from None
    if domain:
        Domain.objects.create(network=network, host=domain.lower())
    owner = get_or_create_user(email=owner_email, password=password, verified=True)
    Membership.objects.create(network=network, user=owner, role=Membership.Role.OWNER)
    _, key = create_api_key(network=network, user=owner, actor_kind=ApiKey.ActorKind.STAFF, name="bootstrap")
    record_audit(network=network, actor=owner, action="network.bootstrapped", obj=network)
    return network, owner, key


@transaction.atomic
def add_staff_member(*, network: Network, user: AbstractBaseUser, role: str) -> Membership:
    """Give a user a staff role in the network (changing it when they already have one)."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"{role!r} is not a staff role."]})
    membership, _ = Membership.objects.update_or_create(network=network, user=user, defaults={"role": role})
    return membership


def create_api_key(*, network: Network, user: AbstractBaseUser, actor_kind: str, actor_id: int | None = None,
                   name: str = "", scopes: list[str] | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is never shown again."""
    if actor_kind not in ApiKey.ActorKind.values:
        raise ValidationError({"actor_kind": [f"{actor_kind!r} is not an actor kind."]})
    if (actor_kind == ApiKey.ActorKind.STAFF) != (actor_id is None):
        raise ValidationError({"actor_id": ["Staff keys have no actor id; merchant and affiliate keys need one."]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    api_key = ApiKey.objects.create(
        network=network, user=user, actor_kind=actor_kind, actor_id=actor_id, name=name[:100],
        prefix=prefix, secret_hash=_hash_secret(secret), scopes=scopes or [],
    )
    return api_key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


def check_api_key(*, token: str) -> ApiKey | None:
    """The active key a full token names, or None (unknown, malformed, wrong secret or revoked)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    _, prefix, secret = parts
    api_key = ApiKey.objects.select_related("network", "user").filter(prefix=prefix).first()
    if api_key is None or api_key.revoked_at is not None or not api_key.user.is_active:
        return None
    if not hmac.compare_digest(api_key.secret_hash, _hash_secret(secret)):
        return None
    return api_key


def revoke_api_key(*, network: Network, api_key_id: int, actor: AbstractBaseUser | None) -> ApiKey:
    """Revoke a key of the network; revoking twice keeps the first revocation time."""
    api_key = ApiKey.objects.for_network(network).get(pk=api_key_id)
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    record_audit(network=network, actor=actor, action="api_key.revoked", obj=api_key)
    return api_key


NETWORK_SETTING_FIELDS = ("name", "default_currency", "time_zone", "fee_type", "fee_rate", "fee_flat_minor",
                          "payout_schedule", "payout_day", "payout_net_days", "payout_minimum_minor",
                          "require_payout_maker_checker", "require_staff_2fa", "brand_name", "brand_colour", "logo")


@transaction.atomic
def update_network_settings(*, network: Network, actor: AbstractBaseUser | None, **changes: Any) -> Network:
    """Change network settings; every value is validated before anything is saved."""
    unknown = set(changes) - set(NETWORK_SETTING_FIELDS)
    if unknown:
        raise ValidationError({name: ["This setting does not exist."] for name in sorted(unknown)})
    locked = Network.objects.select_for_update().get(pk=network.pk)
    for field_name, value in changes.items():
        setattr(locked, field_name, value)
    locked.full_clean()
    locked.save(update_fields=list(changes) or None)
    record_audit(network=locked, actor=actor, action="network.settings_changed", obj=locked,
                 data={k: (v.name if k == "logo" and v else str(v)) for k, v in changes.items()})
    return locked


# Capabilities an API key can be limited to ("<capability>:read" or "<capability>:write"); the API views
# name theirs in `required_scope`. "read" and "write" alone cover every capability.
API_KEY_CAPABILITIES = ("network", "staff", "api_keys", "merchants", "affiliates", "programs", "enrollments",
                        "links", "conversions", "balances", "payouts", "payout_profile", "reports", "webhooks")


def validate_scopes(scopes: list[str]) -> list[str]:
    """Refuse scopes that are not "*", "read", "write" or "<capability>:read|write"; return them sorted."""
    import re

    unknown = sorted(s for s in set(scopes)
                     if s not in ("*", "read", "write") and not re.fullmatch(r"[a-z_]+:(read|write)", str(s)))
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scope: {', '.join(map(str, unknown))}."]})
    return sorted(set(scopes))


def _staff_email_taken(network: Network, email: str) -> bool:
    return Membership.objects.for_network(network).filter(user__email__iexact=email).exists()


def send_invitation_email(*, network_id: int, email: str, accept_url: str, role: str) -> None:
    """Mail the acceptance link (called after the invitation is committed)."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    network = Network.objects.get(pk=network_id)
    context = {"network": network, "accept_url": accept_url, "role": role}
    subject = render_to_string("account/email/staff_invitation_subject.txt", context).strip()
    body = render_to_string("account/email/staff_invitation_message.txt", context)
    send_mail(subject, body, None, [email])


@transaction.atomic
def invite_staff(*, network: Network, email: str, role: str, invited_by: AbstractBaseUser | None,
                 base_url: str) -> Any:
    """Invite someone by email to a staff role; the link (base_url + /invitations/<token>/) is mailed after commit."""
    from network import invitations

    email = (email or "").strip().lower()
    if email and _staff_email_taken(network, email):
        raise ValidationError({"email": ["This person is already on the staff."]})
    invitation, token = invitations.create_invitation(network=network, email=email, kind=ApiKey.ActorKind.STAFF,
                                                      role=role, invited_by=invited_by)
    accept_url = f"{base_url.rstrip('/')}/invitations/{token}/"
    record_audit(network=network, actor=invited_by, action="staff.invited", obj=invitation,
                 data={"email": email, "role": role})
    transaction.on_commit(lambda: send_invitation_email(network_id=network.pk, email=email, accept_url=accept_url,
                                                        role=role))
    return invitation


def _lock_owners(network: Network) -> list[int]:
    # Locking every owner row serialises concurrent demotions/removals, so two owners cannot remove each other.
    return list(Membership.objects.for_network(network).select_for_update()
                .filter(role=Membership.Role.OWNER).values_list("pk", flat=True))


@transaction.atomic
def change_staff_role(*, network: Network, membership_id: int, role: str, actor: AbstractBaseUser | None
                      ) -> Membership:
    """Change a staff member's role; the last owner cannot be demoted."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"{role!r} is not a staff role."]})
    owners = _lock_owners(network)
    membership = Membership.objects.for_network(network).select_for_update().get(pk=membership_id)
    if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER and owners == [membership.pk]:
        raise ValidationError({"role": ["The network needs at least one owner."]})
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record_audit(network=network, actor=actor, action="staff.role_changed", obj=membership,
                 data={"email": membership.user.email, "from": old_role, "to": role})
    return membership


@transaction.atomic
def remove_staff_member(*, network: Network, membership_id: int, actor: AbstractBaseUser | None) -> None:
    """Remove someone from the staff (their staff API keys stop working); the last owner stays."""
    owners = _lock_owners(network)
    membership = Membership.objects.for_network(network).select_for_update().get(pk=membership_id)
    if owners == [membership.pk]:
        raise ValidationError({"membership": ["The network needs at least one owner."]})
    record_audit(network=network, actor=actor, action="staff.removed", obj=membership,
                 data={"email": membership.user.email, "role": membership.role})
    ApiKey.objects.for_network(network).filter(user_id=membership.user_id, actor_kind=ApiKey.ActorKind.STAFF,
                                               revoked_at__isnull=True).update(revoked_at=timezone.now())
    membership.delete()


HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"


def normalise_host(host: str) -> str:
    """A lower-case host name without port or trailing dot; refuse anything that is not a host name."""
    import re

    from django.conf import settings

    host = (host or "").strip().lower().rstrip(".")
    if not re.fullmatch(rf"{HOST_LABEL}(\.{HOST_LABEL})+", host) or len(host) > 253 or host[-1].isdigit():
        raise ValidationError({"host": ["Enter a host name such as partners.example.com (no scheme, path or port)."]})
    base = settings.BASE_DOMAIN.lower()
    if host == base or host.endswith(f".{base}"):
        # Subdomains of the base domain already resolve by slug; registering one could shadow another network.
        raise ValidationError({"host": [f"Host names under {base} are assigned by slug; use your own domain."]})
    return host


@transaction.atomic
def add_domain(*, network: Network, host: str, actor: AbstractBaseUser | None) -> Domain:
    """Register a custom host name for the network; a host belongs to one network only."""
    host = normalise_host(host)
    if Domain.objects.filter(host=host).exists():
        raise ValidationError({"host": ["This host name is already registered."]})
    try:
        with transaction.atomic():
            domain = Domain.objects.create(network=network, host=host)
    except IntegrityError:
        raise ValidationError({"host": ["This host name is already registered."]}) from None
    record_audit(network=network, actor=actor, action="domain.added", obj=domain, data={"host": host})
    return domain


@transaction.atomic
def remove_domain(*, network: Network, domain_id: int, actor: AbstractBaseUser | None) -> None:
    """Remove one of the network's custom host names."""
    domain = Domain.objects.for_network(network).get(pk=domain_id)
    record_audit(network=network, actor=actor, action="domain.removed", obj=domain, data={"host": domain.host})
    domain.delete()
