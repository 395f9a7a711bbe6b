"""Reads for affiliates, enrollments and links; each takes the network first."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery

from affiliates.models import (
    Affiliate,
    AffiliateMembership,
    Coupon,
    Enrollment,
    ProgramInvitation,
    ProgramMetrics,
    TrackingLink,
)
from merchants import selectors as merchant_selectors
from merchants.models import CommissionRule, Program, ProgramAffiliateRate
from network import money
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


# --- affiliates, enrollments, links, coupons -------------------------------------------------------------


def affiliate_for_network(*, network: Network, affiliate_id: int) -> Affiliate:
    """An affiliate of the network by id; missing and foreign look the same (DoesNotExist)."""
    return Affiliate.objects.for_network(network).get(pk=affiliate_id)


def affiliate_of_user(*, network: Network, user: AbstractBaseUser) -> Affiliate | None:
    """The first affiliate account the user belongs to in the network, if any."""
    membership = (AffiliateMembership.objects.for_network(network).filter(user_id=user.pk)
                  .select_related("affiliate").order_by("created_at").first())
    return membership.affiliate if membership else None


def affiliate_member_emails(*, network: Network, affiliate_id: int) -> list[str]:
    """Where to send an affiliate's notifications: every member's email."""
    return list(AffiliateMembership.objects.for_network(network).filter(affiliate_id=affiliate_id)
                .values_list("user__email", flat=True))


def visible_programs(*, network: Network, affiliate_id: int | None) -> QuerySet[Program]:
    """Active programs an affiliate may see: public ones, and private ones they were invited to."""
    visible = Q(visibility=Program.Visibility.PUBLIC)
    if affiliate_id is not None:
        invited = ProgramInvitation.objects.for_network(network).filter(affiliate_id=affiliate_id)
        visible |= Q(pk__in=invited.values("program_id"))
    return Program.objects.for_network(network).filter(visible, status=Program.Status.ACTIVE)


def marketplace_programs(*, network: Network, affiliate_id: int | None, text: str = "", category: str = "",
                         commission_type: str = "", min_cookie_days: int | None = None,
                         currency: str = "") -> QuerySet[Program]:
    """The marketplace: visible programs with merchant, metrics and rules loaded in a fixed number of queries."""
    programs = visible_programs(network=network, affiliate_id=affiliate_id)
    if text:
        programs = programs.filter(Q(name__icontains=text) | Q(description__icontains=text)
                                   | Q(merchant__name__icontains=text) | Q(category__icontains=text))
    if category:
        programs = programs.filter(category__iexact=category)
    if commission_type:
        programs = programs.filter(pk__in=CommissionRule.objects.for_network(network)
                                   .filter(type=commission_type).values("program_id"))
    if min_cookie_days is not None:
        programs = programs.filter(cookie_window_days__gte=min_cookie_days)
    if currency:
        programs = programs.filter(currency=currency.upper())
    prefetches = [Prefetch("rules", queryset=CommissionRule.objects.order_by("action"))]
    if affiliate_id is not None:
        # The affiliate's own enrollment status, as a subquery so the list needs no query per program.
        mine = Enrollment.objects.filter(program_id=OuterRef("pk"), affiliate_id=affiliate_id)
        programs = programs.annotate(my_enrollment_status=Subquery(mine.values("status")[:1]))
        # Private rates the merchant gave this affiliate (they beat the program's rules): one query for the page.
        prefetches.append(Prefetch("affiliate_rates", to_attr="my_rates",
                                   queryset=ProgramAffiliateRate.objects.filter(affiliate_id=affiliate_id)
                                   .order_by("action")))
    return (programs.select_related("merchant", "metrics").prefetch_related(*prefetches)
            .order_by("name", "pk"))


def marketplace_categories(*, network: Network, affiliate_id: int | None) -> list[str]:
    """The niches present among the programs an affiliate can see, for the filter."""
    return sorted(set(visible_programs(network=network, affiliate_id=affiliate_id).exclude(category="")
                      .values_list("category", flat=True)))


def network_payout_methods(network: Network) -> list[str]:
    """Payout methods the deployment can pay with (configured providers; bank files always, sandbox in DEBUG)."""
    methods = []
    if settings.PAYPAL_CLIENT_ID:
        methods.append("paypal")
    if getattr(settings, "PAYONEER_PROGRAM_ID", ""):
        methods.append("payoneer")
    if getattr(settings, "STRIPE_API_KEY", ""):
        methods.append("stripe")
    methods.append("bank")
    if settings.DEBUG:
        methods.append("sandbox")
    return methods


@dataclass(frozen=True)
class MarketplaceFigures:
    """A program's marketplace metrics in the API's shape (decimal strings)."""

    epc: str
    conversion_rate: str
    average_commission: str
    reversal_rate: str
    clicks_90d: int
    conversions_90d: int
    funding_status: str


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "0.00"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)}"


def program_figures(program: Program) -> MarketplaceFigures:
    """EPC (earnings per 100 clicks), conversion rate, average commission and reversal rate from ProgramMetrics."""
    try:
        metrics = program.metrics
    except ProgramMetrics.DoesNotExist:
        metrics = None
    if metrics is None:
        zero = money.to_major(0, program.currency)
        return MarketplaceFigures(epc=zero, conversion_rate="0.00", average_commission=zero,
                                  reversal_rate="0.00", clicks_90d=0, conversions_90d=0,
                                  funding_status=ProgramMetrics.Funding.UNKNOWN)
    clicks, conversions = metrics.clicks_90d, metrics.conversions_90d
    epc_minor = (money.round_minor(Decimal(metrics.approved_commission_90d_minor) * 100 / Decimal(clicks))
                 if clicks else 0)
    average_minor = (money.round_minor(Decimal(metrics.approved_commission_90d_minor)
                                       / Decimal(metrics.conversions_count_for_average))
                     if metrics.conversions_count_for_average else 0)
    return MarketplaceFigures(
        epc=money.to_major(epc_minor, program.currency),
        conversion_rate=_percent(conversions, clicks),
        average_commission=money.to_major(average_minor, program.currency),
        reversal_rate=_percent(metrics.reversed_90d, conversions),
        clicks_90d=clicks, conversions_90d=conversions, funding_status=metrics.funding_status,
    )


def describe_rule(rule: CommissionRule | ProgramAffiliateRate, currency: str) -> str:
    """A short human summary of a commission rule ("sale: 10 %", "lead: 2.50 USD")."""
    if rule.type == CommissionRule.Type.PERCENT and rule.rate is not None:
        return f"{rule.action}: {rule.rate.normalize():f} %"
    if rule.amount_minor is not None:
        return f"{rule.action}: {money.to_major(rule.amount_minor, currency)} {currency}"
    return rule.action


def enrollments_for_actor(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """What every enrollment list loads: program (with merchant) and affiliate in one query."""
    return queryset.select_related("program", "program__merchant", "affiliate").order_by("-applied_at", "-pk")


def usable_link_filter(prefix: str = "") -> Q:
    """A Q (on TrackingLink, or through `prefix` e.g. "link__") for links that may be credited with clicks.

    A link is usable when it is active, its enrollment is approved and the enrollment accepted the
    program's current terms version. The tracking app uses this to refuse to credit other clicks.
    """
    return Q(**{
        f"{prefix}is_active": True,
        f"{prefix}enrollment__status": Enrollment.Status.APPROVED,
        f"{prefix}enrollment__accepted_terms_version__gte": F(f"{prefix}program__terms_version"),
    })


def usable_links(*, network: Network | None = None) -> QuerySet[TrackingLink]:
    """Tracking links that may be credited (see `usable_link_filter`); network-scoped when given."""
    links = TrackingLink.objects.all() if network is None else TrackingLink.objects.for_network(network)
    return links.filter(usable_link_filter())


def link_is_usable(link: TrackingLink) -> bool:
    """True when clicks on this link may be credited (active, approved enrollment, current terms accepted)."""
    enrollment, program = link.enrollment, link.program
    return bool(link.is_active and enrollment.status == Enrollment.Status.APPROVED
                and (enrollment.accepted_terms_version or 0) >= program.terms_version)


def link_by_code(code: str) -> TrackingLink | None:
    """The link a /c/<code> names, with enrollment and program loaded (codes are globally unique)."""
    return TrackingLink.objects.select_related("enrollment", "program").filter(code=code).first()


def coupon_for_code(*, network: Network, program_id: int, code: str) -> Coupon | None:
    """The active coupon of a program by code, case-insensitively (codes are stored upper-case)."""
    return (Coupon.objects.for_network(network)
            .filter(program_id=program_id, code=normalise_coupon_code(code), is_active=True)
            .select_related("affiliate").first())


def normalise_coupon_code(code: str) -> str:
    """The stored form of a coupon code: trimmed, upper-case."""
    return (code or "").strip().upper()


def tracking_url(*, code: str, host: str, subs: dict[str, str] | None = None, secure: bool = True) -> str:
    """The public URL of a link on a host; sub-ids ride along as query parameters."""
    bare = host.split(":", 1)[0]
    # Plain http only for local development hosts that were reached over http.
    scheme = "https" if secure or bare not in ("localhost", "127.0.0.1") else "http"
    query = urlencode({name: value for name, value in (subs or {}).items() if value})
    return f"{scheme}://{host}/c/{code}" + (f"?{query}" if query else "")


def link_tracking_url(link: TrackingLink, *, host: str, secure: bool = True) -> str:
    """A link's tracking URL with its stored sub-ids."""
    return tracking_url(code=link.code, host=host, secure=secure,
                        subs={f"sub{n}": getattr(link, f"sub{n}") for n in range(1, 6)})


def approved_enrollments(*, network: Network, affiliate_id: int) -> QuerySet[Enrollment]:
    """An affiliate's approved enrollments with their programs."""
    return (Enrollment.objects.for_network(network)
            .filter(affiliate_id=affiliate_id, status=Enrollment.Status.APPROVED)
            .select_related("program", "program__merchant").order_by("program__name"))


def creatives_for_affiliate(*, network: Network, affiliate_id: int) -> list[Any]:
    """Active creatives of the affiliate's approved programs (empty until merchants ship creatives)."""
    active_creatives = getattr(merchant_selectors, "active_creatives", None)
    if active_creatives is None:
        return []
    program_ids = list(approved_enrollments(network=network, affiliate_id=affiliate_id)
                       .values_list("program_id", flat=True))
    if not program_ids:
        return []
    return list(active_creatives(network=network, program_ids=program_ids))
