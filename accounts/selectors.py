from .models import Account, ApiCredential


def api_credential_get_by_key(*, api_key: str) -> ApiCredential | None:
    return ApiCredential.objects.select_related("account__owner").filter(api_key=api_key).first()


def account_for_user(user) -> Account | None:
    if not user.is_authenticated:
        return None
    return Account.objects.filter(owner=user).first()
