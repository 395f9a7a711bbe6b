"""Writes for affiliates: organisations and members, applications, terms, tracking links, coupons."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries

from affiliates import selectors
from affiliates.models import (
    Affiliate,
    AffiliateMembership,
    Coupon,
    Enrollment,
    EnrollmentEvent,
    ProgramInvitation,
    TrackingLink,
)
from merchants import domains
from merchants.models import MerchantMembership, Program
from network import invitations
from network import services as network_services
from network.actors import AFFILIATE
from network.models import Invitation, Network

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

CHANNELS = ("content", "email", "social", "paid_search", "coupon", "video", "newsletter", "comparison")
COUPON_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,63}$")
SUB_FIELDS = ("sub1", "sub2", "sub3", "sub4", "sub5")


def _user_or_none(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None


def _mail_after_commit(subject: str, body: str, recipients: Iterable[str]) -> None:
    recipients = [email for email in recipients if email]

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        except OSError:  # a mail outage must not fail a decision that is already committed
            logger.exception("could not send %r to %s", subject, recipients)

    if recipients:
        transaction.on_commit(send)


def _bump_program_cache(program_id: int) -> None:
    # The click path caches link lookups per program version; bump it so a changed enrollment takes effect.
    if any(field.name == "cache_version" for field in Program._meta.get_fields()):
        Program.objects.filter(pk=program_id).update(cache_version=F("cache_version") + 1)


def _clean_profile(*, name: str, kind: str, country: str, website: str, channels: list[str] | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the affiliate a name."]
    if kind not in Affiliate.Kind.values:
        errors["kind"] = [f"{kind!r} is not one of {', '.join(Affiliate.Kind.values)}."]
    country = (country or "").strip().upper()
    if country and country not in dict(countries):
        errors["country"] = [f"{country!r} is not an ISO 3166 country code."]
    channels = list(channels or [])
    unknown = [channel for channel in channels if channel not in CHANNELS]
    if unknown:
        errors["channels"] = [f"Unknown promotion channel {unknown[0]!r}; use {', '.join(CHANNELS)}."]
    if errors:
        raise ValidationError(errors)
    return {"name": name[:120], "kind": kind, "country": country, "website": website or "", "channels": channels}


# --- affiliate organisations ---------------------------------------------------------------------------


@transaction.atomic
def create_affiliate(*, network: Network, name: str, owner_email: str, country: str = "",
                     kind: str = Affiliate.Kind.INDIVIDUAL, website: str = "", channels: list[str] | None = None,
                     actor: AbstractBaseUser | None = None) -> tuple[Affiliate, Invitation | None]:
    """Create an affiliate with an owner: a membership when the user exists, otherwise an emailed invitation."""
    from django.contrib.auth import get_user_model

    profile = _clean_profile(name=name, kind=kind, country=country, website=website, channels=channels)
    email = (owner_email or "").strip().lower()
    if "@" not in email:
        raise ValidationError({"owner_email": ["Enter a valid email address."]})
    affiliate = Affiliate.objects.create(network=network, status=Affiliate.Status.ACTIVE, **profile)
    invitation = None
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None:
        AffiliateMembership.objects.create(network=network, affiliate=affiliate, user=user,
                                           role=AffiliateMembership.Role.OWNER)
    else:
        invitation, token = invitations.create_invitation(network=network, email=email, kind=AFFILIATE,
                                                          role=AffiliateMembership.Role.OWNER,
                                                          target_id=affiliate.pk, invited_by=actor)
        _mail_after_commit(f"You are invited to {network.display_name}",
                           f"Accept your invitation to run {affiliate.name}: /invitations/{token}/", [email])
    network_services.record_audit(network=network, actor=_user_or_none(actor), action="affiliate.created",
                                  obj=affiliate, data={"owner_email": email})
    return affiliate, invitation


@transaction.atomic
def sign_up_affiliate(*, network: Network, user: AbstractBaseUser, name: str, kind: str, country: str = "",
                      website: str = "", channels: list[str] | None = None) -> Affiliate:
    """A logged-in user joins the network's portal with a new affiliate account (active at once)."""
    existing = selectors.affiliate_of_user(network=network, user=user)
    if existing is not None:
        return existing
    profile = _clean_profile(name=name, kind=kind, country=country, website=website, channels=channels)
    affiliate = Affiliate.objects.create(network=network, status=Affiliate.Status.ACTIVE, **profile)
    AffiliateMembership.objects.create(network=network, affiliate=affiliate, user=user,
                                       role=AffiliateMembership.Role.OWNER)
    network_services.record_audit(network=network, actor=user, action="affiliate.signed_up", obj=affiliate)
    return affiliate


