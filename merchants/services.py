"""Writes for merchants: organisations and members, programs, commission rules, terms, creatives.

Every program-changing service bumps `Program.cache_version` (see the model) so the click path's
link cache, which is keyed on it, never serves a stale program.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants import domains
from merchants.models import (
    CommissionRule,
    Creative,
    Merchant,
    MerchantMembership,
    Program,
    ProgramAffiliateRate,
    ProgramEvent,
    ProgramTerms,
    new_postback_token,
)
from network import invitations
from network import services as network_services
from network.models import Domain, Invitation, Network

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

PROMOTION_METHODS = ("content", "email", "social", "paid_search")
CLICK_PARAM = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
# Names the click endpoint itself reads; a click parameter with one of these names would be ambiguous.
RESERVED_CLICK_PARAMS = frozenset({"to", "sub1", "sub2", "sub3", "sub4", "sub5"})
PROGRAM_FIELDS = ("name", "description", "category", "landing_url", "allowed_domains", "cookie_window_days",
                  "attribution", "approval", "visibility", "currency", "lock_days", "click_param",
                  "min_seconds_to_convert", "duplicate_click_window_seconds")
CREATIVE_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}
CREATIVE_IMAGE_MAX_BYTES = 500 * 1024

MERCHANT_TRANSITIONS: dict[str, frozenset[str]] = {
    Merchant.Status.PENDING: frozenset({Merchant.Status.ACTIVE, Merchant.Status.SUSPENDED}),
    Merchant.Status.ACTIVE: frozenset({Merchant.Status.SUSPENDED}),
    Merchant.Status.SUSPENDED: frozenset({Merchant.Status.ACTIVE}),
}


# --- merchant organisations -------------------------------------------------------------------------

def network_base_url(network: Network) -> str:
    """The network's own web address, for links in emails."""
    domain = Domain.objects.for_network(network).order_by("pk").first()
    host = domain.host if domain else f"{network.slug}.{settings.BASE_DOMAIN}"
    scheme = "http" if settings.DEBUG else "https"
    return f"{scheme}://{host}"


def _send_invitation_email(*, network: Network, invitation_id: int, token: str, merchant_name: str) -> None:
    invitation = Invitation.objects.get(pk=invitation_id)
    link = f"{network_base_url(network)}/invitations/{token}/"
    send_mail(
        subject=_("You are invited to %(merchant)s on %(network)s") % {"merchant": merchant_name,
                                                                      "network": network.display_name},
        message=_("You have been invited to join %(merchant)s as %(role)s on %(network)s.\n\n"
                  "Accept the invitation here (valid for %(days)s days):\n%(link)s\n")
        % {"merchant": merchant_name, "role": invitation.role, "network": network.display_name,
           "days": invitations.INVITATION_DAYS, "link": link},
        from_email=None,
        recipient_list=[invitation.email],
    )


