"""Tells drf-spectacular how the API authenticates (imported by AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiCredentialScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiCredentialAuthentication"
    name = "apiCredentials"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic: your API key as user name and your API password as password.",
        }
