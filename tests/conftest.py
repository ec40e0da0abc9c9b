"""Shared fixtures: the permission-matrix roles and an API client for an account's credentials."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.credential_cache import verified_credentials
from tests.accounts.factories import (
    PASSWORD,
    AccountFactory,
    ActivatedAccountFactory,
    ModeratorFactory,
    SupportAgentFactory,
)


@pytest.fixture(autouse=True)
def _needs_what_its_markers_say(request):
    """`postgres` tests run on PostgreSQL only, `redis` tests only with REDIS_URL (CI has both; the
    SQLite run without Redis, `make run`'s defaults, skips them)."""
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    if request.node.get_closest_marker("redis") and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and credential epochs live in the cache's Redis; each test starts with a fresh
    # budget and no credential verified by an earlier one.
    cache.clear()
    verified_credentials.clear()


@pytest.fixture
def account(db):
    """An approved account: its owner's Zapier access is activated."""
    return ActivatedAccountFactory()


@pytest.fixture
def other_account(db):
    return ActivatedAccountFactory()


@pytest.fixture
def pending_account(db):
    return AccountFactory()


@pytest.fixture
def owner(account):
    return account.owner


@pytest.fixture
def other_owner(other_account):
    return other_account.owner


@pytest.fixture
def moderator(db):
    return ModeratorFactory()


@pytest.fixture
def support_agent(db):
    return SupportAgentFactory()


def api_client_for(account) -> APIClient:
    """Authenticated with the account's Zapier credential."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, account.issued.api_password))
    return client


def platform_api_client_for(account) -> APIClient:
    """Authenticated with the account's platform events credential (POST /api/v1/events)."""
    client = APIClient()
    issued = account.platform_issued
    client.credentials(HTTP_AUTHORIZATION=basic_auth(issued.api_key, issued.api_password))
    return client


def basic_auth(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def api(account) -> APIClient:
    """An API client authenticated as the approved `account`."""
    return api_client_for(account)


@pytest.fixture
def platform_api(account) -> APIClient:
    """An API client with the approved `account`'s platform events credential."""
    return platform_api_client_for(account)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_context_options() -> dict:
    """Playwright's new_context() options for browser_page; override in a module (e.g. a timezone_id)."""
    return {}


@pytest.fixture
def browser_page(monkeypatch, browser_context_options):
    """A Playwright page in Debian's headless Chromium; skipped when Chromium is not installed."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(**browser_context_options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            # Inside Playwright's context the ORM opens its own database connection (the context
            # variables differ); close it here so the test database can be dropped afterwards.
            connections.close_all()
            context.close()
            browser.close()


@pytest.fixture
def log_in(browser_page, live_server):
    """log_in(email) logs that factory user in through the login page and returns the browser page."""

    def as_user(email: str):
        browser_page.goto(f"{live_server.url}/login/")
        browser_page.get_by_label("Email address").fill(email)
        browser_page.get_by_label("Password").fill(PASSWORD)
        browser_page.get_by_role("button", name="Log in").click()
        browser_page.locator(".who", has_text=email).wait_for()
        return browser_page

    return as_user
