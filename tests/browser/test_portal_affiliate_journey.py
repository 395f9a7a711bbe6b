"""An affiliate finds a program in the marketplace, applies, builds a deep link and sees it."""

import pytest

from affiliates.models import Enrollment, TrackingLink
from merchants.models import Program
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_affiliate_finds_applies_and_creates_a_link(page, tenant):
    Program.objects.filter(pk=tenant.program.pk).update(name="Eco Travel Gear", category="travel",
                                                        description="Backpacks and tents")
    log_in(page, tenant.affiliate_user.email)

    page.goto("/portal/marketplace/")
    page.fill("input[name=q]", "backpacks")
    page.click("form.filters button[type=submit]")
    page.click("text=Eco Travel Gear")
    screenshot(page, "portal-program")
    page.check("input[name=accept_terms]")
    page.click("text=Apply to this program")

    assert "/portal/links/" in page.url
    page.fill("input[name=destination_url]", "https://shop.example.com/tents")
    page.fill("input[name=sub1]", "spring")
    page.fill("input[name=label]", "Tents review")
    page.click("#link-builder button[type=submit]")

    link = TrackingLink.objects.get(label="Tents review")
    row = page.locator(f"tr[data-code='{link.code}']")
    assert row.locator("input.tracking-url").input_value().endswith(f"/c/{link.code}?sub1=spring")
    assert Enrollment.objects.get(affiliate=tenant.affiliate).status == "approved"
    screenshot(page, "portal-links")
