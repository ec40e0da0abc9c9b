"""Tells drf-spectacular how the API authenticates (imported by AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiCredentialScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiCredentialAuthentication"
    name = "zapierCredential"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": (
                'HTTP Basic with the account\'s Zapier credential (credentials page, "Zapier"): the API key '
                "as user name, the API password as password. Every endpoint but POST /api/v1/events takes it; "
                "the platform events credential is refused with 403 wrong_credential_kind."
            ),
        }


class PlatformCredentialScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.PlatformCredentialAuthentication"
    name = "platformCredential"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": (
                "HTTP Basic with the account's platform events credential (credentials page, \"Platform "
                "events\"), for the platform's own parts: only POST /api/v1/events takes it, and it refuses the "
                "Zapier credential with 403 wrong_credential_kind."
            ),
        }
