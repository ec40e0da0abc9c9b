import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import redis
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kartra_integrations.redis_client import redis_client

from .crypto import hash_api_password, new_api_key, new_api_password, new_app_id
from .models import (
    KARTRA_COMMANDS,
    Account,
    ApiApp,
    ApiAppChange,
    ApiAppChangeAction,
    ApiAppMode,
    ApiCredential,
    CredentialKind,
    Role,
    User,
)
from .throttling import credential_epoch_key, new_credential_epoch

logger = logging.getLogger(__name__)

# Writing last_used_at on every request would cost a write per call; a minute's precision is
# all an owner needs to see whether Zapier still uses the key.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiPasswordExists(Exception):
    """The credential has a password already: a new one is a regeneration, which the owner confirms.
    (Not an ApplicationError: accounts.services is imported by the API authentication, which
    kartra_integrations.errors' DRF import would import back; only an HTML view raises this.)"""


class ApiCredentialsChanged(Exception):
    """The key the owner confirmed replacing is no longer the credential's (regenerated already)."""


@dataclass(frozen=True)
class IssuedCredentials:
    api_key: str
    api_password: str  # shown once, never stored
    kind: str = CredentialKind.ZAPIER


def credential_epoch_bump(*, account_id: int) -> None:
    """After the current transaction commits, replace the account's credential epoch: every process's
    verified credentials of the account (accounts.credential_cache) are checked in PostgreSQL again on
    their next request. Call it wherever what the account's credentials may do changes through a
    queryset update; a save or delete of an Account, ApiCredential or owner bumps it already
    (accounts.signals). After commit, so that no request can verify the old rows under the new epoch."""
    transaction.on_commit(partial(_credential_epoch_replace, account_id))


def _credential_epoch_replace(account_id: int) -> None:
    client = redis_client()
    if client is None:  # no REDIS_URL: nothing is cached (accounts.credential_cache)
        return
    try:
        client.set(credential_epoch_key(account_id), new_credential_epoch())
    except redis.RedisError:
        # Requests see Redis down too and read PostgreSQL; cached entries expire within a minute.
        logger.error("credential epoch of account %s not replaced", account_id, exc_info=True)


@transaction.atomic
def account_create(*, email: str, name: str, password: str | None, timezone_name: str = "UTC") -> Account:
    """The owner, the account and one API key of each kind. No API password yet: nobody would see
    it now (the password is stored only as a hash); the owner creates it on the credentials page,
    which shows it once."""
    owner = User.objects.create_user(email=email, password=password)
    if password is None:
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    account = Account.objects.create(name=name, owner=owner, timezone=timezone_name)
    now = timezone.now()
    ApiCredential.objects.bulk_create(
        [
            ApiCredential(account=account, kind=kind, api_key=new_api_key(kind), password_hash="", created_at=now)
            for kind in CredentialKind.values
        ]
    )
    return account


@transaction.atomic
def api_credentials_issue(*, account: Account, kind: str = CredentialKind.ZAPIER) -> IssuedCredentials:
    """Create or regenerate the account's API key and password of this kind; the old pair stops
    working at once. The password is returned to be shown once; only its hash is kept."""
    issued = IssuedCredentials(api_key=new_api_key(kind), api_password=new_api_password(), kind=kind)
    ApiCredential.objects.update_or_create(
        account=account,
        kind=kind,
        defaults={
            "api_key": issued.api_key,
            "password_hash": hash_api_password(issued.api_password),
            "created_at": timezone.now(),
            "last_used_at": None,
        },
    )
    return issued


def api_credentials_regenerate(*, account: Account, kind: str, confirmed_key: str) -> IssuedCredentials:
    """Replace the key and password of this kind, if its key is still the one the owner confirmed
    replacing: a conditional update, so a confirmation submitted twice (a reload, two tabs, two
    requests at once) regenerates once and the password shown is the one that works."""
    issued = IssuedCredentials(api_key=new_api_key(kind), api_password=new_api_password(), kind=kind)
    updated = ApiCredential.objects.filter(account=account, kind=kind, api_key=confirmed_key).update(
        api_key=issued.api_key,
        password_hash=hash_api_password(issued.api_password),
        created_at=timezone.now(),
        last_used_at=None,
    )
    if not updated:
        raise ApiCredentialsChanged("These credentials changed since the regeneration was confirmed.")
    credential_epoch_bump(account_id=account.pk)
    return issued


