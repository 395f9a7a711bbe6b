import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_and_signup_pages_look_like_the_product(page, tenant):
    page.goto("/accounts/login/")
    assert page.locator(".topbar").count() == 1
    assert page.locator(".auth-card h1").inner_text() == "Sign In"
    screenshot(page, "accounts-login")
    page.goto("/accounts/signup/")
    assert page.locator(".auth-card input[name=email]").count() == 1
    screenshot(page, "accounts-signup")
