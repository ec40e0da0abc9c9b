import pytest
import redis
from rest_framework.test import APIClient

from accounts import throttling
from tests.conftest import api_client_for, basic_auth

pytestmark = pytest.mark.django_db

INVALID = {"message": "Invalid API credentials", "code": "invalid_credentials"}
NOT_ACTIVATED = {"message": "Zapier access has not been activated for this account", "code": "zapier_not_activated"}


def test_me_without_credentials_is_401_with_challenge():
    response = APIClient().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == INVALID
    assert response["WWW-Authenticate"].startswith("Basic")


def test_me_with_wrong_password_is_401(account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, "wrong"))
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == INVALID


def test_me_with_unknown_key_is_401(account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth("ki_unknown", account.issued.api_password))
    assert client.get("/api/v1/me").status_code == 401


def test_me_with_malformed_authorization_header_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic !!!not-base64")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == INVALID


def test_me_for_account_not_yet_activated_is_403(pending_account):
    response = api_client_for(pending_account).get("/api/v1/me")
    assert response.status_code == 403
    assert response.json() == NOT_ACTIVATED


WRONG_KIND = {
    "message": "This endpoint takes the account's Zapier API key and password, not its platform events credential",
    "code": "wrong_credential_kind",
}


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/tags", "/api/v1/leads/search?email=a@example.com"])
def test_zapier_endpoints_refuse_the_platform_credential(platform_api, path):
    response = platform_api.get(path)
    assert response.status_code == 403
    assert response.json() == WRONG_KIND


def test_platform_credential_cannot_write_leads_through_actions(platform_api):
    response = platform_api.post("/api/v1/actions/create_lead", {"email": "a@example.com"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_credential_kind"


def test_a_credential_without_a_password_yet_is_refused(account):
    from accounts.models import ApiCredential

    ApiCredential.objects.filter(account=account, kind="zapier").update(password_hash="")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, ""))
    assert client.get("/api/v1/me").status_code == 401


def test_me_for_activated_account_names_it(account, api):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {"account_id": account.id, "account_name": account.name, "email": account.owner.email}


def test_me_stamps_when_the_key_was_last_used(account, api):
    api.get("/api/v1/me")
    assert account.api_credentials.get(kind="zapier").last_used_at is not None
    assert account.api_credentials.get(kind="platform").last_used_at is None


def test_me_past_the_account_rate_is_429_with_retry_after(api, settings):
    settings.API_RATE_PER_ACCOUNT = "3/s"
    statuses = [api.get("/api/v1/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/me")
    assert response.json() == {"message": "Too many requests", "code": "throttled"}
    assert int(response["Retry-After"]) >= 1


def test_throttle_budget_is_per_account(account, other_account, settings):
    settings.API_RATE_PER_ACCOUNT = "2/s"
    first, second = api_client_for(account), api_client_for(other_account)
    assert [first.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/api/v1/me").status_code == 200


def test_api_answers_when_the_throttle_counter_is_unreachable(api, monkeypatch):
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(throttling, "redis_client", lambda: unreachable)
    assert api.get("/api/v1/me").status_code == 200


def test_schema_names_the_credential_each_endpoint_takes(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"zapierCredential", "platformCredential"}
    assert schema["paths"]["/api/v1/events"]["post"]["security"] == [{"platformCredential": []}]
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"zapierCredential": []}]
    assert "wrong_credential_kind" in schema["paths"]["/api/v1/events"]["post"]["description"]


@pytest.mark.parametrize(("method", "path"), [("get", "/api/v1/nothing-here"), ("delete", "/api/v1/hooks/abc")])
def test_unknown_api_path_is_a_404_in_the_error_shape(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response.json() == {"message": "No such API endpoint", "code": "not_found"}
