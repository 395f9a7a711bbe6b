import pytest

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switching_the_console_to_vietnamese(page, tenant):
    log_in(page, tenant.owner.email)
    page.select_option("select[name=language]", "vi")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Acme Network — bảng điều khiển mạng lưới"
    assert page.locator(".area-nav >> text=Nhân viên").count() == 1
    screenshot(page, "console-home-vi")