def _check_merchant_name(*, network: Network, name: str, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the merchant a name.")]})
    if len(name) > 120:
        raise ValidationError({"name": [_("Use at most 120 characters.")]})
    taken = Merchant.objects.for_network(network).filter(name__iexact=name)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationError({"name": [_("A merchant with this name already exists in the network.")]})
    return name


def _invite(*, network: Network, merchant: Merchant, email: str, role: str,
            actor: AbstractBaseUser | None) -> Invitation:
    invitation, token = invitations.create_invitation(network=network, email=email, kind="merchant",
                                                      target_id=merchant.pk, role=role, invited_by=actor)
    invitation_id, merchant_name = invitation.pk, merchant.name
    transaction.on_commit(lambda: _send_invitation_email(network=network, invitation_id=invitation_id,
                                                         token=token, merchant_name=merchant_name))
    return invitation


@transaction.atomic
def create_merchant(*, network: Network, name: str, owner_email: str, actor: AbstractBaseUser | None,
                    website: str = "", country: str = "") -> tuple[Merchant, Invitation | None]:
    """Create an active merchant; an existing user becomes its admin at once, anyone else is invited by email."""
    name = _check_merchant_name(network=network, name=name)
    email = get_user_model().objects.normalize_email((owner_email or "").strip()).lower()
    if "@" not in email:
        raise ValidationError({"owner_email": [_("Enter a valid email address.")]})
    merchant = Merchant(network=network, name=name, website=website or "", country=(country or "").upper(),
                        status=Merchant.Status.ACTIVE)
    merchant.full_clean(exclude=["network"])
    try:
        with transaction.atomic():
            merchant.save()
    except IntegrityError:
        raise ValidationError({"name": [_("A merchant with this name already exists in the network.")]}) from None
    user = get_user_model().objects.filter(email__iexact=email).first()
    invitation = None
    if user is not None:
        MerchantMembership.objects.create(network=network, merchant=merchant, user=user,
                                          role=MerchantMembership.Role.ADMIN)
    else:
        invitation = _invite(network=network, merchant=merchant, email=email, role=MerchantMembership.Role.ADMIN,
                             actor=actor)
    network_services.record_audit(network=network, actor=actor, action="merchant.created", obj=merchant,
                                  data={"owner_email": email, "invited": invitation is not None})
    return merchant, invitation


@transaction.atomic
def apply_as_merchant(*, network: Network, user: AbstractBaseUser, name: str, website: str = "",
                      country: str = "") -> Merchant:
    """A signed-in user applies to run a merchant: a pending merchant with the user as its admin."""
    name = _check_merchant_name(network=network, name=name)
    merchant = Merchant(network=network, name=name, website=website or "", country=(country or "").upper(),
                        status=Merchant.Status.PENDING)
    merchant.full_clean(exclude=["network"])
    try:
        with transaction.atomic():
            merchant.save()
    except IntegrityError:
        raise ValidationError({"name": [_("A merchant with this name already exists in the network.")]}) from None
    MerchantMembership.objects.create(network=network, merchant=merchant, user=user,
                                      role=MerchantMembership.Role.ADMIN)
    network_services.record_audit(network=network, actor=user, action="merchant.applied", obj=merchant)
    return merchant


@transaction.atomic
def change_merchant_status(*, network: Network, merchant_id: int, to_status: str,
                           actor: AbstractBaseUser | None, reason: str = "") -> Merchant:
    """Approve, suspend or reinstate a merchant; a forbidden move names `status` and changes nothing."""
    merchant = Merchant.objects.for_network(network).select_for_update().get(pk=merchant_id)
    if to_status == merchant.status:
        return merchant
    if to_status not in MERCHANT_TRANSITIONS.get(merchant.status, frozenset()):
        raise ValidationError({"status": [_("A %(from)s merchant cannot become %(to)s.")
                                          % {"from": merchant.status, "to": to_status}]})
    previous = merchant.status
    Merchant.objects.filter(pk=merchant.pk, status=previous).update(status=to_status)
    merchant.status = to_status
    # The click path may cache the merchant's standing with each link; make it look again.
    Program.objects.for_network(network).filter(merchant=merchant).update(cache_version=F("cache_version") + 1)
    network_services.record_audit(network=network, actor=actor, action="merchant.status_changed", obj=merchant,
                                  data={"from": previous, "to": to_status, "reason": reason})
    return merchant


@transaction.atomic
def set_merchant_fee(*, network: Network, merchant_id: int, fee_type: str, fee_rate: Decimal | None,
                     fee_flat_minor: int | None, actor: AbstractBaseUser | None) -> Merchant:
    """Override the network fee for one merchant; an empty type goes back to the network default."""
    merchant = Merchant.objects.for_network(network).select_for_update().get(pk=merchant_id)
    if fee_type and fee_type not in Network.FeeType.values:
        raise ValidationError({"fee_type": [_("Choose a fee type.")]})
    if not fee_type:
        fee_rate, fee_flat_minor = None, None
    elif fee_type == Network.FeeType.FLAT:
        if fee_flat_minor is None or fee_flat_minor < 0:
            raise ValidationError({"fee_flat": [_("Give a flat fee of zero or more.")]})
        fee_rate = None
    else:
        if fee_rate is None or not Decimal(0) <= fee_rate <= Decimal(100):
            raise ValidationError({"fee_rate": [_("Give a percentage between 0 and 100.")]})
        fee_flat_minor = None
    Merchant.objects.filter(pk=merchant.pk).update(fee_type=fee_type or "", fee_rate=fee_rate,
                                                   fee_flat_minor=fee_flat_minor)
    merchant.refresh_from_db()
    network_services.record_audit(network=network, actor=actor, action="merchant.fee_changed", obj=merchant,
                                  data={"fee_type": fee_type, "fee_rate": str(fee_rate),
                                        "fee_flat_minor": fee_flat_minor})
    return merchant


@transaction.atomic
def invite_merchant_member(*, network: Network, merchant_id: int, email: str, role: str,
                           actor: AbstractBaseUser | None) -> Invitation:
    """Invite someone by email to a merchant as admin or analyst; the mail goes out after commit."""
    merchant = Merchant.objects.for_network(network).get(pk=merchant_id)
    if role not in MerchantMembership.Role.values:
        raise ValidationError({"role": [_("Choose admin or analyst.")]})
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ValidationError({"email": [_("Enter a valid email address.")]})
    if MerchantMembership.objects.for_network(network).filter(merchant=merchant, user__email__iexact=email).exists():
        raise ValidationError({"email": [_("This person is already a member.")]})
    return _invite(network=network, merchant=merchant, email=email, role=role, actor=actor)


@transaction.atomic
def change_member_role(*, network: Network, merchant_id: int, membership_id: int, role: str,
                       actor: AbstractBaseUser | None) -> MerchantMembership | None:
    """Change a member's role, or remove them (role ""); the last admin can neither go nor be demoted."""
    membership = (MerchantMembership.objects.for_network(network).select_for_update()
                  .get(pk=membership_id, merchant_id=merchant_id))
    if role and role not in MerchantMembership.Role.values:
        raise ValidationError({"role": [_("Choose admin or analyst.")]})
    if membership.role == MerchantMembership.Role.ADMIN and role != MerchantMembership.Role.ADMIN:
        admins = (MerchantMembership.objects.for_network(network)
                  .filter(merchant_id=merchant_id, role=MerchantMembership.Role.ADMIN).count())
        if admins <= 1:
            raise ValidationError({"role": [_("A merchant needs at least one admin.")]})
    if not role:
        membership.delete()
        network_services.record_audit(network=network, actor=actor, action="merchant.member_removed",
                                      data={"merchant": merchant_id, "user": membership.user_id})
        return None
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


def accept_merchant_invitation(invitation: Invitation, user: AbstractBaseUser) -> None:
    """Invitation acceptor for kind "merchant": the user joins the merchant with the invited role."""
    if not Merchant.objects.for_network(invitation.network_id).filter(pk=invitation.target_id).exists():
        raise ValidationError({"token": [_("The merchant of this invitation no longer exists.")]})
    role = invitation.role if invitation.role in MerchantMembership.Role.values else MerchantMembership.Role.ANALYST
    MerchantMembership.objects.get_or_create(network_id=invitation.network_id, merchant_id=invitation.target_id,
                                             user=user, defaults={"role": role})


# --- programs ---------------------------------------------------------------------------------------

def _bump_cache_version(program: Program) -> None:
    Program.objects.filter(pk=program.pk).update(cache_version=F("cache_version") + 1)


def _clean_program(program: Program) -> None:
    """Validate a program's fields together; every error names its field."""
    errors: dict[str, list[str]] = {}
    try:
        program.allowed_domains = domains.validate_allowed_domains(program.allowed_domains)
    except ValidationError as error:
        errors["allowed_domains"] = error.messages
    landing = (program.landing_url or "").strip()
    parts = urlsplit(landing)
    host = domains.normalise_host(parts.hostname or "") if parts.scheme in ("http", "https") else None
    if host is None:
        errors["landing_url"] = [_("Enter an http(s) address such as https://shop.example.com/.")]
    elif "allowed_domains" not in errors:
        if not program.allowed_domains:
            program.allowed_domains = [host]
        if domains.allowed_destination(landing, program.allowed_domains) is None:
            errors["landing_url"] = [_("The landing URL must be on one of the allowed domains.")]
    if not CLICK_PARAM.match(program.click_param or "") or program.click_param.lower() in RESERVED_CLICK_PARAMS:
        errors["click_param"] = [_("Use a letter followed by letters, digits or underscores (at most 32), "
                                   "not to or sub1–sub5.")]
    try:
        program.full_clean(exclude=["network", "merchant", "allowed_domains", "landing_url", "click_param",
                                    "postback_token"])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, messages)
    if len(landing) > 2000:
        errors.setdefault("landing_url", [_("Use at most 2000 characters.")])
    if errors:
        raise ValidationError(errors)
    program.landing_url = landing