def api_password_create(*, account: Account, kind: str) -> IssuedCredentials:
    """Give the credential of this kind its first password, keeping its key (which the owner may
    already have pasted). Refused once it has one: replacing a password is a regeneration, which
    the owner confirms."""
    password = new_api_password()
    updated = ApiCredential.objects.filter(account=account, kind=kind, password_hash="").update(
        password_hash=hash_api_password(password)
    )
    if not updated:
        raise ApiPasswordExists("This credential has a password already; regenerate it to get a new one.")
    credential_epoch_bump(account_id=account.pk)
    api_key = ApiCredential.objects.values_list("api_key", flat=True).get(account=account, kind=kind)
    return IssuedCredentials(api_key=api_key, api_password=password, kind=kind)


def api_credential_mark_used(*, credential: ApiCredential) -> None:
    now = timezone.now()
    if credential.last_used_at and now - credential.last_used_at < LAST_USED_PRECISION:
        return
    ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    credential.last_used_at = now


def staff_create(*, email: str, role: Role, password: str | None) -> User:
    user = User.objects.create_user(email=email, password=password, role=role, is_staff=False)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# ---------------------------------------------------------------------------------------------
# Developer apps of the platform command API (POST /api). Refusals are Django ValidationErrors with
# the field named (the API's exception handler and the pages both show them per field); see
# ApiPasswordExists for why not ApplicationError.

API_APP_ALLOWED_IPS_MAX = 50


def _api_app_name(name: str) -> str:
    name = (name or "").strip()
    max_length = ApiApp._meta.get_field("name").max_length
    assert max_length is not None
    if not name:
        raise ValidationError({"name": ["Give the app a name."]})
    if len(name) > max_length or "\x00" in name:
        raise ValidationError({"name": [f"Use at most {max_length} characters, no NUL."]})
    return name


