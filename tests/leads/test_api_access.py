"""Every v1 lead endpoint sits behind the same gate as /api/v1/me: credentials, then approval."""

import pytest
from rest_framework.test import APIClient

from leads.api.actions import ACTIONS
from leads.api.outputs import ASSET_READS
from leads.models import Lead
from tests.conftest import api_client_for, basic_auth

pytestmark = pytest.mark.django_db

INVALID = {"message": "Invalid API credentials", "code": "invalid_credentials"}
NOT_ACTIVATED = {"message": "Zapier access has not been activated for this account", "code": "zapier_not_activated"}

READS = [f"/api/v1/{path}" for path in ASSET_READS] + ["/api/v1/leads/1", "/api/v1/leads/search?email=a@example.com"]
WRITES = [f"/api/v1/actions/{command}" for command in ACTIONS] + ["/api/v1/actions/no_such_command"]


def call(client, url):
    if url.startswith("/api/v1/actions/"):
        return client.post(url, {"email": "a@example.com"}, format="json")
    return client.get(url)


@pytest.mark.parametrize("url", READS + WRITES)
def test_without_credentials_is_401(url):
    response = call(APIClient(), url)
    assert response.status_code == 401
    assert response.json() == INVALID


@pytest.mark.parametrize("url", READS + WRITES)
def test_with_wrong_password_is_401(account, url):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, "wrong"))
    assert call(client, url).status_code == 401


@pytest.mark.parametrize("url", READS + WRITES)
def test_unapproved_account_is_403(pending_account, url):
    response = call(api_client_for(pending_account), url)
    assert response.status_code == 403
    assert response.json() == NOT_ACTIVATED


@pytest.mark.parametrize("url", READS + WRITES)
def test_revoked_account_is_403(account, url):
    client = api_client_for(account)
    account.zapier_activated = False  # what approvals' revoke does to the account
    account.save(update_fields=["zapier_activated"])
    response = call(client, url)
    assert response.status_code == 403
    assert response.json() == NOT_ACTIVATED


def test_revoked_account_writes_nothing(account):
    client = api_client_for(account)
    account.zapier_activated = False
    account.save(update_fields=["zapier_activated"])
    client.post("/api/v1/actions/create_lead", {"email": "a@example.com"}, format="json")
    assert not Lead.objects.exists()


def test_regenerated_credentials_stop_the_old_ones(account):
    from accounts.services import api_credentials_issue

    old = api_client_for(account)
    api_credentials_issue(account=account)
    assert old.get("/api/v1/tags").status_code == 401