def _clean_terms(terms: dict[str, Any]) -> dict[str, Any]:
    unknown = set(terms) - {"promotion_methods", "ppc_brand_bidding", "coupon_sites", "text"}
    if unknown:
        raise ValidationError({"terms": [_("Unknown terms fields: %(names)s.") % {"names": ", ".join(sorted(unknown))}]})
    methods = list(terms.get("promotion_methods", list(PROMOTION_METHODS)))
    bad = [m for m in methods if m not in PROMOTION_METHODS]
    if bad:
        raise ValidationError({"terms": [_("Unknown promotion methods: %(names)s.") % {"names": ", ".join(map(str, bad))}]})
    return {
        "promotion_methods": [m for m in PROMOTION_METHODS if m in methods],
        "ppc_brand_bidding": bool(terms.get("ppc_brand_bidding", False)),
        "coupon_sites": bool(terms.get("coupon_sites", True)),
        "text": str(terms.get("text", "")),
    }


def _decimal(value: Any, *, label: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("%(label)s %(value)s is not a number.") % {"label": label, "value": value}) from None
    if not result.is_finite():
        raise ValidationError(_("%(label)s %(value)s is not a number.") % {"label": label, "value": value})
    return result


def _clean_rate_or_amount(*, type_: str, rate: Any, amount_minor: Any, label: str) -> tuple[Decimal | None, int | None]:
    if type_ == CommissionRule.Type.PERCENT:
        if rate is None:
            raise ValidationError(_("%(label)s: a percent rule needs a rate.") % {"label": label})
        value = _decimal(rate, label=label)
        if not Decimal(0) <= value <= Decimal(100) or value != value.quantize(Decimal("0.0001")):
            raise ValidationError(_("%(label)s: the rate must be between 0 and 100 with at most 4 decimals.")
                                  % {"label": label})
        return value, None
    if type_ == CommissionRule.Type.FLAT:
        if amount_minor is None or isinstance(amount_minor, bool) or not isinstance(amount_minor, int) \
                or amount_minor < 0:
            raise ValidationError(_("%(label)s: a flat rule needs an amount of zero or more.") % {"label": label})
        return None, amount_minor
    raise ValidationError(_("%(label)s: the type must be percent or flat.") % {"label": label})


