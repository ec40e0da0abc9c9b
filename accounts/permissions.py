from rest_framework import permissions

from .models import ApiCredential, CredentialKind


class ZapierActivated(permissions.BasePermission):
    """The gate in front of every /api/v1/ endpoint: the account's Zapier access is approved."""

    message = "Zapier access has not been activated for this account"
    code = "zapier_not_activated"

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiCredential) and request.auth.account.zapier_activated


class _CredentialKind(permissions.BasePermission):
    """The endpoint takes one kind of credential (request.auth.kind, set by the authentication)."""

    kind: str
    code = "wrong_credential_kind"

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiCredential) and request.auth.kind == self.kind


class ZapierCredential(_CredentialKind):
    """Every endpoint Zapier calls (the default): the platform events credential is refused."""

    kind = CredentialKind.ZAPIER
    message = "This endpoint takes the account's Zapier API key and password, not its platform events credential"


class PlatformCredential(_CredentialKind):
    """POST /api/v1/events: only the platform's own parts report events, so the key an owner pastes
    into Zapier is refused; it could otherwise fabricate purchases, refunds and memberships."""

    kind = CredentialKind.PLATFORM
    message = (
        "POST /api/v1/events takes the account's platform events credential, not the API key and "
        "password used by Zapier"
    )
