from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .crypto import hash_api_password, new_api_key, new_api_password
from .models import Account, ApiCredential, CredentialKind, Role, User

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
