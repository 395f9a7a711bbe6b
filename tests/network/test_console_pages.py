"""Console pages: who may open them (outsiders get 404), settings, domains, audit log, 2FA enforcement."""

import io

import pytest
from allauth.mfa.models import Authenticator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse
from PIL import Image

from network.models import ApiKey, AuditEvent, Domain, Invitation, Membership, Network
from tests import factories

HOST = {"HTTP_HOST": "acme.localhost"}
CONSOLE_PAGES = ["/console/", "/console/staff/", "/console/settings/", "/console/domains/", "/console/audit/",
                 "/console/api-keys/"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def settings_post(network: Network, **overrides) -> dict:
    data = {"name": network.name, "default_currency": network.default_currency, "time_zone": network.time_zone,
            "fee_type": network.fee_type, "fee_value": "20", "payout_schedule": network.payout_schedule,
            "payout_day": network.payout_day, "payout_net_days": network.payout_net_days, "payout_minimum": "50.00",
            "require_payout_maker_checker": "on", "brand_name": "", "brand_colour": network.brand_colour}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def png_bytes(size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "#ff0000").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_owner_opens_every_console_page(tenant, path):
    response = client_for(tenant.owner).get(path, **HOST)
    assert response.status_code == 200
    assert b'class="topbar"' in response.content


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_outsiders_get_404_on_every_console_page(tenant, other_tenant, path):
    for user in (other_tenant.owner, tenant.merchant_user, tenant.affiliate_user):
        assert client_for(user).get(path, **HOST).status_code == 404, user


def test_outsiders_get_404_on_every_console_action_and_nothing_changes(tenant, other_tenant):
    domain = Domain.objects.create(network=tenant.network, host="partners.acme.test")
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER)
    factories.api_key_for(network=tenant.network, user=tenant.owner, kind="staff")
    api_key = ApiKey.objects.get(network=tenant.network, user=tenant.owner)
    posts = [
        ("/console/staff/invite/", {"email": "new@example.test", "role": "admin"}),
        (f"/console/staff/{manager.pk}/", {"action": "remove"}),
        (f"/console/staff/{manager.pk}/", {"action": "role", "role": "owner"}),
        ("/console/settings/", settings_post(tenant.network, name="Hijacked")),
        ("/console/domains/", {"host": "evil.example.test"}),
        (f"/console/domains/{domain.pk}/remove/", {}),
        (f"/console/api-keys/{api_key.pk}/revoke/", {}),
    ]
    for user in (other_tenant.owner, tenant.merchant_user, tenant.affiliate_user):
        client = client_for(user)
        for path, data in posts:
            assert client.post(path, data, **HOST).status_code == 404, (user, path)
    assert Membership.objects.get(pk=manager.pk).role == Membership.Role.MANAGER
    assert Network.objects.get(pk=tenant.network.pk).name == "Acme Network"
    assert list(Domain.objects.values_list("host", flat=True)) == ["partners.acme.test"]
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
    assert not Invitation.objects.exists()


def test_managers_see_staff_but_not_settings_or_domains(tenant):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER).user
    client = client_for(manager)
    assert client.get("/console/staff/", **HOST).status_code == 200
    assert client.get("/console/settings/", **HOST).status_code == 404
    assert client.get("/console/domains/", **HOST).status_code == 404
    assert client.post("/console/settings/", settings_post(tenant.network, name="X"), **HOST).status_code == 404
    assert Network.objects.get(pk=tenant.network.pk).name == "Acme Network"


