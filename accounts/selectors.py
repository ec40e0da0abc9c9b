from kartra_integrations.prepared import PreparedQuery

from .models import Account, ApiApp, ApiCredential

# Every API call runs this: compiled once per process.
_credential_by_key = PreparedQuery(
    lambda api_key: ApiCredential.objects.select_related("account__owner").filter(api_key=api_key),
    api_key="{api_key}",
)


def api_credential_get_by_key(*, api_key: str) -> ApiCredential | None:
    return _credential_by_key.get(api_key=api_key)


def account_for_user(user) -> Account | None:
    if not user.is_authenticated:
        return None
    return Account.objects.filter(owner=user).first()


def api_credentials_by_kind(*, account: Account) -> dict[str, ApiCredential]:
    """The account's API credentials keyed by kind (accounts.models.CredentialKind)."""
    return {credential.kind: credential for credential in ApiCredential.objects.filter(account=account)}


def api_app_get_by_app_id(*, app_id: str) -> ApiApp | None:
    """The app a POST /api call names, revoked or not (the caller tells 239), with its account's owner."""
    return ApiApp.objects.select_related("account__owner").filter(app_id=app_id).first()


def api_apps_for_account(*, account: Account) -> list[ApiApp]:
    """The account's apps, newest first, revoked ones last."""
    return sorted(ApiApp.objects.filter(account=account), key=lambda app: (app.revoked_at is not None, -app.pk))


def api_app_get_for_account(*, account: Account, pk: int) -> ApiApp | None:
    return ApiApp.objects.select_related("account").filter(account=account, pk=pk).first()