@transaction.atomic
def change_affiliate_status(*, network: Network, affiliate_id: int, to_status: str,
                            actor: AbstractBaseUser | None, reason: str = "",
                            from_status: str | None = None) -> Affiliate:
    """Approve a pending affiliate, suspend or reinstate one; forbidden moves are refused and change nothing."""
    affiliate = Affiliate.objects.for_network(network).select_for_update().get(pk=affiliate_id)
    if from_status is not None and affiliate.status != from_status:
        raise ValidationError({"status": [f"The affiliate is {affiliate.status}, not {from_status}."]})
    if to_status not in Affiliate.ALLOWED_TRANSITIONS.get(affiliate.status, frozenset()):
        raise ValidationError({"status": [f"An affiliate cannot go from {affiliate.status} to {to_status}."]})
    previous = affiliate.status
    affiliate.status = to_status
    affiliate.save(update_fields=["status"])
    network_services.record_audit(network=network, actor=_user_or_none(actor), action=f"affiliate.{to_status}",
                                  obj=affiliate, data={"from": previous, "reason": reason[:255]})
    return affiliate


@transaction.atomic
def invite_affiliate_member(*, network: Network, affiliate_id: int, email: str,
                            role: str = AffiliateMembership.Role.MEMBER,
                            actor: AbstractBaseUser | None = None) -> tuple[AffiliateMembership | None,
                                                                            Invitation | None]:
    """Add a member to an affiliate team: at once when the user exists, otherwise by emailed invitation."""
    from django.contrib.auth import get_user_model

    affiliate = selectors.affiliate_for_network(network=network, affiliate_id=affiliate_id)
    if role not in AffiliateMembership.Role.values:
        raise ValidationError({"role": [f"{role!r} is not an affiliate role."]})
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ValidationError({"email": ["Enter a valid email address."]})
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None:
        membership, _ = AffiliateMembership.objects.get_or_create(
            network=network, affiliate=affiliate, user=user, defaults={"role": role})
        return membership, None
    invitation, token = invitations.create_invitation(network=network, email=email, kind=AFFILIATE, role=role,
                                                      target_id=affiliate.pk, invited_by=actor)
    _mail_after_commit(f"Join {affiliate.name} on {network.display_name}",
                       f"Accept your invitation: /invitations/{token}/", [email])
    return None, invitation


def accept_affiliate_invitation(invitation: Invitation, user: AbstractBaseUser) -> None:
    """Acceptor for invitations of kind "affiliate": the user becomes a member of the invited affiliate."""
    affiliate = Affiliate.objects.for_network(invitation.network_id).filter(pk=invitation.target_id).first()
    if affiliate is None:
        raise ValidationError({"token": ["The affiliate of this invitation no longer exists."]})
    role = invitation.role if invitation.role in AffiliateMembership.Role.values else AffiliateMembership.Role.MEMBER
    AffiliateMembership.objects.get_or_create(network_id=invitation.network_id, affiliate=affiliate, user=user,
                                              defaults={"role": role})


# --- applications and enrollments ---------------------------------------------------------------------


def _event(enrollment: Enrollment, *, action: str, from_status: str, actor: AbstractBaseUser | None,
           reason: str = "") -> EnrollmentEvent:
    return EnrollmentEvent.objects.create(
        network_id=enrollment.network_id, enrollment=enrollment, action=action, from_status=from_status,
        to_status=enrollment.status, terms_version=enrollment.accepted_terms_version, reason=reason[:255],
        actor=_user_or_none(actor))


def _emit_enrollment_event(enrollment: Enrollment, event_type: str) -> None:
    """An outbound webhook for the merchant, the affiliate and staff, in the caller's transaction."""
    from webhooks import outbox

    stamp = (enrollment.decided_at or enrollment.applied_at).isoformat()
    outbox.emit(network=enrollment.network, event_type=event_type,
                payload={"id": enrollment.pk, "program": enrollment.program_id, "affiliate": enrollment.affiliate_id,
                         "status": enrollment.status, "accepted_terms_version": enrollment.accepted_terms_version,
                         "reason": enrollment.decision_reason},
                merchant_id=enrollment.program.merchant_id, affiliate_id=enrollment.affiliate_id,
                idempotency_key=f"enrollment:{enrollment.pk}:{event_type}:{stamp}")


def _ensure_default_link(enrollment: Enrollment) -> None:
    if not TrackingLink.objects.filter(enrollment=enrollment).exists():
        TrackingLink.objects.create(network_id=enrollment.network_id, enrollment=enrollment,
                                    program_id=enrollment.program_id, affiliate_id=enrollment.affiliate_id,
                                    label="Default")


