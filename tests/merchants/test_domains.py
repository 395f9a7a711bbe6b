import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from merchants import domains

ALLOWED = ["shop.example.com", "*.brand.test"]


@pytest.mark.parametrize(("url", "expected"), [
    ("https://shop.example.com/p/1?x=2", "https://shop.example.com/p/1?x=2"),
    ("HTTPS://SHOP.EXAMPLE.COM", "https://shop.example.com/"),
    ("https://brand.test/a", "https://brand.test/a"),
    ("https://eu.brand.test/a", "https://eu.brand.test/a"),
    ("https://shop.example.com:8443/a", "https://shop.example.com:8443/a"),
])
def test_allowed(url, expected):
    assert domains.allowed_destination(url, ALLOWED) == expected


@pytest.mark.parametrize("url", [
    "https://evil.test/",
    "//evil.test/",
    "/relative/path",
    "https://shop.example.com@evil.test/",
    "https://user:pw@shop.example.com/",
    "https://evil.test\\@shop.example.com/",
    "https:\\\\evil.test/",
    "https://shop.example.com.evil.test/",
    "https://evilshop.example.com/",
    "https://sub.shop.example.com/",
    "https://notbrand.test/",
    "javascript:alert(1)",
    "data:text/html,hi",
    "ftp://shop.example.com/",
    "https://shop.exampl\u0435.com/",  # Cyrillic е
    "https://shop%2eexample.com/",
    "https://evil.test%2f@shop.example.com/",
    "https://shop.example.com\x00.evil.test/",
    "https://[::1]/",
    "https://127.0.0.1/",
    "",
    "https://",
])
def test_refused(url):
    assert domains.allowed_destination(url, ALLOWED) is None


def test_tabs_and_newlines_are_dropped_like_browsers_do():
    assert domains.allowed_destination("https://ev\til.test/", ALLOWED) is None
    assert domains.allowed_destination("https://shop.exam\nple.com/x", ALLOWED) == "https://shop.example.com/x"


def test_program_destination_falls_back_to_the_landing_url():
    assert domains.program_destination("https://evil.test/", default="https://shop.example.com/",
                                       allowed_domains=ALLOWED) == "https://shop.example.com/"


def test_validate_allowed_domains_normalises_and_refuses():
    assert domains.validate_allowed_domains(["Shop.Example.com", "*.Brand.test", "shop.example.com"]) == [
        "shop.example.com", "*.brand.test"]
    with pytest.raises(ValidationError, match="not a domain"):
        domains.validate_allowed_domains(["https://x.com/"])
    with pytest.raises(ValidationError):
        domains.validate_allowed_domains(["localhost"])


@given(st.text(max_size=80))
def test_whatever_the_input_the_result_is_on_the_allow_list(text):
    for url in (text, "https://" + text, "https://shop.example.com" + text, "//" + text):
        result = domains.allowed_destination(url, ALLOWED)
        if result is not None:
            from urllib.parse import urlsplit

            host = urlsplit(result).hostname
            assert domains.host_is_allowed(host, ALLOWED)
            assert result.startswith(("http://", "https://"))