def api_app_networks_clean(entries: list[str]) -> list[str]:
    """IP allow-list entries (addresses or networks, IPv4 or IPv6) as normalised networks, without
    duplicates; ValidationError on `allowed_ips` naming the first entry that is neither."""
    networks: list[str] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            network = str(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValidationError(
                {"allowed_ips": [f"{entry[:60]!r} is not an IP address or network (203.0.113.7, 2001:db8::/48)."]}
            ) from exc
        if network not in networks:
            networks.append(network)
    if len(networks) > API_APP_ALLOWED_IPS_MAX:
        raise ValidationError({"allowed_ips": [f"At most {API_APP_ALLOWED_IPS_MAX} addresses or networks."]})
    return networks


def api_app_commands_clean(commands: list[str]) -> list[str]:
    """Command allow-list entries: names of the command API's commands, in the catalogue's order."""
    wanted = {command.strip() for command in commands if command.strip()}
    unknown = sorted(wanted - set(KARTRA_COMMANDS))
    if unknown:
        raise ValidationError({"allowed_commands": [f"Unknown command: {', '.join(name[:60] for name in unknown)}."]})
    return [command for command in KARTRA_COMMANDS if command in wanted]


def _api_app_values(api_app: ApiApp) -> dict:
    return {
        "name": api_app.name,
        "mode": api_app.mode,
        "allowed_ips": list(api_app.allowed_ips),
        "allowed_commands": list(api_app.allowed_commands),
        "revoked": api_app.revoked_at is not None,
    }


def _api_app_change(*, api_app: ApiApp, actor: User | None, action: str, before: dict, now) -> None:
    ApiAppChange.objects.create(
        api_app=api_app,
        actor=actor,
        action=action,
        from_values=before,
        to_values=_api_app_values(api_app),
        changed_at=now,
    )


def _require_app_owner(*, actor: User | None, account: Account) -> None:
    # actor None: an operator (create_api_app); anyone else must own the account.
    if actor is not None and actor.pk != account.owner_id:
        raise ValidationError({"non_field_errors": ["Only the account's owner may manage its apps."]})


@transaction.atomic
def api_app_register(
    *,
    actor: User | None,
    account: Account,
    name: str,
    allowed_ips: Sequence[str] = (),
    allowed_commands: Sequence[str] = (),
    live: bool = False,
) -> ApiApp:
    """A new developer app in test mode. `live` only for operators (create_api_app --live): owners
    go live through the review queue (approvals.services.api_app_go_live_submit)."""
    _require_app_owner(actor=actor, account=account)
    if live and actor is not None:
        raise ValidationError({"mode": ["An app goes live when a moderator approves its go-live request."]})
    now = timezone.now()
    api_app = ApiApp.objects.create(
        account=account,
        name=_api_app_name(name),
        app_id=new_app_id(),
        allowed_ips=api_app_networks_clean(list(allowed_ips)),
        allowed_commands=api_app_commands_clean(list(allowed_commands)),
        mode=ApiAppMode.LIVE if live else ApiAppMode.TEST,
        created_at=now,
        went_live_at=now if live else None,
    )
    _api_app_change(api_app=api_app, actor=actor, action=ApiAppChangeAction.REGISTERED, before={}, now=now)
    return api_app


def _locked_active_app(api_app: ApiApp) -> ApiApp:
    api_app = ApiApp.objects.select_for_update().select_related("account").get(pk=api_app.pk)
    if api_app.revoked_at is not None:
        raise ValidationError({"non_field_errors": ["This app is revoked."]})
    return api_app


@transaction.atomic
def api_app_update(
    *, actor: User, api_app: ApiApp, name: str, allowed_ips: list[str], allowed_commands: list[str]
) -> ApiApp:
    """The owner renames the app or changes its IP and command allow-lists (effective on the next call)."""
    _require_app_owner(actor=actor, account=api_app.account)
    api_app = _locked_active_app(api_app)
    before = _api_app_values(api_app)
    api_app.name = _api_app_name(name)
    api_app.allowed_ips = api_app_networks_clean(list(allowed_ips))
    api_app.allowed_commands = api_app_commands_clean(list(allowed_commands))
    if _api_app_values(api_app) != before:
        api_app.save(update_fields=["name", "allowed_ips", "allowed_commands"])
        _api_app_change(
            api_app=api_app, actor=actor, action=ApiAppChangeAction.EDITED, before=before, now=timezone.now()
        )
    return api_app


@transaction.atomic
def api_app_revoke(*, actor: User, api_app: ApiApp) -> ApiApp:
    """The owner revokes the app for good: every call with its app_id answers 239 from now on."""
    _require_app_owner(actor=actor, account=api_app.account)
    api_app = _locked_active_app(api_app)
    before = _api_app_values(api_app)
    now = timezone.now()
    api_app.revoked_at = now
    api_app.save(update_fields=["revoked_at"])
    _api_app_change(api_app=api_app, actor=actor, action=ApiAppChangeAction.REVOKED, before=before, now=now)
    return api_app


def api_app_make_live(*, actor: User | None, api_app: ApiApp) -> ApiApp:
    """Test mode ends: called by approvals.services when a moderator approves the app's go-live
    request, inside that decision's transaction (so not atomic itself)."""
    api_app = _locked_active_app(api_app)
    if api_app.mode == ApiAppMode.LIVE:
        return api_app
    before = _api_app_values(api_app)
    now = timezone.now()
    api_app.mode = ApiAppMode.LIVE
    api_app.went_live_at = now
    api_app.save(update_fields=["mode", "went_live_at"])
    _api_app_change(api_app=api_app, actor=actor, action=ApiAppChangeAction.WENT_LIVE, before=before, now=now)
    return api_app