def _merchant_emails(program: Program) -> list[str]:
    return list(MerchantMembership.objects.filter(merchant_id=program.merchant_id)
                .values_list("user__email", flat=True))


@transaction.atomic
def apply_to_program(*, network: Network, affiliate_id: int, program_id: int, message: str = "",
                     website: str = "", promotion_methods: list[str] | None = None,
                     actor: AbstractBaseUser | None = None) -> tuple[Enrollment, bool]:
    """Apply to a program the affiliate can see, accepting its current terms; approved at once when it auto-approves.

    Returns (enrollment, created). Applying again while pending or approved changes nothing; after a
    rejection it opens the application again.
    """
    affiliate = Affiliate.objects.for_network(network).get(pk=affiliate_id)
    program = selectors.visible_programs(network=network, affiliate_id=affiliate_id).get(pk=program_id)
    if affiliate.status != Affiliate.Status.ACTIVE:
        raise ValidationError({"affiliate": ["Your affiliate account is not active yet."]})
    unknown = [method for method in (promotion_methods or []) if method not in CHANNELS]
    if unknown:
        raise ValidationError({"promotion_methods": [f"Unknown promotion method {unknown[0]!r}."]})
    auto = program.approval == Program.Approval.AUTO
    now = timezone.now()
    enrollment = (Enrollment.objects.for_network(network).select_for_update()
                  .filter(program=program, affiliate=affiliate).first())
    if enrollment is not None and enrollment.status != Enrollment.Status.REJECTED:
        return enrollment, False
    created = enrollment is None
    if created:
        enrollment = Enrollment(network=network, program=program, affiliate=affiliate)
    previous = "" if created else enrollment.status
    enrollment.status = Enrollment.Status.APPROVED if auto else Enrollment.Status.PENDING
    enrollment.accepted_terms_version = program.terms_version
    enrollment.message = message[:5000]
    enrollment.website = website or affiliate.website
    enrollment.promotion_methods = list(promotion_methods or affiliate.channels)
    enrollment.applied_at = now
    enrollment.decided_at = now if auto else None
    enrollment.decision_reason = ""
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:  # a concurrent application won the unique (program, affiliate)
        return Enrollment.objects.get(program=program, affiliate=affiliate), False
    _event(enrollment, action=EnrollmentEvent.Action.APPLIED if created else EnrollmentEvent.Action.REAPPLIED,
           from_status=previous, actor=actor)
    _emit_enrollment_event(enrollment, "enrollment.created")
    if auto:
        _emit_enrollment_event(enrollment, "enrollment.approved")
        if previous:
            _event(enrollment, action=EnrollmentEvent.Action.APPROVED, from_status=Enrollment.Status.PENDING,
                   actor=None, reason="Automatic approval")
        _ensure_default_link(enrollment)
        _bump_program_cache(program.pk)
    else:
        _mail_after_commit(f"New application to {program.name}",
                           f"{affiliate.name} applied to {program.name}. Review it at /merchant/enrollments/.",
                           _merchant_emails(program))
    return enrollment, created


_ACTIONS = {
    Enrollment.Status.APPROVED: EnrollmentEvent.Action.APPROVED,
    Enrollment.Status.REJECTED: EnrollmentEvent.Action.REJECTED,
    Enrollment.Status.SUSPENDED: EnrollmentEvent.Action.SUSPENDED,
}


@transaction.atomic
def transition_enrollment(*, network: Network, enrollment_id: int, to_status: str,
                          actor: AbstractBaseUser | None, reason: str = "") -> Enrollment:
    """Move an enrollment along its allowed transitions, writing an event and mailing the affiliate."""
    enrollment = (Enrollment.objects.for_network(network).select_for_update().select_related("program", "affiliate")
                  .get(pk=enrollment_id))
    if not enrollment.can_transition(to_status):
        raise ValidationError({"status": [f"An enrollment cannot go from {enrollment.status} to {to_status}."]})
    if to_status == Enrollment.Status.REJECTED and not (reason or "").strip():
        raise ValidationError({"reason": ["Give the affiliate a reason for the rejection."]})
    previous = enrollment.status
    enrollment.status = to_status
    enrollment.decided_at = timezone.now()
    enrollment.decision_reason = (reason or "")[:255]
    enrollment.save(update_fields=["status", "decided_at", "decision_reason"])
    action = (EnrollmentEvent.Action.REINSTATED if previous == Enrollment.Status.SUSPENDED
              else _ACTIONS.get(to_status, EnrollmentEvent.Action.REAPPLIED))
    _event(enrollment, action=action, from_status=previous, actor=actor, reason=reason)
    if to_status == Enrollment.Status.APPROVED:
        _ensure_default_link(enrollment)
        _emit_enrollment_event(enrollment, "enrollment.approved")
    _bump_program_cache(enrollment.program_id)
    _mail_after_commit(
        f"{enrollment.program.name}: your application is {enrollment.get_status_display().lower()}",
        f"{enrollment.program.name} — {enrollment.get_status_display()}." + (f"\nReason: {reason}" if reason else ""),
        selectors.affiliate_member_emails(network=network, affiliate_id=enrollment.affiliate_id))
    return enrollment


