"""Who may call POST /api: the app (238/239/240/242/262), the credential (202/203/233/204), the
per-app rate limit (429), always HTTP 200 otherwise, no CSRF and no session."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiAppMode
from leads.command_api import access
from tests.accounts.factories import ApiAppFactory

TAGS = {"actions[0][cmd]": "retrieve_account_tags"}


def _error(response, number: int) -> None:
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "Error"
    assert body["type"] == str(number)


def test_a_valid_call_with_the_zapier_credential_succeeds(call):
    response = call(TAGS)
    assert response.status_code == 200
    assert response.json()["status"] == "Success"


@pytest.mark.parametrize("app_id", [None, ""])
def test_a_missing_app_id_is_238(call, app_id):
    response = call({**TAGS, "app_id": app_id})
    _error(response, 238)
    assert response.json()["message"] == "App Id cannot be empty. Please get an App Id first"


@pytest.mark.parametrize("app_id", ["app_doesnotexist", "x" * 500, "١٢٣"])
def test_an_unknown_app_id_is_239(call, app_id):
    _error(call({**TAGS, "app_id": app_id}), 239)


def test_an_app_id_given_as_an_array_is_239(call):
    _error(call({**TAGS, "app_id": None, "app_id[0]": "x"}), 239)


def test_a_revoked_app_is_239(call, live_app):
    live_app.revoked_at = timezone.now()
    live_app.save()
    response = call(TAGS)
    _error(response, 239)
    assert response.json()["message"] == "App Id is not valid. The app does not exists or is inactive"


def test_an_app_whose_own_account_is_inactive_is_240(call, live_app):
    live_app.account.owner.is_active = False
    live_app.account.owner.save()
    _error(call(TAGS), 240)


def test_a_call_from_outside_the_ip_allow_list_is_242(call, live_app):
    live_app.allowed_ips = ["203.0.113.0/24", "2001:db8::/48"]
    live_app.save()
    _error(call(TAGS, REMOTE_ADDR="198.51.100.7"), 242)
    assert call(TAGS, REMOTE_ADDR="203.0.113.99").json()["status"] == "Success"
    assert call(TAGS, REMOTE_ADDR="2001:db8::5").json()["status"] == "Success"


@pytest.mark.parametrize("api_key", [None, ""])
def test_a_missing_api_key_is_202(call, api_key):
    _error(call({**TAGS, "api_key": api_key}), 202)


@pytest.mark.parametrize("api_key", ["ki_nosuchkey", "k\u00e9y", "k" * 200])
def test_an_unknown_api_key_is_203(call, api_key):
    _error(call({**TAGS, "api_key": api_key}), 203)


def test_the_platform_events_key_is_203(call, account):
    issued = account.platform_issued
    _error(call({**TAGS, "api_key": issued.api_key, "api_password": issued.api_password}), 203)


@pytest.mark.parametrize("api_password", [None, "", "wrong"])
def test_a_wrong_or_missing_api_password_is_233(call, api_password):
    response = call({**TAGS, "api_password": api_password})
    _error(response, 233)
    assert response.json()["message"] == "API password not valid. Please get an API password first"


def test_an_inactive_account_is_204(call, account):
    account.owner.is_active = False
    account.owner.save()
    _error(call(TAGS), 204)


def test_a_credential_without_a_password_yet_is_233(call, account):
    account.api_credentials.filter(kind="zapier").update(password_hash="")
    _error(call(TAGS), 233)


def test_past_20_calls_a_second_the_app_gets_429_and_another_app_does_not(call, other_account, settings, monkeypatch):
    assert settings.COMMAND_API_RATE_PER_APP == 20
    # The count is under test, not the clock: on a busy machine 21 calls can outlast a 1 s window.
    monkeypatch.setattr(access, "RATE_WINDOW_SECONDS", 60)
    answers = [call(TAGS).status_code for _ in range(20 + 1)]
    assert answers[:20] == [200] * 20
    assert answers[-1] == 429
    limited = call(TAGS)
    assert limited.json() == {"status": "Error", "message": "Too many requests"}
    assert int(limited["Retry-After"]) >= 1
    # Shared by every user of the app, not by the account: another app is not limited.
    other_app = ApiAppFactory(mode=ApiAppMode.LIVE)
    assert call(TAGS, app=other_app).status_code == 200
    assert call(TAGS, as_account=other_account).status_code == 429


def test_the_endpoint_takes_no_csrf_token_sets_no_session_and_answers_with_or_without_a_slash(account, live_app):
    from tests.leads.command_api.conftest import credentials

    client = Client(enforce_csrf_checks=True)
    for path in ("/api", "/api/"):
        response = client.post(path, data={**credentials(live_app, account), **TAGS})
        assert response.status_code == 200
        assert response.json()["status"] == "Success"
        assert "sessionid" not in response.cookies


def test_get_is_not_allowed(client):
    assert client.get("/api").status_code == 405


def test_credentials_in_the_query_string_are_accepted_with_a_json_body(account, live_app):
    import json
    from urllib.parse import urlencode

    from tests.leads.command_api.conftest import credentials

    query = urlencode(credentials(live_app, account))
    response = Client().post(
        f"/api?{query}",
        data=json.dumps({"actions": [{"cmd": "retrieve_account_lists"}]}),
        content_type="application/json",
    )
    assert response.json()["status"] == "Success"
    assert response.json()["account_lists"] == []


def test_a_body_that_cannot_be_parsed_is_400_naming_the_field(call):
    response = call({"lead[email": "a@b.com"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["status"] == "Error"
    assert list(body["fields"]) == ["lead"]


# The credential verified once per process (accounts.credential_cache), as on /api/v1.


@pytest.fixture
def verified(call):
    """Two calls: the first reads the credential before its account's epoch is known, the second
    verifies it under the epoch, so later calls are served from the process."""
    for _ in range(2):
        assert call(TAGS).json()["status"] == "Success"


@pytest.mark.redis
def test_a_verified_credential_is_not_read_again(call, verified):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert call(TAGS).json()["status"] == "Success"
    assert not [query for query in queries if 'FROM "accounts_apicredential"' in query["sql"]]


def test_a_wrong_password_after_a_verified_call_is_233(call, account, live_app, verified):
    _error(call({**TAGS, "api_password": "wrong"}), 233)


def test_a_regenerated_credential_is_refused_on_the_next_call(
    call, account, verified, django_capture_on_commit_callbacks
):
    from accounts.models import CredentialKind
    from accounts.services import api_credentials_regenerate

    with django_capture_on_commit_callbacks(execute=True):
        api_credentials_regenerate(account=account, kind=CredentialKind.ZAPIER, confirmed_key=account.issued.api_key)
    _error(call(TAGS), 203)


def test_a_deactivated_owner_is_refused_on_the_next_call(call, account, verified, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account.owner.is_active = False
        account.owner.save()
    _error(call(TAGS), 204)


def test_a_platform_credential_verified_on_the_events_endpoint_is_still_203(call, account):
    from tests.conftest import platform_api_client_for

    platform = platform_api_client_for(account)
    for _ in range(2):
        platform.post("/api/v1/events", {}, format="json")
    issued = account.platform_issued
    _error(call({**TAGS, "api_key": issued.api_key, "api_password": issued.api_password}), 203)
