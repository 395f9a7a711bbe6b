import pytest

from network.models import Network
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_changes_the_payout_threshold(page, tenant):
    log_in(page, tenant.owner.email)
    page.goto("/console/settings/")
    assert page.locator("h1").inner_text() == "Network settings"
    page.fill("input[name=payout_minimum]", "75.25")
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/console/settings/")
    assert page.locator(".messages li.success").inner_text() == "Settings saved."
    assert page.input_value("input[name=payout_minimum]") == "75.25"
    assert Network.objects.get(pk=tenant.network.pk).payout_minimum_minor == 7525
    screenshot(page, "console-settings-saved")


def test_a_bad_threshold_is_shown_on_its_field(page, tenant):
    log_in(page, tenant.owner.email)
    page.goto("/console/settings/")
    page.fill("input[name=payout_minimum]", "1.001")
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "decimal places" in page.locator(".errorlist").first.inner_text()
    assert Network.objects.get(pk=tenant.network.pk).payout_minimum_minor == 5000
    screenshot(page, "console-settings-error")
