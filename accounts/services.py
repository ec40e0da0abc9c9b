from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .crypto import hash_api_password, new_api_key, new_api_password
from .models import Account, ApiCredential, Role, User

# Writing last_used_at on every request would cost a write per call; a minute's precision is
# all an owner needs to see whether Zapier still uses the key.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedCredentials:
    api_key: str
    api_password: str  # shown once, never stored


@transaction.atomic
def account_create(*, email: str, name: str, password: str | None, timezone_name: str = "UTC") -> Account:
    owner = User.objects.create_user(email=email, password=password)
    if password is None:
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    account = Account.objects.create(name=name, owner=owner, timezone=timezone_name)
    api_credentials_issue(account=account)
    return account


@transaction.atomic
def api_credentials_issue(*, account: Account) -> IssuedCredentials:
    """Create or regenerate the account's API key and password; the old pair stops working at once."""
    issued = IssuedCredentials(api_key=new_api_key(), api_password=new_api_password())
    ApiCredential.objects.update_or_create(
        account=account,
        defaults={
            "api_key": issued.api_key,
            "password_hash": hash_api_password(issued.api_password),
            "created_at": timezone.now(),
            "last_used_at": None,
        },
    )
    return issued


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
