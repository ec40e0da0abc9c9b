from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class AccountRateThrottle(SimpleRateThrottle):
    """Requests per second per account (API_RATE_PER_ACCOUNT), counted in the shared cache."""

    scope = "account"

    def get_rate(self):
        return settings.API_RATE_PER_ACCOUNT

    def get_cache_key(self, request, view):
        credential = request.auth
        if credential is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": credential.account_id}
