from network.models import Network


def test_staff_read_settings(tenant, staff_api):
    body = staff_api.get("/api/v1/network/").json()
    assert body["payout_minimum"] == "50.00"
    assert body["fee"] == {"type": "percent_of_commission", "value": "20"}
    assert body["default_currency"] == "USD"


def test_owner_changes_settings(tenant, staff_api):
    response = staff_api.patch("/api/v1/network/", {"payout_minimum": "25.50", "fee": {"type": "flat", "value": "1.25"},
                                                    "require_staff_2fa": True}, format="json")
    assert response.status_code == 200, response.json()
    network = Network.objects.get(pk=tenant.network.pk)
    assert (network.payout_minimum_minor, network.fee_type, network.fee_flat_minor, network.require_staff_2fa) == (
        2550, "flat", 125, True)


def test_bad_values_name_the_field_and_change_nothing(tenant, staff_api):
    for body, field in [({"payout_minimum": "1.001"}, "payout_minimum"), ({"default_currency": "XXQ"}, "default_currency"),
                        ({"time_zone": "Mars/Base"}, "time_zone"), ({"payout_day": 31}, "payout_day")]:
        response = staff_api.patch("/api/v1/network/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"], response.json()
    network = Network.objects.get(pk=tenant.network.pk)
    assert (network.payout_minimum_minor, network.default_currency, network.time_zone, network.payout_day) == (
        5000, "USD", "UTC", 15)


def test_merchants_and_affiliates_cannot_see_network_settings(merchant_api, affiliate_api):
    assert merchant_api.get("/api/v1/network/").status_code == 403
    assert affiliate_api.patch("/api/v1/network/", {"name": "x"}, format="json").status_code == 403


def test_a_manager_cannot_change_settings(tenant, staff_api):
    from network.models import Membership

    Membership.objects.filter(network=tenant.network, user=tenant.owner).update(role="manager")
    response = staff_api.patch("/api/v1/network/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert Network.objects.get(pk=tenant.network.pk).name == "Acme Network"


def test_settings_belong_to_the_keys_network(tenant, other_tenant, staff_api):
    staff_api.patch("/api/v1/network/", {"name": "Acme Renamed"}, format="json")
    assert Network.objects.get(pk=other_tenant.network.pk).name == "Rival Network"
