"""Demo clicks and conversions over the last 90 days on the demo links (deterministic and idempotent)."""

from __future__ import annotations

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
