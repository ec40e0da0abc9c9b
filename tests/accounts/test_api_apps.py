"""Developer apps of POST /api: the services (register, edit, revoke, each recorded), the owner's
pages (permission matrix, POST + CSRF), and create_api_app."""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import ApiApp, ApiAppChange, ApiAppMode
from accounts.services import api_app_register, api_app_revoke, api_app_update
from approvals.models import ActivationRequest, RequestKind
from tests.accounts.factories import ApiAppFactory
from tests.approvals.conftest import STATED_USE

pytestmark = pytest.mark.django_db


# --- services --------------------------------------------------------------------------------------


def test_a_registered_app_is_in_test_mode_with_an_unguessable_app_id_and_a_history_row(account):
    first = api_app_register(actor=account.owner, account=account, name="  WP Fusion  ")
    second = api_app_register(actor=account.owner, account=account, name="Other")
    assert first.mode == ApiAppMode.TEST
    assert first.name == "WP Fusion"
    assert first.app_id.startswith("app_") and len(first.app_id) == 36 and first.app_id != second.app_id
    change = ApiAppChange.objects.get(api_app=first)
    assert (change.action, change.actor, change.to_values["mode"]) == ("registered", account.owner, "test")


def test_allow_lists_are_normalised(account):
    app = api_app_register(
        actor=account.owner,
        account=account,
        name="Shop",
        allowed_ips=["203.0.113.7", " 198.51.100.9/24 ", "", "2001:DB8::/48", "203.0.113.7"],
        allowed_commands=["assign_tag", "create_lead", "assign_tag"],
    )
    assert app.allowed_ips == ["203.0.113.7/32", "198.51.100.0/24", "2001:db8::/48"]
    assert app.allowed_commands == ["create_lead", "assign_tag"]  # catalogue order


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "A", "allowed_ips": ["not-an-ip"]}, "allowed_ips"),
        ({"name": "A", "allowed_ips": ["10.0.0.0/99"]}, "allowed_ips"),
        ({"name": "A", "allowed_commands": ["drop_tables"]}, "allowed_commands"),
    ],
)
def test_bad_input_is_refused_naming_the_field(account, kwargs, field):
    with pytest.raises(ValidationError) as error:
        api_app_register(actor=account.owner, account=account, **kwargs)
    assert field in error.value.message_dict
    assert not ApiApp.objects.exists()


def test_only_an_operator_registers_an_app_live(account):
    with pytest.raises(ValidationError):
        api_app_register(actor=account.owner, account=account, name="A", live=True)
    assert api_app_register(actor=None, account=account, name="A", live=True).mode == ApiAppMode.LIVE


def test_another_owner_cannot_manage_the_app(account, other_owner):
    app = ApiAppFactory(account=account)
    with pytest.raises(ValidationError):
        api_app_update(actor=other_owner, api_app=app, name="Mine", allowed_ips=[], allowed_commands=[])
    with pytest.raises(ValidationError):
        api_app_revoke(actor=other_owner, api_app=app)
    app.refresh_from_db()
    assert app.revoked_at is None


def test_an_edit_is_recorded_from_what_to_what(account):
    app = ApiAppFactory(account=account, name="Old")
    api_app_update(actor=account.owner, api_app=app, name="New", allowed_ips=["203.0.113.1"], allowed_commands=[])
    change = ApiAppChange.objects.get(api_app=app, action="edited")
    assert (change.from_values["name"], change.to_values["name"]) == ("Old", "New")
    assert change.to_values["allowed_ips"] == ["203.0.113.1/32"]


def test_a_revoked_app_cannot_be_edited_or_revoked_again(account):
    app = ApiAppFactory(account=account)
    api_app_revoke(actor=account.owner, api_app=app)
    with pytest.raises(ValidationError):
        api_app_revoke(actor=account.owner, api_app=app)
    with pytest.raises(ValidationError):
        api_app_update(actor=account.owner, api_app=app, name="X", allowed_ips=[], allowed_commands=[])


# --- pages -------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    if user is not None:
        client.force_login(user)
    return client


def test_the_credentials_page_lists_the_accounts_apps_only(account, other_account):
    mine = ApiAppFactory(account=account, name="Mine")
    theirs = ApiAppFactory(account=other_account, name="Theirs")
    page = _client(account.owner).get("/settings/api/").content.decode()
    assert mine.app_id in page
    assert theirs.app_id not in page
    assert 'id="api-app-register"' in page
    assert "<title>API credentials · Kartra Integrations</title>" in page


