import pytest

from network.models import ApiKey
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_key_see_it_once_and_revoke_it_with_htmx(page, tenant):
    log_in(page, tenant.owner.email)
    page.click("text=My keys")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/console/api-keys/")
    page.fill("input[name=name]", "shop backend")
    page.click("text=Create key")
    page.wait_for_load_state("networkidle")
    key = page.locator("#new-key-value").inner_text()
    api_key = ApiKey.objects.get(name="shop backend")
    assert key.startswith(f"sk_{api_key.prefix}_")
    screenshot(page, "console-api-key-created")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click(f"#key-{api_key.pk} button.danger")
    page.wait_for_selector(f"#key-{api_key.pk} .badge.bad")
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None
    screenshot(page, "console-api-key-revoked")
