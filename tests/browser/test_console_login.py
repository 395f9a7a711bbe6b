import pytest

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_log_in_and_land_on_the_console(page, tenant):
    log_in(page, tenant.owner.email)
    assert page.url.endswith("/console/")
    assert page.locator("h1").inner_text() == "Acme Network — network console"
    screenshot(page, "console-home")


def test_an_affiliate_gets_no_console(page, tenant):
    log_in(page, tenant.affiliate_user.email)
    response = page.goto("/console/")
    assert response.status == 404