def approve_enrollment(*, network: Network, enrollment_id: int, actor: AbstractBaseUser | None,
                       reason: str = "") -> Enrollment:
    """Approve a pending (or previously rejected) application."""
    return transition_enrollment(network=network, enrollment_id=enrollment_id, to_status=Enrollment.Status.APPROVED,
                                 actor=actor, reason=reason)


def reject_enrollment(*, network: Network, enrollment_id: int, actor: AbstractBaseUser | None,
                      reason: str) -> Enrollment:
    """Reject a pending application with a reason the affiliate sees."""
    return transition_enrollment(network=network, enrollment_id=enrollment_id, to_status=Enrollment.Status.REJECTED,
                                 actor=actor, reason=reason)


def suspend_enrollment(*, network: Network, enrollment_id: int, actor: AbstractBaseUser | None,
                       reason: str = "") -> Enrollment:
    """Suspend an approved affiliate in a program (their links stop being credited)."""
    return transition_enrollment(network=network, enrollment_id=enrollment_id,
                                 to_status=Enrollment.Status.SUSPENDED, actor=actor, reason=reason)


def reinstate_enrollment(*, network: Network, enrollment_id: int, actor: AbstractBaseUser | None,
                         reason: str = "") -> Enrollment:
    """Reinstate a suspended enrollment."""
    if not Enrollment.objects.for_network(network).filter(pk=enrollment_id,
                                                           status=Enrollment.Status.SUSPENDED).exists():
        raise ValidationError({"status": ["Only a suspended enrollment can be reinstated."]})
    return transition_enrollment(network=network, enrollment_id=enrollment_id, to_status=Enrollment.Status.APPROVED,
                                 actor=actor, reason=reason)


@transaction.atomic
def accept_terms(*, network: Network, enrollment_id: int, affiliate_id: int,
                 actor: AbstractBaseUser | None = None) -> Enrollment:
    """Record that the affiliate accepted the program's current terms version; a second call changes nothing."""
    enrollment = (Enrollment.objects.for_network(network).select_for_update().select_related("program")
                  .get(pk=enrollment_id, affiliate_id=affiliate_id))
    current = enrollment.program.terms_version
    if (enrollment.accepted_terms_version or 0) >= current:
        return enrollment
    previous = enrollment.status
    enrollment.accepted_terms_version = current
    enrollment.save(update_fields=["accepted_terms_version"])
    _event(enrollment, action=EnrollmentEvent.Action.TERMS_ACCEPTED, from_status=previous, actor=actor)
    _bump_program_cache(enrollment.program_id)
    return enrollment


# --- tracking links -----------------------------------------------------------------------------------


@transaction.atomic
def create_tracking_link(*, network: Network, affiliate_id: int, program_id: int, destination_url: str = "",
                         label: str = "", subs: dict[str, str] | None = None,
                         actor: AbstractBaseUser | None = None) -> TrackingLink:
    """Create a tracking link for an approved enrollment; deep links must stay on the program's allowed domains."""
    enrollment = (selectors.approved_enrollments(network=network, affiliate_id=affiliate_id)
                  .filter(program_id=program_id).first())
    if enrollment is None:
        raise ValidationError({"program": ["You have no approved enrollment in this program."]})
    if enrollment.needs_terms_acceptance:
        raise ValidationError({"program": [
            f"Accept version {enrollment.program.terms_version} of the program's terms before creating links."]})
    destination = ""
    if destination_url:
        allowed = domains.allowed_destination(destination_url, enrollment.program.allowed_domains)
        if allowed is None:
            hosts = ", ".join(enrollment.program.allowed_domains) or "none"
            raise ValidationError({"destination_url": [
                f"This address is not on the program's allowed domains ({hosts})."]})
        destination = allowed
    subs = subs or {}
    unknown = set(subs) - set(SUB_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["Only sub1 to sub5 are sub-ids."]})
    too_long = [name for name in SUB_FIELDS if len(subs.get(name) or "") > 100]
    if too_long:
        raise ValidationError({too_long[0]: ["At most 100 characters."]})
    if len(label or "") > 100:
        raise ValidationError({"label": ["At most 100 characters."]})
    return TrackingLink.objects.create(
        network=network, enrollment=enrollment, program_id=enrollment.program_id, affiliate_id=affiliate_id,
        destination_url=destination, label=label or "", **{name: subs.get(name) or "" for name in SUB_FIELDS})


