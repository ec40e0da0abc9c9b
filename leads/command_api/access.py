"""Who is calling POST /api: the developer app (`app_id`) and the account whose API key and password
came with it (the account's Zapier credential: the same pair, the same hash check as /api/v1).

Checked in the platform's order, each refusal its registry code: 238/239 the app, 240 the app's own
account, the app's rate limit (429), 242 its IP allow-list, then 202/203/233 the credential and 204
the account the call acts on. The commands run in the credential's account, not the app's: an app
serves every user who gives it their key (reference section 1).

A credential this process verified before is served without PostgreSQL while its account's credential
epoch is unchanged: the app's rate-limit script reads the epoch (accounts.credential_cache)."""

import ipaddress
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from accounts.authentication import api_key_well_formed
from accounts.credential_cache import CredentialLookup
from accounts.models import Account, ApiApp, ApiCredential, CredentialKind
from accounts.selectors import api_app_get_by_app_id, api_credential_get_by_key
from accounts.services import api_credential_mark_used
from accounts.throttling import Counted, credential_epoch_key, request_count
from kartra_integrations.client_ip import ClientIpError, client_ip

from . import codes

APP_ID_MAX_LENGTH: int = ApiApp._meta.get_field("app_id").max_length or 0


class AccessRefused(Exception):
    def __init__(self, reply: codes.Reply):
        super().__init__(reply.message)
        self.reply = reply


class RateLimited(Exception):
    """Past settings.COMMAND_API_RATE_PER_APP (the platform's 20 calls a second per app, shared by every
    user of the app): HTTP 429 "Too many requests"."""

    def __init__(self, retry_after: int):
        super().__init__(codes.TOO_MANY_REQUESTS)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    api_app: ApiApp
    credential: ApiCredential
    account: Account  # the account every command of the call acts on (tenant)

    @property
    def test_mode(self) -> bool:
        """Test mode: no email is sent and created leads' email domains are rewritten."""
        return not self.api_app.is_live


def _text(value: Any) -> str | None:
    """A credential as sent: text, or None when absent or empty; anything else (a nested value) is
    kept as a non-matching marker."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else "\x00"


def _app(app_id: str | None) -> ApiApp:
    if app_id is None:
        raise AccessRefused(codes.error(238))
    well_formed = len(app_id) <= APP_ID_MAX_LENGTH and app_id.isascii() and app_id.isprintable()
    api_app = api_app_get_by_app_id(app_id=app_id) if well_formed else None
    if api_app is None or not api_app.is_active:
        raise AccessRefused(codes.error(239))
    if not api_app.account.owner.is_active:
        raise AccessRefused(codes.error(240))
    return api_app


RATE_WINDOW_SECONDS = 1  # the platform counts calls per second


def _rate_limit(api_app: ApiApp, lookup: CredentialLookup | None) -> Counted:
    """Count the call against the app's limit; the same script reads the credential's epoch when this
    process has verified the credential before (accounts.credential_cache)."""
    account_id = lookup.account_id if lookup is not None else None
    epoch_key = credential_epoch_key(account_id) if account_id is not None else None
    counted = request_count(f"throttle_api_app_{api_app.pk}", RATE_WINDOW_SECONDS, epoch_key=epoch_key)
    if counted.count > settings.COMMAND_API_RATE_PER_APP:
        raise RateLimited(retry_after=max(counted.seconds_left, 1))
    return counted


def ip_allowed(api_app: ApiApp, address: str) -> bool:
    if not api_app.allowed_ips:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip.version == network.version and ip in network for network in map(ipaddress.ip_network, api_app.allowed_ips)
    )


def _lookup(api_key: str | None, api_password: str | None) -> CredentialLookup | None:
    """The key and password against the process's verified credentials (accounts.credential_cache)."""
    if api_key is None or api_password is None or not api_key_well_formed(api_key):
        return None
    return CredentialLookup(api_key, api_password)


def _credential(
    api_key: str | None, api_password: str | None, lookup: CredentialLookup | None, counted: Counted
) -> ApiCredential:
    if api_key is None:
        raise AccessRefused(codes.error(202))
    served = lookup.served(counted) if lookup is not None else None
    credential = served or (api_credential_get_by_key(api_key=api_key) if api_key_well_formed(api_key) else None)
    # The platform events credential is for POST /api/v1/events only, here as everywhere else.
    if credential is None or credential.kind != CredentialKind.ZAPIER:
        raise AccessRefused(codes.error(203))
    if served is None:
        if lookup is None or not lookup.password_matches(credential):  # no lookup: no password sent
            raise AccessRefused(codes.error(233))
        lookup.remember(credential, counted)
    if not credential.account.owner.is_active:
        raise AccessRefused(codes.error(204))
    api_credential_mark_used(credential=credential)
    return credential


def caller_authenticate(*, data: dict[str, Any], request) -> Caller:
    """The caller of this call, or AccessRefused with its registry code (RateLimited past the limit)."""
    api_app = _app(_text(data.get("app_id")))
    api_key, api_password = _text(data.get("api_key")), _text(data.get("api_password"))
    lookup = _lookup(api_key, api_password)
    counted = _rate_limit(api_app, lookup)
    try:
        address = client_ip(request)
    except ClientIpError:
        address = ""
    if not ip_allowed(api_app, address):
        raise AccessRefused(codes.error(242))
    credential = _credential(api_key, api_password, lookup, counted)
    return Caller(api_app=api_app, credential=credential, account=credential.account)
