"""Command API apps on the credentials page in Chromium, under the strict Content-Security-Policy:
register an app, see its App ID, ask to go live, revoke it after confirming."""

import pytest

from accounts.models import ApiApp
from accounts.services import account_create
from approvals.models import ActivationRequest
from tests.accounts.factories import PASSWORD
from tests.approvals.conftest import STATED_USE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_registers_an_app_asks_to_go_live_and_revokes_it(live_server, log_in):
    account = account_create(email="dev@example.com", name="Dev shop", password=PASSWORD)
    page = log_in(account.owner.email)
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    page.goto(f"{live_server.url}/settings/api/")
    page.get_by_label("App name").fill("WP Fusion")
    page.get_by_label("Allowed IP addresses").fill("203.0.113.0/24")
    page.get_by_label("assign_tag", exact=True).check()
    page.get_by_role("button", name="Register the app").click()

    app = ApiApp.objects.get(account=account)
    page.locator("#app-id", has_text=app.app_id).wait_for()
    assert page.locator("#app-state").inner_text() == "Test mode"
    assert page.get_by_label("assign_tag", exact=True).is_checked()

    page.get_by_label("What does the app do?").fill(STATED_USE)
    page.get_by_role("button", name="Ask to go live").click()
    page.locator("#go-live-state", has_text="Pending").wait_for()
    assert ActivationRequest.objects.filter(api_app=app).count() == 1

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#revoke-app")
    page.locator("#app-state", has_text="Revoked").wait_for()
    app.refresh_from_db()
    assert app.revoked_at is not None
    assert blocked == []
