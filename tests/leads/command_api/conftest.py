"""POST /api fixtures: a developer's app (test mode and live), and `call` sending a form body the way
the platform's PHP clients do (urlencode over bracket keys) with the `account`'s credentials."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from accounts.models import ApiAppMode
from tests.accounts.factories import ApiAppFactory


@pytest.fixture
def test_app(db):
    """A developer's app (of another account, as on the platform), still in test mode."""
    return ApiAppFactory()


@pytest.fixture
def live_app(db):
    return ApiAppFactory(mode=ApiAppMode.LIVE)


def credentials(app, account) -> dict[str, str]:
    return {"app_id": app.app_id, "api_key": account.issued.api_key, "api_password": account.issued.api_password}


@pytest.fixture
def call(account, live_app):
    """call(fields, app=live_app, as_account=account, **client kwargs) -> the response; `fields` are
    flat bracket keys ({"lead[email]": ..., "actions[0][cmd]": ...}), credentials added unless given."""

    def send(fields: dict | None = None, *, app=None, as_account=None, **extra):
        body = {**credentials(app or live_app, as_account or account), **(fields or {})}
        body = {key: value for key, value in body.items() if value is not None}
        return Client().post(
            "/api", data=urlencode(body, doseq=True), content_type="application/x-www-form-urlencoded", **extra
        )

    return send
