"""The credentials page: what to paste where, a password shown once after it is created,
regeneration confirmed first (POST + CSRF), both credentials; passwords stay hashed at rest."""

import re

import pytest
from django.test import Client

from accounts.crypto import api_password_matches
from accounts.models import ApiCredential
from accounts.services import account_create, api_credentials_issue
from tests.conftest import api_client_for, basic_auth

pytestmark = pytest.mark.django_db

PAGE = "/settings/api/"


def _credential(account, kind="zapier") -> ApiCredential:
    return ApiCredential.objects.get(account=account, kind=kind)


@pytest.fixture
def new_account(db):
    """An account as sign-up creates it: keys of both kinds, no API password yet."""
    account = account_create(email="new@example.com", name="New Biz", password="a fine pass phrase")
    account.zapier_activated = True
    account.save(update_fields=["zapier_activated"])
    return account


def _owner_client(account) -> Client:
    client = Client()
    client.force_login(account.owner)
    return client


def _shown_password(response, kind="zapier") -> str:
    return re.search(rf'id="{kind}-new-password">([^<]+)<', response.content.decode()).group(1)


def test_api_password_is_stored_only_as_a_hash(account):
    credential = _credential(account)
    assert account.issued.api_password not in credential.password_hash
    assert api_password_matches(account.issued.api_password, credential.password_hash)


def test_regenerating_credentials_rejects_the_old_pair_at_once(account):
    old_client = api_client_for(account)
    assert old_client.get("/api/v1/me").status_code == 200

    account.issued = api_credentials_issue(account=account)

    assert old_client.get("/api/v1/me").status_code == 401
    assert api_client_for(account).get("/api/v1/me").status_code == 200


def test_new_account_has_both_keys_and_no_password_yet(new_account):
    assert {c.kind: c.password_hash for c in new_account.api_credentials.all()} == {"zapier": "", "platform": ""}


def test_page_says_what_to_paste_into_zapier(new_account, settings):
    settings.ALLOWED_HOSTS = ["integrations.example.com"]
    page = _owner_client(new_account).get(PAGE, HTTP_HOST="integrations.example.com").content.decode()
    assert 'id="api-url">http://integrations.example.com</code>' in page
    assert _credential(new_account).api_key in page
    for label in ("Kartra API URL", "API Key", "API Password"):
        assert f"<dt>{label}</dt>" in page
    assert _credential(new_account, "platform").api_key in page
    assert "/api/v1/events" in page


def test_page_links_the_assets_pages(client, account):
    client.force_login(account.owner)
    assert 'href="/assets/"' in client.get(PAGE).content.decode()


def test_page_offers_to_create_a_password_when_there_is_none(new_account):
    page = _owner_client(new_account).get(PAGE).content.decode()
    assert 'action="/settings/api/zapier/password/"' in page
    assert 'action="/settings/api/platform/password/"' in page
    assert "Regenerate" not in page


def test_created_password_is_shown_once_and_works(new_account):
    client = _owner_client(new_account)
    response = client.post("/settings/api/zapier/password/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = _shown_password(response)
    credential = _credential(new_account)
    assert api_password_matches(shown, credential.password_hash)
    assert shown not in client.get(PAGE).content.decode()
    api = Client()
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=basic_auth(credential.api_key, shown)).status_code == 200


def test_creating_a_password_keeps_the_key_already_pasted(new_account):
    key = _credential(new_account).api_key
    _owner_client(new_account).post("/settings/api/zapier/password/")
    assert _credential(new_account).api_key == key


def test_creating_a_password_twice_does_not_replace_it(new_account):
    client = _owner_client(new_account)
    first = _shown_password(client.post("/settings/api/zapier/password/"))
    response = client.post("/settings/api/zapier/password/")
    assert response.status_code == 409
    assert "has a password already" in response.content.decode()
    assert 'id="zapier-new-password"' not in response.content.decode()
    assert api_password_matches(first, _credential(new_account).password_hash)


def test_platform_password_is_created_for_the_platform_credential_only(new_account):
    response = _owner_client(new_account).post("/settings/api/platform/password/")
    shown = _shown_password(response, "platform")
    assert api_password_matches(shown, _credential(new_account, "platform").password_hash)
    assert _credential(new_account).password_hash == ""


def test_page_never_shows_an_existing_password(client, account):
    client.force_login(account.owner)
    page = client.get(PAGE).content.decode()
    assert account.issued.api_key in page
    assert account.issued.api_password not in page
    assert account.platform_issued.api_password not in page


def test_regenerate_asks_for_confirmation_first_and_changes_nothing(client, account):
    client.force_login(account.owner)
    response = client.get("/settings/api/zapier/regenerate/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "stop working at once" in page
    assert f'value="{account.issued.api_key}"' in page
    assert _credential(account).api_key == account.issued.api_key
    assert api_client_for(account).get("/api/v1/me").status_code == 200


def test_confirmed_regeneration_shows_the_new_password_once(client, account):
    client.force_login(account.owner)
    response = client.post("/settings/api/zapier/regenerate/", {"api_key": account.issued.api_key})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = _shown_password(response)
    credential = _credential(account)
    assert credential.api_key != account.issued.api_key
    assert api_password_matches(shown, credential.password_hash)
    assert shown not in client.get(PAGE).content.decode()


def test_a_confirmation_submitted_again_regenerates_nothing_more(client, account):
    client.force_login(account.owner)
    body = {"api_key": account.issued.api_key}
    shown = _shown_password(client.post("/settings/api/zapier/regenerate/", body))
    again = client.post("/settings/api/zapier/regenerate/", body)
    assert again.status_code == 409
    assert "Nothing was regenerated" in again.content.decode()
    assert api_password_matches(shown, _credential(account).password_hash)


def test_regenerating_one_kind_leaves_the_other(client, account):
    client.force_login(account.owner)
    platform_key = account.platform_issued.api_key
    client.post("/settings/api/zapier/regenerate/", {"api_key": account.issued.api_key})
    assert _credential(account, "platform").api_key == platform_key


def test_regeneration_needs_the_csrf_token(account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(account.owner)
    response = client.post("/settings/api/zapier/regenerate/", {"api_key": account.issued.api_key})
    assert response.status_code == 403
    assert _credential(account).api_key == account.issued.api_key


def test_password_creation_needs_post(client, new_account):
    client.force_login(new_account.owner)
    assert client.get("/settings/api/zapier/password/").status_code == 405


def test_unknown_credential_kind_is_404(client, account):
    client.force_login(account.owner)
    assert client.get("/settings/api/nope/regenerate/").status_code == 404
    assert client.post("/settings/api/nope/password/").status_code == 404


def test_an_owner_cannot_regenerate_another_accounts_credentials(client, account, other_account):
    client.force_login(account.owner)
    response = client.post("/settings/api/zapier/regenerate/", {"api_key": other_account.issued.api_key})
    assert response.status_code == 409
    assert _credential(other_account).api_key == other_account.issued.api_key
    assert _credential(account).api_key == account.issued.api_key


@pytest.mark.parametrize("role", ["moderator", "support_agent"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", PAGE), ("get", "/settings/api/zapier/regenerate/"), ("post", "/settings/api/zapier/password/")],
)
def test_staff_have_no_credentials_pages(client, request, role, method, path):
    client.force_login(request.getfixturevalue(role))
    assert getattr(client, method)(path).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
