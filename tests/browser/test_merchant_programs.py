"""A merchant creates a program in the dashboard and activates it with the htmx status button."""

import pytest

from merchants.models import Program, ProgramEvent
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_merchant_creates_and_activates_a_program(page, tenant):
    log_in(page, tenant.merchant_user.email)
    page.goto("/merchant/programs/new/")
    page.fill("input[name=name]", "TerraPack Eco Gear")
    page.fill("textarea[name=description]", "Sustainable travel gear")
    page.fill("input[name=category]", "travel")
    page.fill("input[name=landing_url]", "https://shop.terrapack.example/")
    page.fill("textarea[name=allowed_domains]", "*.terrapack.example")
    page.fill("input[name=currency]", "EUR")
    page.fill("input[name=cookie_window_days]", "30")
    page.fill("input[name=rule_value]", "8")
    assert page.locator('[data-preview="name"]').inner_text() == "TerraPack Eco Gear"
    screenshot(page, "merchant-program-new")
    page.click("#program-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    program = Program.objects.get(name="TerraPack Eco Gear")
    assert page.url.endswith(f"/merchant/programs/{program.pk}/")
    assert page.locator("#status-panel .badge").inner_text() == "Draft"
    page.click('#status-panel button[data-status="active"]')
    page.locator("#status-panel .badge.good").wait_for()
    assert page.locator("#status-panel .badge").inner_text() == "Active"
    screenshot(page, "merchant-program-activated")
    program.refresh_from_db()
    assert (program.status, program.currency, program.allowed_domains) == ("active", "EUR", ["*.terrapack.example"])
    assert ProgramEvent.objects.filter(program=program, from_status="draft", to_status="active").count() == 1