def clean_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate a program's rule set (minor units); raises ValidationError naming `rules`."""
    if not isinstance(rules, list):
        raise ValidationError({"rules": [_("Give a list of rules.")]})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    try:
        for index, rule in enumerate(rules, start=1):
            action = str(rule.get("action", "")).strip().lower()
            label = _("Rule %(n)s (%(action)s)") % {"n": index, "action": action or "?"}
            if not re.fullmatch(r"[a-z0-9_-]{1,32}", action):
                raise ValidationError(_("%(label)s: the action must be a short slug such as sale, lead or signup.")
                                      % {"label": label})
            if action in seen:
                raise ValidationError(_("%(label)s: the action appears twice.") % {"label": label})
            seen.add(action)
            type_ = rule.get("type", "")
            rate, amount = _clean_rate_or_amount(type_=type_, rate=rule.get("rate"),
                                                 amount_minor=rule.get("amount_minor"), label=label)
            recurring = rule.get("recurring") or CommissionRule.Recurring.NONE
            if recurring not in CommissionRule.Recurring.values:
                raise ValidationError(_("%(label)s: recurring must be none, months or lifetime.") % {"label": label})
            months = rule.get("recurring_months")
            if recurring == CommissionRule.Recurring.MONTHS:
                if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
                    raise ValidationError(_("%(label)s: give the number of months (1–120).") % {"label": label})
            else:
                months = None
            cap = rule.get("monthly_cap_per_affiliate")
            if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
                raise ValidationError(_("%(label)s: the monthly cap must be a whole number of 1 or more.")
                                      % {"label": label})
            tiers: list[dict[str, Any]] = []
            previous = 0
            for tier in rule.get("tiers") or []:
                threshold = tier.get("min_approved")
                if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold <= previous:
                    raise ValidationError(_("%(label)s: tier thresholds must be whole numbers above 0, rising.")
                                          % {"label": label})
                previous = threshold
                tier_rate, tier_amount = _clean_rate_or_amount(
                    type_=type_, rate=tier.get("rate"), amount_minor=tier.get("amount_minor"),
                    label=_("%(label)s tier from %(n)s") % {"label": label, "n": threshold})
                tiers.append({"min_approved": threshold, "rate": f"{tier_rate.normalize():f}"}
                             if tier_rate is not None else {"min_approved": threshold, "amount_minor": tier_amount})
            cleaned.append({"action": action, "type": type_, "rate": rate, "amount_minor": amount,
                            "recurring": recurring, "recurring_months": months, "tiers": tiers,
                            "monthly_cap_per_affiliate": cap})
    except ValidationError as error:
        raise ValidationError({"rules": error.messages}) from None
    return cleaned


