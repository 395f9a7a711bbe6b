import pytest
from django.test import Client

from tests import factories


@pytest.mark.parametrize("path", ["/admin/network/network/", "/admin/network/apikey/", "/admin/network/auditevent/",
                                  "/admin/network/invitation/", "/admin/network/membership/"])
def test_superusers_see_the_tenancy_admin(tenant, path):
    factories.api_key_for(network=tenant.network, user=tenant.owner, kind="staff")
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    assert client.get(path).status_code == 200


def test_network_staff_are_not_admin_users(tenant):
    client = Client()
    client.force_login(tenant.owner)
    assert client.get("/admin/network/network/").status_code == 302
