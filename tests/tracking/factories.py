"""Helpers for tracking tests: links in a tenant's program, clicks, Stripe integrations."""

from datetime import datetime

from affiliates.models import Enrollment
from tests import factories
from tracking.models import Click, StripeIntegration

BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0 Safari/537.36")
WEBHOOK_SECRET = "whsec_test_secret_for_tracking"


def link_for(tenant, *, affiliate=None, program=None, status=Enrollment.Status.APPROVED, **fields):
    """A tracking link of the tenant's (or the given) affiliate in the tenant's (or the given) program."""
    program = program or tenant.program
    affiliate = affiliate or tenant.affiliate
    enrollment = Enrollment.objects.filter(program=program, affiliate=affiliate).first()
    if enrollment is None:
        enrollment = factories.EnrollmentFactory(program=program, affiliate=affiliate, network=program.network,
                                                 status=status)
    return factories.TrackingLinkFactory(enrollment=enrollment, **fields)


def click_for(link, *, created_at: datetime, visitor_hash: str = "v1", ip_hash: str = "ip1",
              paid_click_params: list | None = None, is_attributable: bool = True, **fields) -> Click:
    """A stored click on the link at a given time."""
    return Click.objects.create(network=link.network, link=link, program=link.program, affiliate=link.affiliate,
                                created_at=created_at, visitor_hash=visitor_hash, ip_hash=ip_hash,
                                paid_click_params=paid_click_params or [], is_attributable=is_attributable,
                                is_unique=is_attributable, **fields)


def stripe_integration_for(program) -> StripeIntegration:
    return StripeIntegration.objects.create(network=program.network, program=program, webhook_secret=WEBHOOK_SECRET)