def _replace_rules(program: Program, rules: list[dict[str, Any]]) -> None:
    CommissionRule.objects.for_network(program.network_id).filter(program=program).delete()
    CommissionRule.objects.bulk_create([CommissionRule(network_id=program.network_id, program=program, **rule)
                                        for rule in rules])


def _create_terms(program: Program, version: int, terms: dict[str, Any]) -> ProgramTerms:
    return ProgramTerms.objects.create(network_id=program.network_id, program=program, version=version, **terms)


def _write_event(program: Program, from_status: str, to_status: str, actor: AbstractBaseUser | None,
                 reason: str) -> ProgramEvent:
    return ProgramEvent.objects.create(
        network_id=program.network_id, program=program, from_status=from_status, to_status=to_status,
        actor=actor if actor is not None and actor.is_authenticated else None, reason=reason[:500])


@transaction.atomic
def create_program(*, network: Network, merchant_id: int, actor: AbstractBaseUser | None,
                   rules: list[dict[str, Any]] | None = None, terms: dict[str, Any] | None = None,
                   status: str = Program.Status.DRAFT, **fields: Any) -> Program:
    """Create a program with its rules and terms version 1; a status other than draft is a logged transition."""
    merchant = Merchant.objects.for_network(network).filter(pk=merchant_id).first()
    if merchant is None:
        raise ValidationError({"merchant": [_("No such merchant in this network.")]})
    unknown = set(fields) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field does not exist.")] for name in sorted(unknown)})
    fields.setdefault("currency", network.default_currency)
    program = Program(network=network, merchant=merchant, **fields)
    _clean_program(program)
    cleaned_rules = clean_rules(rules or [])
    cleaned_terms = _clean_terms(terms or {})
    if status not in Program.Status.values:
        raise ValidationError({"status": [_("Unknown status %(status)s.") % {"status": status}]})
    program.status = Program.Status.DRAFT
    program.terms_version = 1
    program.save()
    _replace_rules(program, cleaned_rules)
    _create_terms(program, 1, cleaned_terms)
    network_services.record_audit(network=network, actor=actor, action="program.created", obj=program)
    if status != Program.Status.DRAFT:
        program = change_program_status(network=network, program_id=program.pk, to_status=status, actor=actor)
    return program


