"""Shared fixtures: the permission-matrix roles and an API client for an account's credentials."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.accounts.factories import (
    AccountFactory,
    ActivatedAccountFactory,
    ModeratorFactory,
    SupportAgentFactory,
)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache; each test starts with a fresh budget.
    cache.clear()


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
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, account.issued.api_password))
    return client


def basic_auth(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def api(account) -> APIClient:
    """An API client authenticated as the approved `account`."""
    return api_client_for(account)
