"""API credentials verified once per process, served while the account's credential epoch in Redis is
unchanged (accounts.credential_cache): no PostgreSQL query to authenticate, and every change to what
the credentials may do takes effect on the very next request."""

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import throttling
from accounts.credential_cache import VerifiedCredentials, api_credential_authenticate
from accounts.models import ApiCredential, CredentialKind
from accounts.services import api_credentials_regenerate
from approvals.models import RevocationReason
from approvals.services import account_revoke
from kartra_integrations.redis_client import redis_client
from tests.conftest import api_client_for, basic_auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs the on-commit callbacks of what happens inside it, as the commit of a real transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _warm(client) -> None:
    """The first request of a key reads PostgreSQL before it knows the account; the second verifies
    the credential under the epoch it read first, which later requests are served under."""
    for _ in range(2):
        assert client.get("/api/v1/me").status_code == 200


def _credential_reads(queries) -> int:
    return sum(q["sql"].startswith("SELECT") and 'FROM "accounts_apicredential"' in q["sql"] for q in queries)


def _unreachable_redis(monkeypatch) -> None:
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(throttling, "redis_client", lambda: unreachable)


@pytest.mark.redis
def test_a_verified_credential_costs_no_query(api):
    _warm(api)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert len(queries) == 0, [query["sql"][:80] for query in queries]


def test_the_first_requests_of_a_key_read_postgresql(api):
    with CaptureQueriesContext(connection) as queries:
        _warm(api)
    assert _credential_reads(queries) == 2


def test_a_wrong_password_after_a_verified_one_is_401(account, api):
    _warm(api)
    wrong = api_client_for(account)
    wrong.credentials(HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, "wrong"))
    assert wrong.get("/api/v1/me").status_code == 401


def test_another_accounts_password_never_opens_a_verified_key(account, other_account, api):
    _warm(api)
    _warm(api_client_for(other_account))
    mixed = api_client_for(account)
    mixed.credentials(HTTP_AUTHORIZATION=basic_auth(account.issued.api_key, other_account.issued.api_password))
    assert mixed.get("/api/v1/me").status_code == 401


def test_each_account_is_served_its_own_credential(account, other_account, api):
    other = api_client_for(other_account)
    _warm(api)
    _warm(other)
    assert api.get("/api/v1/me").json()["account_id"] == account.pk
    assert other.get("/api/v1/me").json()["account_id"] == other_account.pk


def test_regenerated_credentials_stop_the_old_pair_on_the_next_request(account, api, committed):
    _warm(api)
    with committed():
        issued = api_credentials_regenerate(
            account=account, kind=CredentialKind.ZAPIER, confirmed_key=account.issued.api_key
        )
    assert api.get("/api/v1/me").status_code == 401
    fresh = api_client_for(account)
    fresh.credentials(HTTP_AUTHORIZATION=basic_auth(issued.api_key, issued.api_password))
    assert fresh.get("/api/v1/me").status_code == 200


def test_revoked_zapier_access_is_refused_on_the_next_request(account, api, moderator, committed):
    _warm(api)
    with committed():
        account_revoke(actor=moderator, account=account, reason=RevocationReason.OWNER_ASKED)
    assert api.get("/api/v1/me").status_code == 403


def test_a_deactivated_owner_is_refused_on_the_next_request(account, api, committed):
    _warm(api)
    with committed():
        account.owner.is_active = False
        account.owner.save()
    assert api.get("/api/v1/me").status_code == 401


def test_a_deleted_credential_is_refused_on_the_next_request(account, api, committed):
    _warm(api)
    with committed():
        ApiCredential.objects.get(account=account, kind=CredentialKind.ZAPIER).delete()
    assert api.get("/api/v1/me").status_code == 401


def test_a_changed_account_is_read_again_on_the_next_request(account, api, committed):
    _warm(api)
    with committed():
        account.name = "Renamed"
        account.save()
    assert api.get("/api/v1/me").json()["account_name"] == "Renamed"


@pytest.mark.redis
def test_a_login_keeps_the_verified_credentials(account, api, committed):
    from django.contrib.auth.models import update_last_login

    _warm(api)
    with committed():
        update_last_login(None, account.owner)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/me").status_code == 200
    assert len(queries) == 0


@pytest.mark.redis
def test_another_process_sees_the_regeneration_through_the_shared_epoch(account, committed):
    """A second VerifiedCredentials stands for another process: its entries obey the same epoch."""
    issued = account.issued
    other_process = VerifiedCredentials()
    for _ in range(2):
        api_credential_authenticate(api_key=issued.api_key, password=issued.api_password, cache=other_process)
    with CaptureQueriesContext(connection) as queries:
        credential, _ = api_credential_authenticate(
            api_key=issued.api_key, password=issued.api_password, cache=other_process
        )
    assert credential is not None and len(queries) == 0
    with committed():
        api_credentials_regenerate(account=account, kind=CredentialKind.ZAPIER, confirmed_key=issued.api_key)
    credential, _ = api_credential_authenticate(
        api_key=issued.api_key, password=issued.api_password, cache=other_process
    )
    assert credential is None


def test_with_redis_down_every_request_reads_postgresql(api, monkeypatch):
    _warm(api)
    _unreachable_redis(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/me").status_code == 200
    assert _credential_reads(queries) == 1


def test_a_regeneration_during_a_redis_outage_is_not_forgotten_when_redis_is_back(account, api, monkeypatch):
    _warm(api)
    with monkeypatch.context() as outage:
        _unreachable_redis(outage)
        assert api.get("/api/v1/me").status_code == 200
        # Committed, but its new epoch never reached Redis.
        api_credentials_regenerate(account=account, kind=CredentialKind.ZAPIER, confirmed_key=account.issued.api_key)
    assert api.get("/api/v1/me").status_code == 401


def test_without_redis_url_every_request_reads_postgresql(api, monkeypatch):
    monkeypatch.setattr(throttling, "redis_client", lambda: None)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert api.get("/api/v1/me").status_code == 200
    assert _credential_reads(queries) == 3


@pytest.mark.redis
def test_each_request_is_counted_once(account, api):
    for _ in range(5):
        assert api.get("/api/v1/me").status_code == 200
    assert int(redis_client().get(f"throttle_account_{account.pk}")) == 5


def test_verified_requests_are_still_throttled(api, settings):
    settings.API_RATE_PER_ACCOUNT = "3/s"
    assert [api.get("/api/v1/me").status_code for _ in range(5)] == [200, 200, 200, 429, 429]