@transaction.atomic
def update_program(*, network: Network, program_id: int, actor: AbstractBaseUser | None,
                   rules: list[dict[str, Any]] | None = None, terms: dict[str, Any] | None = None,
                   status: str | None = None, **changes: Any) -> Program:
    """Change a program's fields, and optionally replace its rules, publish new terms, move its status.

    Everything is validated before anything is written; one error leaves the program as it was.
    """
    program = Program.objects.for_network(network).select_for_update().get(pk=program_id)
    unknown = set(changes) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field does not exist.")] for name in sorted(unknown)})
    if "currency" in changes and changes["currency"] != program.currency and program.status != Program.Status.DRAFT:
        raise ValidationError({"currency": [_("The currency can only change while the program is a draft.")]})
    for name, value in changes.items():
        setattr(program, name, value)
    _clean_program(program)
    cleaned_rules = clean_rules(rules) if rules is not None else None
    cleaned_terms = None
    if terms is not None:
        current = ProgramTerms.objects.for_network(network).filter(program=program,
                                                                   version=program.terms_version).first()
        merged = {"promotion_methods": current.promotion_methods, "ppc_brand_bidding": current.ppc_brand_bidding,
                  "coupon_sites": current.coupon_sites, "text": current.text} if current else {}
        merged.update(terms)
        cleaned_terms = _clean_terms(merged)
        if current is not None and cleaned_terms == _clean_terms({
                "promotion_methods": current.promotion_methods, "ppc_brand_bidding": current.ppc_brand_bidding,
                "coupon_sites": current.coupon_sites, "text": current.text}):
            cleaned_terms = None  # the same terms again: no new version for affiliates to accept
    if changes:
        program.save(update_fields=[*changes, "allowed_domains", "landing_url", "updated_at"])
    if cleaned_rules is not None:
        _replace_rules(program, cleaned_rules)
    if cleaned_terms is not None:
        _publish(program, cleaned_terms)  # bumps the cache version itself
    if changes or cleaned_rules is not None:
        _bump_cache_version(program)
        network_services.record_audit(network=network, actor=actor, action="program.updated", obj=program,
                                      data={"fields": sorted(changes), "rules": cleaned_rules is not None})
    if status is not None and status != program.status:
        # Last, so that rules given in the same call count; an error rolls everything back.
        return change_program_status(network=network, program_id=program.pk, to_status=status, actor=actor)
    program.refresh_from_db()
    return program


def _check_transition(program: Program, to_status: str) -> None:
    if to_status not in Program.Status.values:
        raise ValidationError({"status": [_("Unknown status %(status)s.") % {"status": to_status}]})
    if not program.can_transition(to_status):
        allowed = ", ".join(sorted(Program.ALLOWED_TRANSITIONS[program.status])) or _("none")
        raise ValidationError({"status": [_("A %(from)s program cannot become %(to)s (allowed: %(allowed)s).")
                                          % {"from": program.status, "to": to_status, "allowed": allowed}]})
    if to_status == Program.Status.ACTIVE:
        merchant_status = Merchant.objects.filter(pk=program.merchant_id).values_list("status", flat=True).first()
        if merchant_status != Merchant.Status.ACTIVE:
            raise ValidationError({"status": [_("The merchant must be approved before a program goes live.")]})
        if not CommissionRule.objects.for_network(program.network_id).filter(program=program).exists():
            raise ValidationError({"status": [_("Add at least one commission rule before activating.")]})


@transaction.atomic
def change_program_status(*, network: Network, program_id: int, to_status: str, actor: AbstractBaseUser | None,
                          reason: str = "") -> Program:
    """Move a program along its allowed transitions (locked), write a ProgramEvent, invalidate the link cache."""
    program = Program.objects.for_network(network).select_for_update().get(pk=program_id)
    if to_status == program.status:
        return program
    _check_transition(program, to_status)
    previous = program.status
    moved = Program.objects.filter(pk=program.pk, status=previous).update(
        status=to_status, cache_version=F("cache_version") + 1, updated_at=timezone.now())
    if moved != 1:
        raise ValidationError({"status": [_("The program changed meanwhile; reload and try again.")]})
    _write_event(program, previous, to_status, actor, reason)
    program.refresh_from_db()
    return program


