"""Demo data of the merchants app: three global merchants with live programs, and one pending application."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from merchants import services
from merchants.models import Creative, Merchant, MerchantMembership, Program
from network import services as network_services

DEMO_MERCHANTS: list[dict[str, Any]] = [
    {
        "short": "hostly", "name": "Hostly", "website": "https://www.hostly.demo", "country": "US",
        "email": "merchant@hostly.demo", "analyst": "analyst@hostly.demo",
        "program": {
            "name": "Hostly Web Hosting Partners", "category": "hosting",
            "description": "Fast, reliable web hosting for small businesses and creators. Pays 30 % of every "
                           "first-year plan, rising to 35 % once you refer 20 approved sales in a month.",
            "landing_url": "https://www.hostly.demo/", "allowed_domains": ["*.hostly.demo"],
            "cookie_window_days": 90, "currency": "USD", "approval": Program.Approval.AUTO, "lock_days": 30,
        },
        "rules": [{"action": "sale", "type": "percent", "rate": Decimal("30"),
                   "tiers": [{"min_approved": 20, "rate": "35"}]}],
        "terms": {"promotion_methods": ["content", "email", "social"], "ppc_brand_bidding": False,
                  "coupon_sites": True, "text": "No bidding on 'Hostly' or misspellings. No incentivised traffic."},
    },
    {
        "short": "lingo", "name": "LingoLeap", "website": "https://www.lingoleap.demo", "country": "VN",
        "email": "merchant@lingoleap.demo",
        "program": {
            "name": "LingoLeap Language Learning", "category": "education",
            "description": "Learn Vietnamese, Spanish or Japanese in ten minutes a day. $5 for every free-trial "
                           "signup plus 20 % of subscription payments for the first 12 months.",
            "landing_url": "https://www.lingoleap.demo/start", "allowed_domains": ["lingoleap.demo", "*.lingoleap.demo"],
            "cookie_window_days": 45, "currency": "USD", "approval": Program.Approval.MANUAL, "lock_days": 14,
        },
        "rules": [{"action": "signup", "type": "flat", "amount_minor": 500, "monthly_cap_per_affiliate": 500},
                  {"action": "sale", "type": "percent", "rate": Decimal("20"), "recurring": "months",
                   "recurring_months": 12}],
        "terms": {"promotion_methods": ["content", "social", "email"], "ppc_brand_bidding": False,
                  "coupon_sites": False, "text": "Signups must be genuine learners; no cashback or reward sites."},
    },
    {
        "short": "ecotravel", "name": "TerraPack Eco Travel Gear", "website": "https://www.terrapack.demo",
        "country": "DE", "email": "merchant@terrapack.demo",
        "program": {
            "name": "TerraPack Eco Travel Gear", "category": "travel",
            "description": "Sustainable backpacks, bottles and travel gear shipped across Europe. 8 % per sale, "
                           "10 % once you pass 50 approved sales in a calendar month.",
            "landing_url": "https://shop.terrapack.demo/", "allowed_domains": ["*.terrapack.demo"],
            "cookie_window_days": 30, "currency": "EUR", "approval": Program.Approval.AUTO, "lock_days": 30,
        },
        "rules": [{"action": "sale", "type": "percent", "rate": Decimal("8"),
                   "tiers": [{"min_approved": 50, "rate": "10"}]}],
        "terms": {"promotion_methods": ["content", "email", "social", "paid_search"], "ppc_brand_bidding": False,
                  "coupon_sites": True, "text": "Paid search allowed on generic keywords only."},
        "creatives": [("Shop sustainable travel gear", "https://shop.terrapack.demo/backpacks")],
    },
]


def load(context: dict[str, Any]) -> None:
    network = context["network"]
    programs: dict[str, Program] = dict(context.get("programs") or {})
    merchants: dict[str, Merchant] = {}
    for spec in DEMO_MERCHANTS:
        merchant, _ = Merchant.objects.get_or_create(
            network=network, name=spec["name"],
            defaults={"website": spec["website"], "country": spec["country"], "status": Merchant.Status.ACTIVE})
        merchants[spec["short"]] = merchant
        owner = network_services.get_or_create_user(email=spec["email"], password=context["password"], verified=True)
        MerchantMembership.objects.get_or_create(network=network, merchant=merchant, user=owner,
                                                 defaults={"role": MerchantMembership.Role.ADMIN})
        context["logins"].append((f"merchant admin ({spec['name']})", spec["email"]))
        if spec.get("analyst"):
            analyst = network_services.get_or_create_user(email=spec["analyst"], password=context["password"],
                                                          verified=True)
            MerchantMembership.objects.get_or_create(network=network, merchant=merchant, user=analyst,
                                                     defaults={"role": MerchantMembership.Role.ANALYST})
            context["logins"].append((f"merchant analyst ({spec['name']})", spec["analyst"]))
        program = Program.objects.for_network(network).filter(merchant=merchant, name=spec["program"]["name"]).first()
        if program is None:
            program = services.create_program(network=network, merchant_id=merchant.pk, actor=owner,
                                              rules=spec["rules"], terms=spec["terms"],
                                              status=Program.Status.ACTIVE, **spec["program"])
        for text, destination in spec.get("creatives", []):
            if not Creative.objects.for_network(network).filter(program=program, name=text).exists():
                services.create_creative(network=network, program_id=program.pk, kind=Creative.Kind.TEXT, name=text,
                                         text=text, destination_url=destination, actor=owner)
        programs[spec["short"]] = program
    # A merchant application waiting in the console.
    applicant = network_services.get_or_create_user(email="apply@brewbox.demo", password=context["password"],
                                                    verified=True)
    if not Merchant.objects.for_network(network).filter(name="BrewBox Coffee Club").exists():
        services.apply_as_merchant(network=network, user=applicant, name="BrewBox Coffee Club",
                                   website="https://www.brewbox.demo", country="BR")
    context["logins"].append(("merchant applicant (pending)", "apply@brewbox.demo"))
    context["merchants"] = merchants
    context["programs"] = programs
