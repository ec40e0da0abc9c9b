"""The show-once API password in Chromium: visible after it is created, gone on reload."""

import pytest

from accounts.crypto import api_password_matches
from accounts.models import ApiCredential
from accounts.services import account_create
from tests.accounts.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _hash(account, kind="zapier") -> str:
    return ApiCredential.objects.get(account=account, kind=kind).password_hash


def test_created_password_is_shown_once_and_gone_on_reload(live_server, log_in):
    account = account_create(email="shop@example.com", name="Shop", password=PASSWORD)
    page = log_in(account.owner.email)
    page.goto(f"{live_server.url}/settings/api/")
    assert page.locator("#api-url").inner_text() == live_server.url

    page.click("#create-zapier-password")
    shown = page.locator("#zapier-new-password").inner_text()
    assert api_password_matches(shown, _hash(account))
    page.get_by_text("Copy it now: it is shown this once").wait_for()

    page.reload()
    page.locator("#api-key").wait_for()
    assert page.locator("#zapier-new-password").count() == 0
    assert shown not in page.content()
    assert api_password_matches(shown, _hash(account))  # a reload changed nothing


def test_regeneration_is_confirmed_then_shown_once_and_gone_on_reload(live_server, log_in):
    account = account_create(email="shop@example.com", name="Shop", password=PASSWORD)
    page = log_in(account.owner.email)
    page.goto(f"{live_server.url}/settings/api/")
    page.click("#create-platform-password")
    first = page.locator("#platform-new-password").inner_text()
    page.goto(f"{live_server.url}/settings/api/")

    page.click("#regenerate-platform")
    page.get_by_text("stop working at once").wait_for()
    assert api_password_matches(first, _hash(account, "platform"))  # asking changed nothing
    page.click("button:has-text('Regenerate key and password')")
    second = page.locator("#platform-new-password").inner_text()
    assert second != first
    assert api_password_matches(second, _hash(account, "platform"))

    page.reload()
    page.locator("#platform-api-key").wait_for()
    assert page.locator("#platform-new-password").count() == 0
    assert api_password_matches(second, _hash(account, "platform"))  # a reload regenerated nothing
