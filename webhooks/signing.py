"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with a whsec_ secret."""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def generate_secret() -> str:
    """A new signing secret, "whsec_" + base64 of 24 random bytes (shown to its owner once)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key bytes behind a "whsec_<base64>" secret."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One signature, "v1,<base64>", over exactly the bytes that are sent."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(*, secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per live secret, space-separated (rotation)."""
    return " ".join(sign(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
                    for secret in secrets_in_use)


def headers_for(*, secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header a signed delivery carries."""
    return {
        "content-type": "application/json",
        "user-agent": "Seed-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use=secrets_in_use, message_id=message_id,
                                              timestamp=timestamp, body=body),
    }
