"""The moderators' activation policy. Accounts meeting it are activated at once (audited,
naming the policy); the others request review as before. Default: every account requests review."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import Account
from approvals.models import ActivationPolicy, ActivationPolicyChange, AuditAction, AuditEntry, RequestState
from approvals.selectors import activation_policy_evaluate, activation_policy_get
from approvals.services import (
    account_revoke,
    activation_policy_update,
    request_claim,
    request_decide,
    request_submit,
)
from kartra_integrations.errors import ApplicationError
from tests.approvals.conftest import STATED_USE
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

POLICY_ON = {"enabled": True, "min_account_age_days": 30, "require_clean_history": True}


def _aged(account, days: int):
    Account.objects.filter(pk=account.pk).update(created_at=timezone.now() - timedelta(days=days))
    account.refresh_from_db()
    return account


def _submit(account):
    return request_submit(actor=account.owner, account=account, stated_use=STATED_USE)


def _reject(account, moderator):
    activation_request = request_claim(actor=moderator, activation_request=_submit(account))
    request_decide(actor=moderator, activation_request=activation_request, outcome="rejected", reason="use_unclear")


@pytest.fixture
def policy_on(moderator):
    return activation_policy_update(actor=moderator, **POLICY_ON)


# --- evaluation and the request service --------------------------------------------------------------


def test_default_policy_is_off_and_every_account_requests_review(pending_account):
    _aged(pending_account, 400)
    assert activation_policy_get().values() == {
        "enabled": False,
        "min_account_age_days": 30,
        "require_clean_history": True,
    }
    assert _submit(pending_account).state == RequestState.PENDING
    pending_account.refresh_from_db()
    assert not pending_account.zapier_activated


def test_account_meeting_the_policy_is_activated_at_once_with_an_audit_row_naming_it(policy_on, pending_account):
    _aged(pending_account, 45)
    activation_request = _submit(pending_account)

    assert (activation_request.state, activation_request.decision_reason) == (
        RequestState.APPROVED,
        "activation_policy",
    )
    assert api_client_for(pending_account).get("/api/v1/me").status_code == 200
    entry = AuditEntry.objects.get(activation_request=activation_request)
    assert (entry.actor, entry.action, entry.to_state) == (
        pending_account.owner,
        AuditAction.POLICY_APPROVED,
        RequestState.APPROVED,
    )
    assert "enabled=True, min_account_age_days=30, require_clean_history=True" in entry.note
    assert "account at least 30 days old: 45 days" in entry.note


def test_policy_activation_emails_the_owner_after_commit(
    policy_on, pending_account, django_capture_on_commit_callbacks
):
    _aged(pending_account, 45)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(pending_account)
    assert [(m.subject, m.to) for m in mail.outbox] == [("Zapier access is activated", [pending_account.owner.email])]


def test_account_younger_than_the_policy_requests_review_as_today(policy_on, pending_account):
    _aged(pending_account, 29)
    assert _submit(pending_account).state == RequestState.PENDING
    assert AuditEntry.objects.get(account=pending_account).action == AuditAction.SUBMITTED


def test_account_with_an_earlier_rejection_requests_review(policy_on, pending_account, moderator):
    _reject(pending_account, moderator)
    _aged(pending_account, 45)
    assert _submit(pending_account).state == RequestState.PENDING


def test_account_with_an_earlier_revocation_requests_review(policy_on, account, moderator):
    _aged(account, 45)
    account_revoke(actor=moderator, account=account, reason="abuse_reported")
    account.refresh_from_db()
    assert _submit(account).state == RequestState.PENDING


def test_without_the_clean_history_criterion_an_earlier_rejection_does_not_count(moderator, pending_account):
    _reject(pending_account, moderator)
    activation_policy_update(actor=moderator, enabled=True, min_account_age_days=0, require_clean_history=False)
    assert _submit(pending_account).state == RequestState.APPROVED


def test_evaluation_lists_each_criterion_with_what_the_account_has(policy_on, pending_account, moderator):
    _reject(pending_account, moderator)
    _aged(pending_account, 10)
    evaluation = activation_policy_evaluate(account=pending_account)
    assert not evaluation.holds
    assert [(check.label, check.passed, check.detail) for check in evaluation.checks] == [
        ("account at least 30 days old", False, "10 days"),
        ("no earlier rejection or revocation", False, "1 rejected, 0 revoked"),
    ]


def test_a_policy_that_is_off_never_holds_even_when_every_criterion_is_met(pending_account):
    _aged(pending_account, 400)
    evaluation = activation_policy_evaluate(account=pending_account)
    assert all(check.passed for check in evaluation.checks) and not evaluation.holds


def test_moderators_cannot_pick_the_policy_as_their_decision_reason(submitted, moderator):
    in_review = request_claim(actor=moderator, activation_request=submitted)
    with pytest.raises(ApplicationError) as refused:
        request_decide(actor=moderator, activation_request=in_review, outcome="approved", reason="activation_policy")
    assert refused.value.fields == {"reason": ["Unknown reason."]}


# --- changing the policy ---------------------------------------------------------------------------


def test_policy_change_records_who_when_from_and_to(moderator):
    policy = activation_policy_update(actor=moderator, **POLICY_ON)
    change = ActivationPolicyChange.objects.get()
    assert change.actor == moderator
    assert change.from_values == {"enabled": False, "min_account_age_days": 30, "require_clean_history": True}
    assert change.to_values == POLICY_ON
    assert (policy.updated_by, policy.updated_at) == (moderator, change.changed_at)


def test_saving_the_same_values_records_no_change(policy_on, moderator):
    activation_policy_update(actor=moderator, **POLICY_ON)
    assert ActivationPolicyChange.objects.count() == 1


@pytest.mark.parametrize("role", ["support_agent", "owner"])
def test_only_moderators_change_the_policy(request, role):
    with pytest.raises(ApplicationError) as refused:
        activation_policy_update(actor=request.getfixturevalue(role), **POLICY_ON)
    assert refused.value.code == "forbidden"
    assert not activation_policy_get().enabled
    assert not ActivationPolicyChange.objects.exists()


def test_a_negative_account_age_is_refused_on_its_field(moderator):
    with pytest.raises(ApplicationError) as refused:
        activation_policy_update(actor=moderator, enabled=True, min_account_age_days=-1, require_clean_history=True)
    assert list(refused.value.fields) == ["min_account_age_days"]


def test_the_database_holds_a_single_policy_row(policy_on):
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivationPolicy.objects.create(id=2)


def test_policy_changes_cannot_be_edited(policy_on):
    change = ActivationPolicyChange.objects.get()
    with pytest.raises(ValueError, match="append-only"):
        change.save()


# --- the page ----------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM_ON = {"enabled": "on", "min_account_age_days": "60", "require_clean_history": "on"}


@pytest.mark.parametrize(
    ("role", "get_status", "post_status"),
    [("owner", 403, 403), ("other_owner", 403, 403), ("support_agent", 403, 403), ("moderator", 200, 302)],
)
def test_policy_page_permission_matrix(request, role, get_status, post_status):
    client = _client(request.getfixturevalue(role))
    assert client.get("/moderation/policy/").status_code == get_status
    assert client.post("/moderation/policy/", FORM_ON).status_code == post_status
    assert activation_policy_get().enabled == (role == "moderator")


def test_anonymous_visitors_are_sent_to_log_in_from_the_policy_page(client):
    response = client.get("/moderation/policy/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_moderator_changes_the_policy_and_sees_the_change_listed(moderator):
    response = _client(moderator).post("/moderation/policy/", FORM_ON, follow=True)
    page = response.content.decode()
    assert "Activation policy saved." in page
    assert "min_account_age_days=60" in page and moderator.email in page
    assert activation_policy_get().values() == {
        "enabled": True,
        "min_account_age_days": 60,
        "require_clean_history": True,
    }


def test_policy_form_with_a_bad_age_is_a_400_with_the_field_error(moderator):
    response = _client(moderator).post("/moderation/policy/", {**FORM_ON, "min_account_age_days": "-5"})
    assert response.status_code == 400
    assert response.context["form"].errors["min_account_age_days"]
    assert not ActivationPolicyChange.objects.exists()


def test_owner_meeting_the_policy_is_told_access_is_active_at_once(policy_on, pending_account):
    _aged(pending_account, 45)
    response = _client(pending_account.owner).post("/integrations/request/", {"stated_use": STATED_USE}, follow=True)
    assert "Zapier access is activated for your account: no review was needed." in response.content.decode()
