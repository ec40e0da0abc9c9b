from rest_framework import permissions

from .models import ApiCredential


class ZapierActivated(permissions.BasePermission):
    """The gate in front of every /api/v1/ endpoint: the account's Zapier access is approved."""

    message = "Zapier access has not been activated for this account"
    code = "zapier_not_activated"

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiCredential) and request.auth.account.zapier_activated