def test_owner_saves_settings(tenant):
    response = client_for(tenant.owner).post("/console/settings/", settings_post(
        tenant.network, name="Acme Partners", payout_minimum="12.34", fee_type="flat", fee_value="1.50",
        payout_schedule="net", payout_net_days="45", time_zone="Asia/Ho_Chi_Minh", brand_colour="#112233",
        require_staff_2fa="on", require_payout_maker_checker=None), **HOST)
    assert response.status_code == 302
    network = Network.objects.get(pk=tenant.network.pk)
    assert (network.name, network.payout_minimum_minor, network.fee_type, network.fee_flat_minor,
            network.payout_schedule, network.payout_net_days, network.time_zone, network.brand_colour,
            network.require_staff_2fa, network.require_payout_maker_checker) == (
        "Acme Partners", 1234, "flat", 150, "net", 45, "Asia/Ho_Chi_Minh", "#112233", True, False)
    event = AuditEvent.objects.get(network=tenant.network, action="network.settings_changed")
    assert event.actor == tenant.owner
    assert event.data["payout_minimum_minor"] == "1234"


def test_settings_page_shows_the_threshold_in_major_units(tenant):
    response = client_for(tenant.owner).get("/console/settings/", **HOST)
    assert b'name="payout_minimum" value="50.00"' in response.content


@pytest.mark.parametrize(("overrides", "field"), [
    ({"payout_minimum": "1.001"}, "payout_minimum"),
    ({"payout_minimum": "-1"}, "payout_minimum"),
    ({"payout_minimum": "lots"}, "payout_minimum"),
    ({"fee_value": "150"}, "fee_value"),
    ({"fee_type": "flat", "fee_value": "0.001"}, "fee_value"),
    ({"default_currency": "XXQ"}, "default_currency"),
    ({"time_zone": "Mars/Base"}, "time_zone"),
    ({"payout_day": "31"}, "payout_day"),
    ({"brand_colour": "red"}, "brand_colour"),
    ({"name": ""}, "name"),
])
def test_bad_settings_name_the_field_and_change_nothing(tenant, overrides, field):
    response = client_for(tenant.owner).post("/console/settings/", settings_post(tenant.network, **overrides), **HOST)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    network = Network.objects.get(pk=tenant.network.pk)
    assert (network.payout_minimum_minor, network.fee_rate, network.fee_type, network.default_currency,
            network.time_zone, network.payout_day, network.name) == (
        5000, 20, "percent_of_commission", "USD", "UTC", 15, "Acme Network")
    assert not AuditEvent.objects.filter(action="network.settings_changed").exists()


def test_logo_upload_is_saved(tenant):
    logo = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    response = client_for(tenant.owner).post("/console/settings/", {**settings_post(tenant.network), "logo": logo},
                                             **HOST)
    assert response.status_code == 302
    network = Network.objects.get(pk=tenant.network.pk)
    assert network.logo.name.startswith("network-logos/logo")
    page = client_for(tenant.owner).get("/console/", **HOST)
    assert network.logo.url.encode() in page.content


@pytest.mark.parametrize(("content", "name"), [(b"not an image at all", "logo.png"), (None, "big.png")])
def test_bad_logos_are_refused(tenant, content, name):
    if content is None:  # a real PNG above 1 MB: random pixels do not compress
        import os

        image = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        content = buffer.getvalue()
        assert len(content) > 1024 * 1024
    logo = SimpleUploadedFile(name, content, content_type="image/png")
    response = client_for(tenant.owner).post("/console/settings/", {**settings_post(tenant.network), "logo": logo},
                                             **HOST)
    assert response.status_code == 400
    assert "logo" in response.context["form"].errors
    assert Network.objects.get(pk=tenant.network.pk).logo.name == ""


def test_owner_adds_and_removes_a_domain(tenant, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "partners.acme.test"]
    client = client_for(tenant.owner)
    response = client.post("/console/domains/", {"host": " Partners.Acme.TEST. "}, **HOST)
    assert response.status_code == 302
    domain = Domain.objects.get(network=tenant.network)
    assert domain.host == "partners.acme.test"
    assert client.get("/console/", HTTP_HOST="partners.acme.test").status_code == 200
    assert client.post(f"/console/domains/{domain.pk}/remove/", **HOST).status_code == 302
    assert not Domain.objects.exists()
    assert list(AuditEvent.objects.filter(network=tenant.network).values_list("action", flat=True)
                .order_by("pk")) == ["domain.added", "domain.removed"]


