"""Demo data of the affiliates app: publishers from several countries, enrolled with links and a coupon."""

from __future__ import annotations

from typing import Any

from affiliates.models import Affiliate, AffiliateMembership, Coupon, Enrollment, TrackingLink
from merchants import domains
from merchants.models import Program
from network import services as network_services

AFFILIATES = [
    # key, name, kind, country, website, channels, login
    ("wanderlust", "Wanderlust Travel Blog", "individual", "DE", "https://wanderlust.demo",
     ["content", "social"], "affiliate@wanderlust.demo"),
    ("techreview", "Tech Review VN", "company", "VN", "https://techreview.demo", ["content", "video"],
     "affiliate@techreview.demo"),
    ("savebig", "SaveBig Coupons", "company", "US", "https://savebig.demo", ["coupon", "email"],
     "affiliate@savebig.demo"),
    ("canal", "Canal Aventura", "individual", "BR", "https://youtube.example/canalaventura", ["video", "social"],
     "affiliate@canalaventura.demo"),
    ("weekly", "The Weekly Letter", "company", "GB", "https://weeklyletter.demo", ["newsletter", "email"],
     "affiliate@weeklyletter.demo"),
]


def _programs(context: dict[str, Any]) -> list[Program]:
    # The merchants app may put its programs in the context (a dict or a list); otherwise read them back.
    given = context.get("programs")
    if isinstance(given, dict):
        programs = [p for p in given.values() if isinstance(p, Program)]
    elif isinstance(given, list | tuple):
        programs = [p for p in given if isinstance(p, Program)]
    else:
        programs = []
    if not programs:
        programs = list(Program.objects.for_network(context["network"]).filter(status=Program.Status.ACTIVE)
                        .order_by("pk"))
    return [p for p in programs if p.status == Program.Status.ACTIVE]


def load(context: dict[str, Any]) -> None:
    network = context["network"]
    affiliates: dict[str, Affiliate] = {}
    links: list[TrackingLink] = []
    enrollments: list[Enrollment] = []
    programs = _programs(context)
    for key, name, kind, country, website, channels, email in AFFILIATES:
        affiliate, _ = Affiliate.objects.get_or_create(
            network=network, name=name,
            defaults={"kind": kind, "country": country, "website": website, "channels": channels,
                      "status": Affiliate.Status.ACTIVE})
        user = network_services.get_or_create_user(email=email, password=context["password"], verified=True)
        AffiliateMembership.objects.get_or_create(network=network, affiliate=affiliate, user=user,
                                                  defaults={"role": AffiliateMembership.Role.OWNER})
        context["logins"].append((f"affiliate ({name}, {country})", email))
        affiliates[key] = affiliate
        for index, program in enumerate(programs):
            # Everyone joins the first three programs; the travel blog and the coupon site join them all.
            if index >= 3 and key not in ("savebig", "wanderlust"):
                continue
            # One application waits in the merchant's review queue, so the demo shows it.
            waiting = key == "canal" and index == len(programs) - 1 and index > 0
            enrollment, _ = Enrollment.objects.get_or_create(
                network=network, program=program, affiliate=affiliate,
                defaults={"status": Enrollment.Status.PENDING if waiting else Enrollment.Status.APPROVED,
                          "accepted_terms_version": program.terms_version,
                          "website": website, "promotion_methods": channels,
                          "message": f"{name} would love to promote {program.name}."})
            enrollments.append(enrollment)
            if enrollment.status != Enrollment.Status.APPROVED:
                continue
            default, _ = TrackingLink.objects.get_or_create(
                network=network, enrollment=enrollment, label="Default",
                defaults={"program": program, "affiliate": affiliate})
            links.append(default)
            deep = domains.allowed_destination(program.landing_url, program.allowed_domains)
            campaign, _ = TrackingLink.objects.get_or_create(
                network=network, enrollment=enrollment, label=f"{key} spring campaign",
                defaults={"program": program, "affiliate": affiliate, "destination_url": deep or "",
                          "sub1": "spring", "sub2": key})
            links.append(campaign)
            if key == "savebig":
                code = f"SAVEBIG{program.pk}"
                Coupon.objects.get_or_create(network=network, program=program, code=code,
                                             defaults={"affiliate": affiliate})
    context["affiliates"] = affiliates
    context["links"] = links
    context["enrollments"] = enrollments
