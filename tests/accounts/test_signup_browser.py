"""Sign-up in headless Chromium whose clock is set to Tokyo: the browser's zone is proposed."""

import pytest

from accounts.models import Account
from tests.accounts.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_options():
    return {"timezone_id": "Asia/Tokyo"}


def _fill(page, email: str):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Business name").fill("Tokyo Tea")
    page.get_by_label("Password").fill(PASSWORD)


def test_signup_proposes_the_browsers_time_zone_and_the_account_keeps_it(browser_page, live_server):
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # the script raised nothing
    page.goto(f"{live_server.url}/signup/")
    assert page.get_by_label("Time zone").input_value() == "Asia/Tokyo"
    _fill(page, "owner@tokyo-tea.example")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{live_server.url}/integrations/")

    assert Account.objects.get(owner__email="owner@tokyo-tea.example").timezone == "Asia/Tokyo"
    assert errors == []


def test_a_zone_the_visitor_chose_survives_a_form_error(browser_page, live_server):
    page = browser_page
    page.goto(f"{live_server.url}/signup/")
    _fill(page, "owner@tokyo-tea.example")
    page.get_by_label("Password").fill("short")  # refused by the password validators
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_role("button", name="Sign up").click()

    page.locator(".has-error").first.wait_for()
    assert page.get_by_label("Time zone").input_value() == "Europe/Lisbon"
    assert not Account.objects.filter(owner__email="owner@tokyo-tea.example").exists()
