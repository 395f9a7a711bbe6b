"""Webhook tests have no DNS: host names resolve through a fixed table (public unless listed)."""

import pytest

from webhooks import ssrf

FAKE_DNS = {
    "localhost": ["127.0.0.1"],
    "intranet.example": ["10.0.0.7"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": ["93.184.216.34", "192.168.1.1"],
    "v6-internal.example": ["fd00::1"],
}


@pytest.fixture(autouse=True)
def _fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(host: str, port: int) -> list[str]:
        if host == "unresolvable.example":
            raise OSError("no such host")
        return FAKE_DNS.get(host, ["93.184.216.34"])

    monkeypatch.setattr(ssrf, "resolve_host", resolve)


@pytest.fixture
def allow_private(settings: object) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
