"""The httpx plumbing shared by the HTTP providers: one timeout policy and one error mapping."""

from __future__ import annotations

from typing import Any

import httpx

from payouts.providers.base import ProviderNotConfigured, ProviderRejected, ProviderUnavailable

# Connect fast, but give a payouts call time to finish: a timeout after the provider committed is the
# expensive case (we must then ask by key), so we would rather wait than give up early.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)

# 408/409/425/429 and every 5xx are worth retrying with the same keys; other 4xx will not change.
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


def new_client() -> httpx.Client:
    """A short-lived client; respx patches the transport in tests."""
    return httpx.Client(timeout=TIMEOUT)


def send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send a request, turning transport failures into ProviderUnavailable."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"Timed out calling {method} {url}: {exc}", code="timeout") from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"Could not reach {method} {url}: {exc}", code="network") from exc


def json_or_empty(response: httpx.Response) -> dict[str, Any]:
    """The body as a dict; empty when it is not a JSON object (error pages, HTML from a proxy)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"data": data}


def raise_for_status(response: httpx.Response, *, what: str) -> None:
    """Map an error answer to our exceptions: transient, permanent or a configuration problem."""
    status = response.status_code
    if status < 400:
        return
    data = json_or_empty(response)
    message = f"{what} answered HTTP {status}: {summarize(data) or response.text[:300]}"
    if status >= 500 or status in TRANSIENT_STATUSES:
        raise ProviderUnavailable(message, code=f"http_{status}", raw=data)
    if status in (401, 403):
        raise ProviderNotConfigured(message, code=f"http_{status}", raw=data)
    raise ProviderRejected(message, code=f"http_{status}", raw=data)


def summarize(data: dict[str, Any]) -> str:
    """A one-line human summary of a provider error body."""
    parts: list[str] = []
    for key in ("name", "error", "code", "message", "error_description", "description"):
        value = data.get(key)
        if isinstance(value, str | int) and str(value) not in parts:
            parts.append(str(value))
    for detail in data.get("details") or data.get("errors") or []:
        if isinstance(detail, dict):
            text = " ".join(str(detail[k]) for k in ("field", "issue", "description", "message") if detail.get(k))
            if text:
                parts.append(text)
    return "; ".join(parts)