# --- private program invitations and coupons ----------------------------------------------------------


def _program_of(network: Network, program_id: int | None, merchant_id: int | None) -> Program:
    programs = Program.objects.for_network(network)
    if merchant_id is not None:
        programs = programs.filter(merchant_id=merchant_id)
    program = programs.filter(pk=program_id).first() if program_id else None
    if program is None:
        raise ValidationError({"program": ["No such program of yours."]})
    return program


def _affiliate_of(network: Network, affiliate_id: int | None) -> Affiliate:
    affiliate = Affiliate.objects.for_network(network).filter(pk=affiliate_id).first() if affiliate_id else None
    if affiliate is None:
        raise ValidationError({"affiliate": ["No such affiliate in this network."]})
    return affiliate


@transaction.atomic
def invite_affiliate_to_program(*, network: Network, program_id: int, affiliate_id: int,
                                merchant_id: int | None = None,
                                actor: AbstractBaseUser | None = None) -> tuple[ProgramInvitation, bool]:
    """Invite an affiliate to a program (private programs become visible to them); idempotent."""
    program = _program_of(network, program_id, merchant_id)
    affiliate = _affiliate_of(network, affiliate_id)
    invitation, created = ProgramInvitation.objects.get_or_create(
        network=network, program=program, affiliate=affiliate, defaults={"invited_by": _user_or_none(actor)})
    if created:
        _mail_after_commit(f"{program.merchant.name} invites you to {program.name}",
                           f"Apply to {program.name} from the marketplace: /portal/marketplace/",
                           selectors.affiliate_member_emails(network=network, affiliate_id=affiliate.pk))
    return invitation, created


@transaction.atomic
def create_coupon(*, network: Network, program_id: int | None, affiliate_id: int | None, code: str,
                  merchant_id: int | None = None, actor: AbstractBaseUser | None = None) -> Coupon:
    """Assign a coupon code of a program to an approved affiliate; codes are unique per program, any case."""
    program = _program_of(network, program_id, merchant_id)
    affiliate = _affiliate_of(network, affiliate_id)
    normalised = selectors.normalise_coupon_code(code)
    if not COUPON_CODE.match(normalised):
        raise ValidationError({"code": ["Use 3 to 64 letters, digits, hyphens or underscores."]})
    if not Enrollment.objects.filter(program=program, affiliate=affiliate,
                                     status=Enrollment.Status.APPROVED).exists():
        raise ValidationError({"affiliate": ["This affiliate is not approved in the program."]})
    if Coupon.objects.filter(program=program, code=normalised).exists():
        raise ValidationError({"code": [f"The code {normalised} is already used in this program."]})
    try:
        with transaction.atomic():
            coupon = Coupon.objects.create(network=network, program=program, affiliate=affiliate, code=normalised)
    except IntegrityError:
        raise ValidationError({"code": [f"The code {normalised} is already used in this program."]}) from None
    network_services.record_audit(network=network, actor=_user_or_none(actor), action="coupon.created", obj=coupon)
    return coupon


def decide_enrollments(*, network: Network, enrollment_ids: list[int], decision: str,
                       actor: AbstractBaseUser | None, reason: str = "") -> tuple[list[int], dict[int, str]]:
    """Bulk approve or reject: each enrollment moves in its own transaction; returns (done ids, refused id → why)."""
    services_by_decision = {"approve": approve_enrollment, "reject": reject_enrollment}
    service = services_by_decision.get(decision)
    if service is None:
        raise ValidationError({"decision": ["Choose approve or reject."]})
    if decision == "reject" and not (reason or "").strip():
        raise ValidationError({"reason": ["Give the affiliates a reason for the rejection."]})
    done: list[int] = []
    refused: dict[int, str] = {}
    for enrollment_id in enrollment_ids:
        try:
            service(network=network, enrollment_id=enrollment_id, actor=actor, reason=reason)
        except ValidationError as error:
            refused[enrollment_id] = " ".join(error.messages)
        except Enrollment.DoesNotExist:
            refused[enrollment_id] = "No such enrollment."
        else:
            done.append(enrollment_id)
    return done, refused
