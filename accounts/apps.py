from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from . import login_lockout, schema  # noqa: F401  (the login-lockout reset; the OpenAPI authentication scheme)