def _publish(program: Program, terms: dict[str, Any]) -> ProgramTerms:
    version = program.terms_version + 1
    created = _create_terms(program, version, terms)
    Program.objects.filter(pk=program.pk).update(terms_version=version, cache_version=F("cache_version") + 1)
    program.terms_version = version
    return created


@transaction.atomic
def publish_terms(*, network: Network, program_id: int, actor: AbstractBaseUser | None,
                  promotion_methods: list[str], ppc_brand_bidding: bool, coupon_sites: bool,
                  text: str = "") -> ProgramTerms:
    """Publish a new terms version; approved affiliates must accept it before their links work again."""
    program = Program.objects.for_network(network).select_for_update().get(pk=program_id)
    cleaned = _clean_terms({"promotion_methods": promotion_methods, "ppc_brand_bidding": ppc_brand_bidding,
                            "coupon_sites": coupon_sites, "text": text})
    terms = _publish(program, cleaned)
    network_services.record_audit(network=network, actor=actor, action="program.terms_published", obj=program,
                                  data={"version": terms.version})
    return terms


@transaction.atomic
def set_commission_rules(*, network: Network, program_id: int, rules: list[dict[str, Any]],
                         actor: AbstractBaseUser | None) -> list[CommissionRule]:
    """Replace a program's commission rules (amounts in minor units of the program's currency)."""
    program = Program.objects.for_network(network).select_for_update().get(pk=program_id)
    cleaned = clean_rules(rules)
    if not cleaned and program.status == Program.Status.ACTIVE:
        raise ValidationError({"rules": [_("An active program needs at least one commission rule.")]})
    _replace_rules(program, cleaned)
    _bump_cache_version(program)
    network_services.record_audit(network=network, actor=actor, action="program.rules_changed", obj=program)
    return list(CommissionRule.objects.for_network(network).filter(program=program).order_by("action"))


@transaction.atomic
def regenerate_postback_token(*, network: Network, program_id: int, actor: AbstractBaseUser | None) -> Program:
    """Give the program a new postback token; the old one stops working at once."""
    program = Program.objects.for_network(network).select_for_update().get(pk=program_id)
    Program.objects.filter(pk=program.pk).update(postback_token=new_postback_token(),
                                                 cache_version=F("cache_version") + 1)
    network_services.record_audit(network=network, actor=actor, action="program.postback_token_regenerated",
                                  obj=program)
    program.refresh_from_db()
    return program


