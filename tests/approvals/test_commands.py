import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import Account, Role, User
from approvals.models import AuditAction, AuditEntry, RequestState
from leads.models import Tag
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def me(api_key: str, api_password: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(api_key, api_password))
    return client.get("/api/v1/me").status_code


def test_create_account_prints_one_json_object_with_credentials():
    output = run("create_account", "--email", "new@example.com", "--name", "New Biz", "--password", "s3cret-pass")
    printed = json.loads(output)
    assert set(printed) == {
        "account_id",
        "api_key",
        "api_password",
        "platform_api_key",
        "platform_api_password",
        "signing_secret",
    }
    assert printed["signing_secret"].startswith("whsec_")
    account = Account.objects.get(pk=printed["account_id"])
    assert (account.name, account.owner.email) == ("New Biz", "new@example.com")
    assert account.owner.check_password("s3cret-pass")


def test_create_account_without_approval_is_refused_by_the_api():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "New Biz"))
    assert me(printed["api_key"], printed["api_password"]) == 403


def test_create_account_zapier_approved_opens_the_api_with_printed_credentials():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "New Biz", "--zapier-approved"))
    assert me(printed["api_key"], printed["api_password"]) == 200


def test_create_account_zapier_approved_is_an_operator_approval_in_the_audit_trail():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "New Biz", "--zapier-approved"))
    entry = AuditEntry.objects.get(account_id=printed["account_id"])
    assert (entry.actor, entry.action, entry.to_state) == (None, AuditAction.OPERATOR_APPROVED, RequestState.APPROVED)


def test_create_account_without_password_owner_cannot_log_in():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "New Biz"))
    assert not Account.objects.get(pk=printed["account_id"]).owner.has_usable_password()


def test_create_account_refuses_an_existing_email(owner):
    with pytest.raises(CommandError, match="exists already"):
        run("create_account", "--email", owner.email.upper(), "--name", "Again")


def test_create_account_refuses_an_invalid_email():
    with pytest.raises(CommandError, match="not a valid email"):
        run("create_account", "--email", "not-an-email", "--name", "Biz")
    assert not User.objects.exists()


def test_create_account_demo_data_gives_the_standard_assets():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "Biz", "--demo-data"))
    account = Account.objects.get(pk=printed["account_id"])
    assert set(Tag.objects.filter(account=account).values_list("name", flat=True)) == {"Customer", "VIP"}


@pytest.mark.parametrize("role", ["moderator", "support"])
def test_create_staff_creates_a_user_with_the_role(role):
    printed = json.loads(
        run("create_staff", "--email", f"{role}@corp.example", "--role", role, "--password", "pw-12345")
    )
    user = User.objects.get(pk=printed["user_id"])
    assert (user.role, printed["role"]) == (role, role)
    assert user.check_password("pw-12345")
    assert not Account.objects.filter(owner=user).exists()


def test_create_staff_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        run("create_staff", "--email", "x@example.com", "--role", "admin")
    assert not User.objects.exists()


def test_load_demo_data_creates_the_four_demo_users_through_the_review():
    output = run("load_demo_data")
    roles = dict(User.objects.values_list("email", "role"))
    assert roles == {
        "owner.approved@example.com": Role.CUSTOMER,
        "owner.pending@example.com": Role.CUSTOMER,
        "moderator@example.com": Role.MODERATOR,
        "support@example.com": Role.SUPPORT,
    }
    approved = Account.objects.get(owner__email="owner.approved@example.com")
    assert approved.zapier_activated
    actions = list(AuditEntry.objects.filter(account=approved).values_list("action", "actor__email"))
    assert actions == [
        (AuditAction.SUBMITTED, "owner.approved@example.com"),
        (AuditAction.CLAIMED, "moderator@example.com"),
        (AuditAction.DECIDED, "moderator@example.com"),
    ]
    pending = Account.objects.get(owner__email="owner.pending@example.com")
    assert pending.activation_requests.get().state == RequestState.PENDING
    for email in roles:
        assert email in output
    assert User.objects.get(email="moderator@example.com").check_password("kartra-demo")


def test_load_demo_data_is_idempotent_and_prints_a_fresh_working_api_pair():
    first = run("load_demo_data")
    second = run("load_demo_data")

    assert User.objects.count() == 4
    assert AuditEntry.objects.count() == 4  # approved: submitted, claimed, decided; pending: submitted

    def pair(output):
        lines = dict(line.strip().split(":", 1) for line in output.splitlines() if line.strip().startswith("API "))
        return lines["API key"].strip(), lines["API password"].strip()

    assert me(*pair(first)) == 401
    assert me(*pair(second)) == 200
