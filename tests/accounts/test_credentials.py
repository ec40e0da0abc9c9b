import pytest

from accounts.crypto import api_password_matches
from accounts.services import api_credentials_issue
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


def test_api_password_is_stored_only_as_a_hash(account):
    credential = account.api_credentials.get(kind="zapier")
    assert account.issued.api_password not in credential.password_hash
    assert api_password_matches(account.issued.api_password, credential.password_hash)


def test_regenerating_credentials_rejects_the_old_pair_at_once(account):
    old_client = api_client_for(account)
    assert old_client.get("/api/v1/me").status_code == 200

    account.issued = api_credentials_issue(account=account)

    assert old_client.get("/api/v1/me").status_code == 401
    assert api_client_for(account).get("/api/v1/me").status_code == 200


def test_credentials_page_never_shows_the_password(client, account):
    client.force_login(account.owner)
    page = client.get("/settings/api/").content.decode()
    assert account.issued.api_key in page
    assert account.issued.api_password not in page


def test_regenerate_shows_the_new_password_once(client, account):
    client.force_login(account.owner)
    response = client.post("/settings/api/regenerate/")
    shown = response.context["issued"].api_password
    assert shown in response.content.decode()
    assert api_password_matches(shown, account.api_credentials.get(kind="zapier").password_hash)
    assert shown not in client.get("/settings/api/").content.decode()


def test_regenerate_needs_post(client, account):
    client.force_login(account.owner)
    assert client.get("/settings/api/regenerate/").status_code == 405


@pytest.mark.parametrize("role", ["moderator", "support_agent"])
def test_staff_have_no_credentials_page(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/settings/api/").status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/settings/api/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
