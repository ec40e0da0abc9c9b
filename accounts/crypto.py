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


def new_api_key() -> str:
    return "ki_" + secrets.token_hex(12)


def new_api_password() -> str:
    return secrets.token_urlsafe(32)


def hash_api_password(password: str) -> str:
    return hmac.new(_key(), password.encode(), hashlib.sha256).hexdigest()


def api_password_matches(password: str, password_hash: str) -> bool:
    return hmac.compare_digest(hash_api_password(password), password_hash)
