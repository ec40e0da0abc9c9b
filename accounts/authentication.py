from typing import cast

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .credential_cache import api_credential_authenticate
from .models import Account, ApiCredential

INVALID_CREDENTIALS = "Invalid API credentials"
API_KEY_MAX_LENGTH: int = ApiCredential._meta.get_field("api_key").max_length or 0  # a CharField's: always set


def api_key_well_formed(api_key: object) -> bool:
    """A key is printable ASCII (accounts.crypto.new_api_key) and fits its column; anything else (a NUL,
    which PostgreSQL refuses to compare, text in another script, a nested value) is not one: no query."""
    return (
        isinstance(api_key, str)
        and 0 < len(api_key) <= API_KEY_MAX_LENGTH
        and api_key.isascii()
        and api_key.isprintable()
    )


def request_account(request: Request) -> Account:
    """The account of an API request, from the credential ApiCredentialAuthentication set as `request.auth`."""
    return cast(ApiCredential, request.auth).account


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_detail = INVALID_CREDENTIALS
    default_code = "invalid_credentials"


class ApiCredentialAuthentication(authentication.BasicAuthentication):
    """HTTP Basic: the API key as user name, the API password as password.

    request.user is the account's owner and request.auth the ApiCredential, whose `.account`
    is the tenant every API view scopes its queries to and whose `.kind` says which kind of
    credential authenticated (Zapier's or the platform's: accounts.permissions checks it).

    The credential usually comes from the process's verified credentials, checked against the
    account's credential epoch by the rate counter's script (accounts.credential_cache); that count
    is left on the request for AccountRateThrottle, so a request costs one Redis command and no
    PostgreSQL query to authenticate.
    """

    www_authenticate_realm = "Kartra Integrations API"

    def authenticate(self, request):
        try:
            result = super().authenticate(request)
        except exceptions.AuthenticationFailed as exc:
            raise InvalidCredentials() from exc
        if result is None:
            raise InvalidCredentials()
        return result

    def authenticate_credentials(self, userid, password, request=None):
        if not api_key_well_formed(userid):
            raise InvalidCredentials()
        credential, counted = api_credential_authenticate(api_key=userid, password=password)
        # A deactivated owner's credentials open nothing (DRF's own Basic check; POST /api answers 204).
        if credential is None or not credential.account.owner.is_active:
            raise InvalidCredentials()
        if request is not None:
            request.account_request_counted = counted
        return credential.account.owner, credential


class PlatformCredentialAuthentication(ApiCredentialAuthentication):
    """The same HTTP Basic check, for POST /api/v1/events: its own class so that the OpenAPI schema
    names the credential that endpoint takes (accounts.schema); accounts.permissions.PlatformCredential
    refuses any other kind."""
