from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # The login-lockout reset; the OpenAPI authentication scheme; the credential epoch's bumps.
        from . import login_lockout, schema, signals  # noqa: F401
