"""Demo clicks and conversions over the last 90 days on the demo links (deterministic and idempotent)."""

from __future__ import annotations

import contextlib
import random
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from tracking import clicks, services
from tracking.models import Click, Conversion

CLICKS_PER_LINK = 160
CONVERSION_RATE = 0.06
USER_AGENTS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
     "desktop"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36", "mobile"),
    ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "tablet"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15", "desktop"),
]
COUNTRIES = ["DE", "FR", "GB", "US", "VN", "NL", "ES", "IT", "PL", "SE"]


def load(context: dict[str, Any]) -> None:
    """Top up demo clicks and conversions; existing ones (same click ids and order ids) are kept as they are."""
    links = list(context.get("links") or [])
    if not links:
        return
    rng = random.Random(20260101)  # demo data: deterministic on purpose
    now = timezone.now()
    new_clicks: list[Click] = []
    for link in links:
        for index in range(CLICKS_PER_LINK):
            user_agent, device = rng.choice(USER_AGENTS)
            ip = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
            new_clicks.append(Click(
                network_id=link.network_id, click_id=f"demo{link.pk:05d}x{index:04d}", link_id=link.pk,
                program_id=link.program_id, affiliate_id=link.affiliate_id,
                created_at=now - timedelta(seconds=rng.randrange(90 * 86400)),
                sub1=link.sub1, sub2=link.sub2, destination_url=link.destination_url or "",
                referrer=rng.choice(["", "https://blog.example.org/", "https://news.example.net/top"]),
                user_agent=user_agent, device=device, country=rng.choice(COUNTRIES), ip_hash=clicks.hash_ip(ip),
                visitor_hash=clicks.visitor_hash(ip, user_agent)))
    Click.objects.bulk_create(new_clicks, batch_size=1000, ignore_conflicts=True)

    stored = {click.click_id: click for click in Click.objects.filter(click_id__startswith="demo",
                                                                      link_id__in=[link.pk for link in links])}
    programs = {link.program_id: link.program for link in links}
    existing = set(Conversion.objects.filter(order_id__startswith="DEMO-").values_list("order_id", flat=True))
    for candidate in new_clicks:
        # Draw every random value before any skip, so a second run walks the same sequence.
        converts, minutes = rng.random() < CONVERSION_RATE, rng.randrange(2, 4 * 24 * 60)
        amount = f"{rng.randrange(15, 250)}.{rng.randrange(100):02d}"
        if not converts:
            continue
        click = stored.get(candidate.click_id)
        order_id = f"DEMO-{candidate.click_id[4:]}"
        if click is None or order_id in existing:
            continue
        program = programs[click.program_id]
        occurred = min(click.created_at + timedelta(minutes=minutes), now)
        try:
            services.record_conversion(program=program, order_id=order_id, amount=amount, currency=program.currency,
                                       source=Conversion.Source.API, click_id=click.click_id, occurred_at=occurred,
                                       now=now)
        except ValidationError:  # a demo program without a "sale" rule or in an odd currency: skip it
            continue
    network = context.get("network")
    if network is not None:
        load_lifecycle(network=network, now=now)


def load_lifecycle(*, network: Any, now: Any) -> None:
    """Reconcile the demo (older conversions become approved and reach the ledger), then one of each
    decision so every page has something to show: a declined test order, a partial return, a claim.
    Idempotent: each step looks for its own result first."""
    from affiliates.models import Enrollment
    from tracking import claims, lifecycle, reconcile
    from tracking.models import ConversionClaim, ReasonCode

    reconcile.reconcile(now=now, network=network)
    demo = Conversion.objects.for_network(network).filter(order_id__startswith="DEMO-").order_by("order_id")
    if not demo.filter(reason_code=ReasonCode.TEST_ORDER).exists():
        pending = demo.filter(status=Conversion.Status.PENDING).first()
        if pending is not None:
            lifecycle.reject_conversion(network=network, conversion_id=pending.pk, reason_code=ReasonCode.TEST_ORDER,
                                        reason="our QA team's test order", now=now)
    if not demo.filter(reversal_count__gt=0).exists():
        approved = demo.filter(status=Conversion.Status.APPROVED, amount_minor__gte=400).last()
        if approved is not None:
            lifecycle.reverse_conversion(network=network, conversion_id=approved.pk,
                                         amount_minor=approved.amount_minor // 4, reason_code=ReasonCode.RETURNED,
                                         reason="one of four items returned", now=now)
    if not ConversionClaim.objects.for_network(network).exists():
        enrollment = (Enrollment.objects.for_network(network).filter(status=Enrollment.Status.APPROVED)
                      .select_related("program").order_by("pk").first())
        if enrollment is not None:
            # The demo order may exist in this program already: then there is no claim to show.
            with contextlib.suppress(ValidationError):
                claims.open_claim(network=network, affiliate_id=enrollment.affiliate_id, program=enrollment.program,
                                  order_id="DEMO-MISSING-1", order_date=(now - timedelta(days=3)).date(),
                                  amount="59.00" if enrollment.program.currency != "JPY" else "5900",
                                  currency=enrollment.program.currency,
                                  note="The customer told me they bought through my review link.", now=now)