def test_the_owner_registers_an_app_from_the_credentials_page(account):
    response = _client(account.owner).post(
        "/settings/api/apps/",
        {"name": "WP Fusion", "allowed_ips": "203.0.113.7\n2001:db8::/48", "allowed_commands": ["assign_tag"]},
    )
    app = ApiApp.objects.get(account=account)
    assert response.status_code == 302
    assert response["Location"] == f"/settings/api/apps/{app.pk}/"
    assert (app.allowed_ips, app.allowed_commands) == (["203.0.113.7/32", "2001:db8::/48"], ["assign_tag"])


def test_a_bad_ip_on_the_page_is_a_400_with_the_message_on_its_field(account):
    response = _client(account.owner).post("/settings/api/apps/", {"name": "A", "allowed_ips": "999.1.1.1"})
    assert response.status_code == 400
    assert "is not an IP address or network" in response.content.decode()
    assert not ApiApp.objects.exists()


def test_registering_needs_the_csrf_token(account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(account.owner)
    assert client.post("/settings/api/apps/", {"name": "A"}).status_code == 403


@pytest.mark.parametrize("role", ["other_owner", "moderator", "support_agent"])
def test_nobody_but_the_owner_sees_or_changes_the_app(request, account, role):
    app = ApiAppFactory(account=account)
    client = _client(request.getfixturevalue(role))
    assert client.get(f"/settings/api/apps/{app.pk}/").status_code in (403, 404)
    assert client.post(f"/settings/api/apps/{app.pk}/revoke/").status_code in (403, 404)
    app.refresh_from_db()
    assert app.revoked_at is None


def test_an_anonymous_visitor_is_sent_to_log_in(account):
    app = ApiAppFactory(account=account)
    response = Client().get(f"/settings/api/apps/{app.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_owner_edits_revokes_and_asks_to_go_live_from_the_app_page(account):
    app = ApiAppFactory(account=account)
    client = _client(account.owner)
    page = client.get(f"/settings/api/apps/{app.pk}/").content.decode()
    assert app.app_id in page and "Test mode" in page
    client.post(f"/settings/api/apps/{app.pk}/", {"name": "Renamed", "allowed_ips": ""})
    client.post(f"/settings/api/apps/{app.pk}/go-live/", {"stated_use": STATED_USE})
    go_live = ActivationRequest.objects.get(api_app=app)
    assert go_live.kind == RequestKind.API_APP_GO_LIVE
    assert "Pending" in client.get(f"/settings/api/apps/{app.pk}/").content.decode()
    client.post(f"/settings/api/apps/{app.pk}/revoke/")
    app.refresh_from_db()
    assert app.name == "Renamed"
    assert app.revoked_at is not None


def test_a_short_go_live_reason_is_a_400_on_its_field(account):
    app = ApiAppFactory(account=account)
    response = _client(account.owner).post(f"/settings/api/apps/{app.pk}/go-live/", {"stated_use": "pls"})
    assert response.status_code == 400
    assert "at least 20 characters" in response.content.decode()


# --- create_api_app ------------------------------------------------------------------------------


def _run(*args) -> dict:
    out = StringIO()
    call_command("create_api_app", *args, stdout=out)
    return json.loads(out.getvalue())


def test_create_api_app_prints_one_json_object_with_a_working_app_id(account):
    printed = _run("--account", str(account.pk), "--name", "Operator app")
    assert printed["mode"] == "test"
    response = Client().post(
        "/api",
        {
            "app_id": printed["app_id"],
            "api_key": account.issued.api_key,
            "api_password": account.issued.api_password,
            "actions[0][cmd]": "retrieve_account_tags",
        },
    )
    assert response.json()["status"] == "Success"


def test_create_api_app_live(account):
    assert _run("--account", str(account.pk), "--name", "A", "--live")["mode"] == "live"


@pytest.mark.parametrize(
    "args",
    [
        ["--account", "999999", "--name", "A"],
        ["--name", " ", "--account"],
        ["--allowed-ip", "nope", "--name", "A", "--account"],
    ],
)
def test_create_api_app_refuses_bad_arguments_cleanly(account, args):
    if args[-1] == "--account":
        args = [*args, str(account.pk)]
    with pytest.raises(CommandError):
        _run(*args)
