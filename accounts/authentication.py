from typing import cast

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .crypto import api_password_matches
from .models import Account, ApiCredential
from .selectors import api_credential_get_by_key
from .services import api_credential_mark_used

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
        credential = api_credential_get_by_key(api_key=userid)
        if credential is None or not api_password_matches(password, credential.password_hash):
            raise InvalidCredentials()
        api_credential_mark_used(credential=credential)
        return credential.account.owner, credential


class PlatformCredentialAuthentication(ApiCredentialAuthentication):
    """The same HTTP Basic check, for POST /api/v1/events: its own class so that the OpenAPI schema
    names the credential that endpoint takes (accounts.schema); accounts.permissions.PlatformCredential
    refuses any other kind."""
