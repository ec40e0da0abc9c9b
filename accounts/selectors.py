from .models import Account, ApiCredential


def api_credential_get_by_key(*, api_key: str) -> ApiCredential | None:
    # get() on the unique key: no ORDER BY to compile, as first() would add (this runs on every API call).
    try:
        return ApiCredential.objects.select_related("account__owner").get(api_key=api_key)
    except ApiCredential.DoesNotExist:
        return None


def account_for_user(user) -> Account | None:
    if not user.is_authenticated:
        return None
    return Account.objects.filter(owner=user).first()
