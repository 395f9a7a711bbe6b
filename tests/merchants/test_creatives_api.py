"""Creatives through the API: banners validated with Pillow, text links, deep links on the allowed domains."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from merchants import selectors
from merchants.models import Creative
from tests import factories

pytestmark = pytest.mark.django_db


def image_file(fmt: str = "PNG", size: tuple[int, int] = (300, 250), name: str = "banner.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def test_upload_a_banner(tenant, merchant_api):
    response = merchant_api.post(f"/api/v1/programs/{tenant.program.pk}/creatives/", {
        "kind": "banner", "name": "Summer 300x250", "image": image_file(), "alt_text": "Summer sale",
        "destination_url": "https://shop.example.com/summer"}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["width"], body["height"], body["alt_text"]) == ("banner", 300, 250, "Summer sale")
    assert body["destination_url"] == "https://shop.example.com/summer"
    assert body["image_url"].endswith(".png")
    listed = merchant_api.get(f"/api/v1/programs/{tenant.program.pk}/creatives/").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]


def test_a_text_link(tenant, merchant_api):
    response = merchant_api.post(f"/api/v1/programs/{tenant.program.pk}/creatives/", {
        "kind": "text", "name": "Plain", "text": "Best shoes in town"}, format="json")
    assert response.status_code == 201
    assert response.json()["image_url"] is None


@pytest.mark.parametrize(("payload", "field"), [
    ({"kind": "banner", "name": "No image"}, "image"),
    ({"kind": "text", "name": "No text"}, "text"),
    ({"kind": "text", "name": "Off", "text": "x", "destination_url": "https://evil.example/"}, "destination_url"),
    ({"kind": "banner", "name": "Fake", "image": "NOT_AN_IMAGE"}, "image"),
    ({"kind": "banner", "name": "Bmp", "image": "BMP"}, "image"),
    ({"kind": "banner", "name": "Big", "image": "BIG"}, "image"),
    ({"kind": "video", "name": "V"}, "kind"),
])
def test_bad_creatives_name_the_field_and_store_nothing(tenant, merchant_api, payload, field):
    payload = dict(payload)
    if payload.get("image") == "NOT_AN_IMAGE":
        payload["image"] = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    elif payload.get("image") == "BMP":
        payload["image"] = image_file("BMP", name="x.bmp")
    elif payload.get("image") == "BIG":
        payload["image"] = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (500 * 1024 + 1))
    response = merchant_api.post(f"/api/v1/programs/{tenant.program.pk}/creatives/", payload, format="multipart")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert Creative.objects.count() == 0


def test_outsiders_get_404_and_affiliates_403(tenant, other_tenant, affiliate_api):
    other_merchant = factories.MerchantMembershipFactory(merchant__network=tenant.network)
    from rest_framework.test import APIClient

    from network.models import ApiKey

    key = factories.api_key_for(network=tenant.network, user=other_merchant.user, kind=ApiKey.ActorKind.MERCHANT,
                                actor_id=other_merchant.merchant_id)
    same_network = APIClient()
    same_network.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/programs/{tenant.program.pk}/creatives/"
    for client in (same_network, other_tenant.client_for("merchant"), other_tenant.client_for("staff")):
        assert client.get(url).status_code == 404
        assert client.post(url, {"kind": "text", "name": "x", "text": "y"}, format="json").status_code == 404
    assert affiliate_api.get(url).status_code == 403
    assert Creative.objects.count() == 0


def test_active_creatives_selector(tenant):
    shown = factories_creative(tenant, name="A", is_active=True)
    factories_creative(tenant, name="B", is_active=False)
    assert selectors.active_creatives(network=tenant.network, program_ids=[tenant.program.pk]) == [shown]


def factories_creative(tenant, **fields) -> Creative:
    return Creative.objects.create(network=tenant.network, program=tenant.program, kind="text", text="t", **fields)