@transaction.atomic
def set_affiliate_rate(*, network: Network, program_id: int, affiliate_id: int, action: str, type: str,
                       rate: Decimal | None = None, amount_minor: int | None = None,
                       actor: AbstractBaseUser | None) -> ProgramAffiliateRate:
    """Give one affiliate a private rate for one action of a program (replacing any earlier one)."""
    program = Program.objects.for_network(network).select_for_update().get(pk=program_id)
    affiliate_model = ProgramAffiliateRate._meta.get_field("affiliate").related_model
    if not affiliate_model.objects.for_network(network).filter(pk=affiliate_id).exists():
        raise ValidationError({"affiliate": [_("No such affiliate in this network.")]})
    action = (action or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", action):
        raise ValidationError({"action": [_("The action must be a short slug such as sale, lead or signup.")]})
    try:
        rate, amount_minor = _clean_rate_or_amount(type_=type, rate=rate, amount_minor=amount_minor,
                                                   label=_("Private rate"))
    except ValidationError as error:
        raise ValidationError({"rate" if type == CommissionRule.Type.PERCENT else "amount": error.messages}) from None
    private, _created = ProgramAffiliateRate.objects.update_or_create(
        network=network, program=program, affiliate_id=affiliate_id, action=action,
        defaults={"type": type, "rate": rate, "amount_minor": amount_minor})
    _bump_cache_version(program)
    network_services.record_audit(network=network, actor=actor, action="program.affiliate_rate_set", obj=program,
                                  data={"affiliate": affiliate_id, "action": action})
    return private


@transaction.atomic
def remove_affiliate_rate(*, network: Network, program_id: int, rate_id: int,
                          actor: AbstractBaseUser | None) -> None:
    """Remove a private rate; the affiliate falls back to tiers and the program's rule."""
    program = Program.objects.for_network(network).get(pk=program_id)
    ProgramAffiliateRate.objects.for_network(network).filter(program=program, pk=rate_id).delete()
    _bump_cache_version(program)


# --- creatives --------------------------------------------------------------------------------------

def validate_creative_image(image: UploadedFile) -> tuple[int, int]:
    """Check an uploaded banner: PNG, JPEG, GIF or WebP, at most 500 KB, a real image; returns its size."""
    from PIL import Image, UnidentifiedImageError

    if image.size is not None and image.size > CREATIVE_IMAGE_MAX_BYTES:
        raise ValidationError({"image": [_("The image is larger than 500 KB.")]})
    try:
        image.seek(0)
        with Image.open(image) as opened:
            image_format = opened.format
            width, height = opened.size
            opened.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError({"image": [_("The file is not a readable image.")]}) from None
    finally:
        image.seek(0)
    if image_format not in CREATIVE_IMAGE_FORMATS:
        raise ValidationError({"image": [_("Use a PNG, JPEG, GIF or WebP image.")]})
    if not (1 <= width <= 5000 and 1 <= height <= 5000):
        raise ValidationError({"image": [_("The image must be at most 5000 × 5000 pixels.")]})
    return width, height


def _clean_creative(creative: Creative, program: Program) -> None:
    errors: dict[str, list[str]] = {}
    if creative.kind not in Creative.Kind.values:
        errors["kind"] = [_("Choose banner or text.")]
    if not creative.name.strip():
        errors["name"] = [_("Give the creative a name.")]
    if creative.kind == Creative.Kind.BANNER and not creative.image:
        errors["image"] = [_("A banner needs an image.")]
    if creative.kind == Creative.Kind.TEXT and not creative.text.strip():
        errors["text"] = [_("A text link needs its text.")]
    if creative.destination_url:
        allowed = domains.allowed_destination(creative.destination_url, program.allowed_domains)
        if allowed is None:
            errors["destination_url"] = [_("The destination must be on the program's allowed domains.")]
        else:
            creative.destination_url = allowed
    if len(creative.name) > 120:
        errors.setdefault("name", [_("Use at most 120 characters.")])
    if len(creative.text) > 500:
        errors.setdefault("text", [_("Use at most 500 characters.")])
    if len(creative.alt_text) > 200:
        errors.setdefault("alt_text", [_("Use at most 200 characters.")])
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_creative(*, network: Network, program_id: int, kind: str, name: str, actor: AbstractBaseUser | None,
                    image: UploadedFile | None = None, text: str = "", alt_text: str = "",
                    destination_url: str = "", is_active: bool = True) -> Creative:
    """Add a banner or text link to a program; the image is checked with Pillow before it is stored."""
    program = Program.objects.for_network(network).get(pk=program_id)
    if image is not None:
        validate_creative_image(image)
    creative = Creative(network=network, program=program, kind=kind, name=(name or "").strip(), text=text or "",
                        alt_text=alt_text or "", destination_url=(destination_url or "").strip(),
                        is_active=is_active)
    if image is not None:
        creative.image = image
    _clean_creative(creative, program)
    creative.save()
    network_services.record_audit(network=network, actor=actor, action="creative.created", obj=creative)
    return creative


@transaction.atomic
def update_creative(*, network: Network, creative_id: int, actor: AbstractBaseUser | None,
                    **changes: Any) -> Creative:
    """Change a creative's name, text, alt text, destination, image or whether affiliates see it."""
    creative = Creative.objects.for_network(network).select_related("program").select_for_update(of=("self",)) \
        .get(pk=creative_id)
    unknown = set(changes) - {"name", "text", "alt_text", "destination_url", "is_active", "image"}
    if unknown:
        raise ValidationError({name: [_("This field does not exist.")] for name in sorted(unknown)})
    image = changes.pop("image", None)
    if image is not None:
        validate_creative_image(image)
        creative.image = image
    for name, value in changes.items():
        setattr(creative, name, value.strip() if isinstance(value, str) else value)
    _clean_creative(creative, creative.program)
    creative.save()
    return creative
