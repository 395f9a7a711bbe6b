"""The merchants' demo data: three live programs, logins, idempotent."""

import pytest

from merchants import demo_data
from merchants.models import CommissionRule, Creative, Merchant, Program, ProgramTerms
from network import demo_data as network_demo_data

pytestmark = pytest.mark.django_db


def load() -> dict:
    context = {"password": "demo-pass", "logins": []}
    network_demo_data.load(context)
    demo_data.load(context)
    return context


def test_demo_programs_are_live_and_loading_twice_adds_nothing():
    context = load()
    assert set(context["programs"]) == {"hostly", "lingo", "ecotravel"}
    hostly, lingo, eco = (context["programs"][key] for key in ("hostly", "lingo", "ecotravel"))
    assert (hostly.currency, hostly.cookie_window_days, hostly.status) == ("USD", 90, "active")
    assert CommissionRule.objects.get(program=hostly).tiers == [{"min_approved": 20, "rate": "35"}]
    lingo_rules = {rule.action: rule for rule in CommissionRule.objects.filter(program=lingo)}
    assert lingo_rules["signup"].amount_minor == 500
    assert (lingo_rules["sale"].rate, lingo_rules["sale"].recurring_months) == (20, 12)
    assert (eco.currency, eco.cookie_window_days) == ("EUR", 30)
    assert CommissionRule.objects.get(program=eco).tiers == [{"min_approved": 50, "rate": "10"}]
    assert ("merchant admin (Hostly)", "merchant@hostly.demo") in context["logins"]
    counts = (Merchant.objects.count(), Program.objects.count(), CommissionRule.objects.count(),
              ProgramTerms.objects.count(), Creative.objects.count())
    again = load()
    assert (Merchant.objects.count(), Program.objects.count(), CommissionRule.objects.count(),
            ProgramTerms.objects.count(), Creative.objects.count()) == counts
    assert again["programs"]["hostly"].pk == hostly.pk
    assert Merchant.objects.get(name="BrewBox Coffee Club").status == "pending"
