"""GET /c/<code>: redirect safety, screening, recording, cookies, failure handling."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import DatabaseError
from django.test import Client

from merchants.models import Program
from tests.tracking.factories import BROWSER_UA, link_for
from tracking import clicks
from tracking.models import Click

pytestmark = pytest.mark.django_db


def visit(path: str, client: Client | None = None, **extra):
    client = client or Client()
    extra.setdefault("HTTP_USER_AGENT", BROWSER_UA)
    extra.setdefault("REMOTE_ADDR", "81.2.69.142")
    return client.get(path, **extra)


def click_id_of(response) -> str | None:
    values = parse_qs(urlsplit(response["Location"]).query).get("aff_click")
    return values[0] if values else None


def test_click_records_and_redirects_with_click_id_and_cookie(tenant):
    link = link_for(tenant, sub1="newsletter", sub2="june")
    response = visit(f"/c/{link.code}?sub2=override&sub3=x", HTTP_REFERER="https://blog.example.org/post")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example.com", "/")
    click = Click.objects.get()
    assert click_id_of(response) == click.click_id
    assert len(click.click_id) == 16
    assert (click.link_id, click.program_id, click.affiliate_id, click.network_id) == (
        link.pk, tenant.program.pk, tenant.affiliate.pk, tenant.network.pk)
    assert (click.sub1, click.sub2, click.sub3, click.sub4, click.sub5) == ("newsletter", "override", "x", "", "")
    assert click.referrer == "https://blog.example.org/post"
    assert click.device == "desktop"
    assert click.country == "GB"
    assert click.ip_hash and "81.2.69.142" not in click.ip_hash and len(click.ip_hash) == 32
    cookie = response.cookies[f"aff_{tenant.program.pk}"]
    assert cookie.value == click.click_id
    assert cookie["max-age"] == tenant.program.cookie_window_days * 86400
    assert cookie["httponly"] is True
    assert response["Cache-Control"] == "no-store"


def test_custom_click_param_and_link_destination(tenant):
    Program.objects.filter(pk=tenant.program.pk).update(click_param="ref_id")
    link = link_for(tenant, destination_url="https://shop.example.com/shoes?colour=red#top")
    response = visit(f"/c/{link.code}")
    location = urlsplit(response["Location"])
    assert location.path == "/shoes"
    assert location.fragment == "top"
    assert parse_qs(location.query) == {"colour": ["red"], "ref_id": [Click.objects.get().click_id]}


def test_deep_link_on_allowed_domain(tenant):
    link = link_for(tenant)
    response = visit(f"/c/{link.code}?to=https%3A%2F%2Fblog.example.com%2Fa%3Fb%3D1")
    location = urlsplit(response["Location"])
    assert (location.netloc, location.path) == ("blog.example.com", "/a")
    assert parse_qs(location.query)["b"] == ["1"]


@pytest.mark.parametrize("target", [
    "https://evil.test/", "//evil.test/", "https:%2F%2Fevil.test", "%2F%2Fevil.test",
    "https://shop.example.com@evil.test/", "https://user:pass@shop.example.com/",
    "https:\\\\evil.test\\", "\\\\evil.test", "/\\evil.test", "https://evil.test\\@shop.example.com/",
    "https://shop.example.com.evil.test/", "https://example.com.evil.test/", "https://evilexample.com/",
    "https://shop.exаmple.com/",  # Cyrillic "а": a look-alike host
    "https://xn--shop-example-com/", "javascript:alert(1)", "data:text/html,hi", "ftp://shop.example.com/",
    "https://shop.example.com%2F@evil.test/", "https://%65vil.test/", "http://[::1]/", "https://127.0.0.1/",
    "https://shop.example.com\t.evil.test/", " https://evil.test/",
])
def test_deep_link_outside_allowed_domains_goes_to_landing(tenant, target):
    link = link_for(tenant)
    from urllib.parse import quote

    for encoded in {target, quote(target, safe="")}:
        response = visit(f"/c/{link.code}?to={encoded}")
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        # Never another host; a path like "/@evil.test/" on the merchant's own host is harmless.
        assert (location.scheme, location.netloc) == ("https", "shop.example.com")
        assert location.username is None and "\\" not in response["Location"]


def test_unknown_code_is_a_404_page(tenant):
    response = visit("/c/doesnotexist")
    assert response.status_code == 404
    assert b"This link does not exist" in response.content
    assert Click.objects.count() == 0


@pytest.mark.parametrize("status", [Program.Status.PAUSED, Program.Status.CLOSED])
def test_paused_or_closed_program_goes_to_landing_with_nothing_credited(tenant, status):
    Program.objects.filter(pk=tenant.program.pk).update(status=status, landing_url="https://shop.example.com/home")
    link = link_for(tenant)
    response = visit(f"/c/{link.code}?to=https://shop.example.com/deep")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/home"
    assert Click.objects.count() == 0
    assert not response.cookies


def test_program_change_is_seen_through_cache_version(tenant):
    link = link_for(tenant)
    assert visit(f"/c/{link.code}").status_code == 302
    Program.objects.filter(pk=tenant.program.pk).update(status=Program.Status.PAUSED, cache_version=2)
    clicks.forget_program(tenant.program.pk)  # what the short version TTL does by itself after a few seconds
    response = visit(f"/c/{link.code}")
    assert click_id_of(response) is None
    assert Click.objects.count() == 1


def test_unapproved_enrollment_credits_nothing(tenant):
    from affiliates.models import Enrollment

    link = link_for(tenant, status=Enrollment.Status.PENDING)
    response = visit(f"/c/{link.code}")
    assert click_id_of(response) is None
    assert Click.objects.count() == 0


@pytest.mark.parametrize("user_agent", [
    "Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", "python-requests/2.32", "",
])
def test_bots_are_sent_on_without_a_click(tenant, user_agent):
    link = link_for(tenant)
    response = visit(f"/c/{link.code}", HTTP_USER_AGENT=user_agent)
    assert response.status_code == 302
    assert click_id_of(response) is None
    assert Click.objects.count() == 0
    assert clicks.read_metric("tracking_bot_clicks") == 1


def test_head_and_prefetch_are_not_clicks(tenant):
    link = link_for(tenant)
    assert Client().head(f"/c/{link.code}", HTTP_USER_AGENT=BROWSER_UA).status_code == 302
    response = visit(f"/c/{link.code}", HTTP_SEC_PURPOSE="prefetch")
    assert click_id_of(response) is None
    assert Click.objects.count() == 0


def test_duplicate_click_is_gross_not_unique_and_carries_the_first_id(tenant):
    link = link_for(tenant)
    first = visit(f"/c/{link.code}")
    second = visit(f"/c/{link.code}")
    other_visitor = visit(f"/c/{link.code}", REMOTE_ADDR="8.8.8.8")
    assert click_id_of(second) == click_id_of(first)
    assert Click.objects.count() == 3
    duplicate = Click.objects.exclude(click_id=click_id_of(first)).exclude(click_id=click_id_of(other_visitor)).get()
    assert (duplicate.is_unique, duplicate.is_attributable, duplicate.flags) == (False, False, ["duplicate"])
    assert Click.objects.filter(is_unique=True).count() == 2


def test_no_duplicate_window_means_every_click_is_unique(tenant):
    Program.objects.filter(pk=tenant.program.pk).update(duplicate_click_window_seconds=0)
    link = link_for(tenant)
    assert click_id_of(visit(f"/c/{link.code}")) != click_id_of(visit(f"/c/{link.code}"))
    assert Click.objects.filter(is_unique=True).count() == 2


def test_paid_search_click_ids_are_kept(tenant):
    link = link_for(tenant)
    visit(f"/c/{link.code}?gclid=abc&msclkid=def")
    assert Click.objects.get().paid_click_params == ["gclid", "msclkid"]


def test_mobile_device_and_unknown_country(tenant):
    link = link_for(tenant)
    visit(f"/c/{link.code}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
          REMOTE_ADDR="10.0.0.1")
    click = Click.objects.get()
    assert (click.device, click.country) == ("mobile", "")


def test_first_click_program_keeps_an_existing_cookie(tenant):
    Program.objects.filter(pk=tenant.program.pk).update(attribution=Program.Attribution.FIRST_CLICK,
                                                         duplicate_click_window_seconds=0)
    link = link_for(tenant)
    client = Client()
    first = visit(f"/c/{link.code}", client)
    second = visit(f"/c/{link.code}", client)
    assert f"aff_{tenant.program.pk}" in first.cookies
    assert f"aff_{tenant.program.pk}" not in second.cookies
    assert click_id_of(second) != click_id_of(first)


def test_database_down_still_redirects_without_click_id_and_counts(tenant, monkeypatch):
    link = link_for(tenant)
    visit(f"/c/{link.code}")  # warms the link cache
    from tracking import services

    def broken(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(services, "record_click", broken)
    response = visit(f"/c/{link.code}", REMOTE_ADDR="8.8.4.4")
    assert response.status_code == 302
    assert click_id_of(response) is None
    assert urlsplit(response["Location"]).netloc == "shop.example.com"
    assert clicks.read_metric("tracking_unrecorded_clicks") == 1
    assert Click.objects.count() == 1


def test_stored_clicks_equal_302s_carrying_a_new_click_id(tenant, monkeypatch):
    Program.objects.filter(pk=tenant.program.pk).update(duplicate_click_window_seconds=0)
    link = link_for(tenant)
    from tracking import services

    real = services.record_click
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise DatabaseError("down")
        return real(**kwargs)

    monkeypatch.setattr(services, "record_click", flaky)
    carried = [click_id_of(visit(f"/c/{link.code}", REMOTE_ADDR=f"8.8.8.{i}")) for i in range(12)]
    with_id = [value for value in carried if value]
    assert len(with_id) == 8
    assert Click.objects.count() == len(with_id)
    assert set(Click.objects.values_list("click_id", flat=True)) == set(with_id)
    assert clicks.read_metric("tracking_unrecorded_clicks") == 4


def test_cached_click_costs_one_query_and_no_session(tenant, django_assert_num_queries):
    link = link_for(tenant)
    visit(f"/c/{link.code}")  # warm
    with django_assert_num_queries(1) as captured:  # the INSERT of the click, nothing else
        response = visit(f"/c/{link.code}", REMOTE_ADDR="8.8.8.8")
    assert response.status_code == 302
    assert captured.captured_queries[0]["sql"].startswith("INSERT")
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_click_ids_are_unique_and_unguessable():
    from tracking.models import new_click_id

    ids = {new_click_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(value) == 16 for value in ids)
