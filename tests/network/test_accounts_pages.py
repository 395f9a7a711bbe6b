"""allauth's pages inside the product layout; login lands on the right area; the role switcher."""

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from network.models import Membership
from tests import factories

ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
                   "/accounts/confirm-email/"]
MANAGE_PAGES = ["/accounts/2fa/", "/accounts/email/", "/accounts/password/change/"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_entrance_pages_use_the_product_layout(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="topbar"' in content
    assert 'class="card auth-card"' in content
    assert "/static/css/app.css" in content


@pytest.mark.parametrize("path", MANAGE_PAGES)
def test_account_management_pages_use_the_product_layout(tenant, path):
    response = client_for(tenant.owner).get(path)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="manage-layout"' in content
    assert 'href="/keys/"' in content


def test_totp_activation_and_recovery_pages_are_styled(tenant):
    client = Client()
    client.post("/accounts/login/", {"login": tenant.owner.email, "password": "correct horse battery"})
    reauthenticate = client.get("/accounts/2fa/totp/activate/", follow=True)
    assert 'class="topbar"' in reauthenticate.content.decode()
    client.post("/accounts/reauthenticate/", {"password": "correct horse battery"})
    activate = client.get("/accounts/2fa/totp/activate/")
    assert activate.status_code == 200
    assert 'class="qr"' in activate.content.decode()
    assert 'class="stacked"' in activate.content.decode()
    Authenticator.objects.create(user=tenant.owner, type=Authenticator.Type.TOTP, data={"secret": "x"})
    deactivate = client.get("/accounts/2fa/totp/deactivate/")
    assert deactivate.status_code == 200
    assert 'class="manage-layout"' in deactivate.content.decode()


@pytest.mark.parametrize(("who", "area"), [("owner", "/console/"), ("merchant_user", "/merchant/"),
                                           ("affiliate_user", "/portal/")])
def test_login_goes_home_then_to_the_area(tenant, who, area):
    client = Client()
    response = client.post("/accounts/login/", {"login": getattr(tenant, who).email,
                                                "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert client.get("/home/")["Location"] == area


def test_the_user_box_offers_a_switch_only_with_several_roles(tenant, other_tenant):
    single = client_for(tenant.owner).get("/console/", HTTP_HOST="acme.localhost").content.decode()
    assert 'name="choice"' not in single
    factories.MembershipFactory(network=other_tenant.network, user=tenant.owner, role=Membership.Role.MANAGER)
    several = client_for(tenant.owner).get("/console/", HTTP_HOST="acme.localhost").content.decode()
    assert 'name="choice"' in several
    assert f'value="{tenant.network.pk}:staff:" selected' in several
    assert f'value="{other_tenant.network.pk}:staff:"' in several


def test_switching_to_another_network_and_role(tenant, other_tenant):
    factories.MembershipFactory(network=other_tenant.network, user=tenant.owner, role=Membership.Role.MANAGER)
    client = client_for(tenant.owner)
    response = client.post("/switch/", {"choice": f"{other_tenant.network.pk}:staff:"})
    assert response["Location"] == "/console/"
    page = client.get("/console/")
    assert page.context["network"] == other_tenant.network


def test_switching_to_a_role_one_does_not_hold_changes_nothing(tenant, other_tenant):
    client = client_for(tenant.owner)
    response = client.post("/switch/", {"choice": f"{other_tenant.network.pk}:staff:"})
    assert response["Location"] == "/home/"
    assert client.get("/console/").context["network"] == tenant.network
    response = client.post("/switch/", {"choice": f"{tenant.network.pk}:merchant:{other_tenant.merchant.pk}"})
    assert response["Location"] == "/home/"
    assert "actor_ids" not in client.session


def test_home_remembers_the_area_chosen_in_the_switcher(tenant):
    factories.MerchantMembershipFactory(merchant=tenant.merchant, network=tenant.network, user=tenant.owner)
    client = client_for(tenant.owner)
    assert client.get("/home/")["Location"] == "/console/"
    response = client.post("/switch/", {"choice": f"{tenant.network.pk}:merchant:{tenant.merchant.pk}"})
    assert response["Location"] == "/merchant/"
    assert client.get("/home/")["Location"] == "/merchant/"
    assert client.get("/keys/?as=merchant")["Location"] == "/merchant/api-keys/"
