"""Standard Webhooks signing: `webhook-id`, `webhook-timestamp`, `webhook-signature` (v1, HMAC-SHA256)."""

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=1024)  # decoded once per secret, not once per request
def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==")


def signature_header(*, secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` per secret, space separated (a receiver accepts any of them)."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(secret), to_sign, hashlib.sha256).digest()).decode()
        for secret in secrets_
    )


def delivery_headers(*, secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_=secrets_, msg_id=msg_id, timestamp=timestamp, body=body),
        "user-agent": "Kartra-Integrations-Hooks/1",
    }
