from kartra_integrations.prepared import PreparedQuery

from .models import Account, ApiCredential

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
