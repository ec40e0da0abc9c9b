"""API password hashing.

API passwords are 256-bit random tokens, so a slow hash (PBKDF2) buys nothing against brute
force and costs milliseconds on every request. A keyed HMAC-SHA256 costs microseconds and a
stolen table is useless without the key.
"""

import hashlib
import hmac
import secrets

from django.conf import settings


def _key() -> bytes:
    return hashlib.sha256(b"api-password-hash:" + settings.SECRET_KEY.encode()).digest()


# A key's prefix tells its kind at a glance (accounts.models.CredentialKind): Zapier, platform events.
API_KEY_PREFIXES = {"zapier": "ki_", "platform": "kp_"}


def new_api_key(kind: str = "zapier") -> str:
    return API_KEY_PREFIXES[kind] + secrets.token_hex(12)


def new_api_password() -> str:
    return secrets.token_urlsafe(32)


def hash_api_password(password: str) -> str:
    return hmac.new(_key(), password.encode(), hashlib.sha256).hexdigest()


def api_password_matches(password: str, password_hash: str) -> bool:
    """False for a credential that has no password yet (empty hash), whatever is typed."""
    return bool(password_hash) and hmac.compare_digest(hash_api_password(password), password_hash)


def new_app_id() -> str:
    """A developer app's public id (POST /api's `app_id`): 128 random bits, unguessable."""
    return "app_" + secrets.token_hex(16)
