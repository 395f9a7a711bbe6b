import pytest

from network.models import Invitation
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_invites_a_colleague(page, tenant):
    log_in(page, tenant.owner.email)
    page.click(".area-nav >> text=Staff")
    page.wait_for_load_state("networkidle")
    page.fill("input[name=email]", "colleague@example.test")
    page.select_option("select#id_role", "admin")
    page.click("text=Send invitation")
    page.wait_for_load_state("networkidle")
    assert page.locator(".messages li.success").inner_text() == "Invitation sent to colleague@example.test."
    assert Invitation.objects.get().email == "colleague@example.test"
    assert "colleague@example.test" in page.locator("table").nth(1).inner_text()
    screenshot(page, "console-staff")
