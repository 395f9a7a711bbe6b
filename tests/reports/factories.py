"""Helpers for reports tests: links, clicks and conversions written straight into tracking's tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from affiliates.models import Enrollment
from tests import factories
from tracking.models import Click, Conversion

_order = iter(range(1, 10**9))


def link_for(tenant, *, affiliate=None, program=None, **fields):
    """A tracking link of the tenant's (or the given) affiliate in the tenant's (or the given) program."""
    program = program or tenant.program
    affiliate = affiliate or tenant.affiliate
    enrollment = Enrollment.objects.filter(program=program, affiliate=affiliate).first()
    if enrollment is None:
        enrollment = factories.EnrollmentFactory(program=program, affiliate=affiliate, network=program.network)
    return factories.TrackingLinkFactory(enrollment=enrollment, **fields)


def clicks(link, *, at: datetime, count: int = 1, unique: int | None = None, sub1: str = "",
           country: str = "DE", device: str = "desktop") -> list[Click]:
    """`count` clicks on the link at `at`; the first `unique` of them unique (all by default)."""
    unique = count if unique is None else unique
    return Click.objects.bulk_create([
        Click(network=link.network, link=link, program=link.program, affiliate=link.affiliate, created_at=at,
              sub1=sub1, country=country, device=device, is_unique=index < unique, visitor_hash=f"v{index}")
        for index in range(count)])


def conversion(link, *, at: datetime, amount_minor: int = 10000, commission_minor: int = 1000,
               status: str = Conversion.Status.PENDING, click: Click | None = None, currency: str | None = None,
               sub1: str = "", updated_at: datetime | None = None, affiliate=None) -> Conversion:
    """One conversion of the link's affiliate (attributed by click when given)."""
    program = link.program
    return Conversion.objects.create(
        network=link.network, program=program, merchant_id=program.merchant_id,
        affiliate=affiliate if affiliate is not None else link.affiliate, link=link, click=click,
        order_id=f"order-{next(_order)}", amount_minor=amount_minor, currency=currency or program.currency,
        commission_minor=commission_minor, status=status, sub1=sub1, occurred_at=at,
        lock_until=at + timedelta(days=30), created_at=at, updated_at=updated_at or at)