@pytest.mark.parametrize("host", ["https://partners.example.com", "partners.example.com/path", "localhost",
                                  "acme.localhost", "bad_host.example.com", "-x.example.com", "nodots",
                                  "partners.example.com:8000", "10.0.0.1", ""])
def test_bad_host_names_are_refused(tenant, host):
    response = client_for(tenant.owner).post("/console/domains/", {"host": host}, **HOST)
    assert response.status_code == 400
    assert "host" in response.context["form"].errors
    assert not Domain.objects.exists()


def test_a_host_of_another_network_is_refused(tenant, other_tenant):
    Domain.objects.create(network=other_tenant.network, host="partners.rival.test")
    response = client_for(tenant.owner).post("/console/domains/", {"host": "partners.rival.test"}, **HOST)
    assert response.status_code == 400
    assert Domain.objects.get(host="partners.rival.test").network == other_tenant.network


def test_another_networks_domain_cannot_be_removed(tenant, other_tenant):
    domain = Domain.objects.create(network=other_tenant.network, host="partners.rival.test")
    assert client_for(tenant.owner).post(f"/console/domains/{domain.pk}/remove/", **HOST).status_code == 404
    assert Domain.objects.filter(pk=domain.pk).exists()


def test_audit_log_lists_this_networks_events_paginated(tenant, other_tenant, django_assert_max_num_queries):
    for number in range(60):
        AuditEvent.objects.create(network=tenant.network, actor=tenant.owner, action=f"test.event{number}")
    AuditEvent.objects.create(network=other_tenant.network, action="rival.secret")
    client = client_for(tenant.owner)
    # Session, user, network and actor resolution, count, one page of events with their actors, switcher.
    with django_assert_max_num_queries(14):
        first = client.get("/console/audit/", **HOST)
    events = list(first.context["events"])
    assert len(events) == 50
    assert events[0].action == "test.event59"
    second = client.get("/console/audit/?page=2", **HOST)
    assert [event.action for event in second.context["events"]][-1] == "test.event0"
    assert b"rival.secret" not in first.content + second.content
    assert client.get("/console/audit/?page=9", **HOST).status_code == 404


def test_staff_without_totp_are_sent_to_activation_when_the_network_requires_it(tenant):
    Network.objects.filter(pk=tenant.network.pk).update(require_staff_2fa=True)
    response = client_for(tenant.owner).get("/console/", **HOST)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert resolve(response["Location"]).url_name == "mfa_activate_totp"


def test_staff_with_totp_pass_and_merchants_are_unaffected(tenant):
    Network.objects.filter(pk=tenant.network.pk).update(require_staff_2fa=True)
    Authenticator.objects.create(user=tenant.owner, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client_for(tenant.owner).get("/console/", **HOST).status_code == 200
    assert client_for(tenant.merchant_user).get("/merchant/api-keys/", **HOST).status_code == 200
    assert client_for(tenant.affiliate_user).get("/portal/api-keys/", **HOST).status_code == 200


def test_recovery_codes_alone_do_not_count_as_a_second_factor(tenant):
    Network.objects.filter(pk=tenant.network.pk).update(require_staff_2fa=True)
    Authenticator.objects.create(user=tenant.owner, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "x"})
    assert client_for(tenant.owner).get("/console/", **HOST).status_code == 302


def test_console_nav_links_every_console_area(tenant):
    content = client_for(tenant.owner).get("/console/", **HOST).content.decode()
    for path in ("/console/staff/", "/console/settings/", "/console/domains/", "/console/api-keys/",
                 "/console/audit/", "/keys/"):
        assert f'href="{path}"' in content, path


def test_managers_do_not_see_links_they_cannot_open(tenant):
    manager = factories.MembershipFactory(network=tenant.network, role=Membership.Role.MANAGER).user
    content = client_for(manager).get("/console/", **HOST).content.decode()
    assert 'href="/console/settings/"' not in content
    assert 'href="/console/domains/"' not in content
    assert 'href="/console/staff/"' in content
