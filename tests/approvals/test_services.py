import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from approvals.models import ActivationRequest, AuditAction, AuditEntry, RequestState
from approvals.selectors import request_queue_position
from approvals.services import (
    account_approve_by_operator,
    account_revoke,
    request_answer,
    request_claim,
    request_decide,
    request_submit,
    request_withdraw,
    support_note_add,
)
from kartra_integrations.errors import ApplicationError
from tests.accounts.factories import ModeratorFactory
from tests.approvals.conftest import STATED_USE
from tests.approvals.factories import ActivationRequestFactory
from tests.conftest import api_client_for
from tests.zaphooks.factories import SubscriptionFactory
from zaphooks.models import SubscriptionState

pytestmark = pytest.mark.django_db


def last_audit(activation_request):
    return AuditEntry.objects.filter(activation_request=activation_request).latest("created_at", "id")


# --- submit ---------------------------------------------------------------------------------------


def test_submit_creates_a_pending_request_due_one_business_day_later(pending_account):
    activation_request = request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)
    assert activation_request.state == RequestState.PENDING
    assert activation_request.due_at > activation_request.submitted_at
    entry = last_audit(activation_request)
    assert (entry.actor, entry.action, entry.from_state, entry.to_state) == (
        pending_account.owner,
        AuditAction.SUBMITTED,
        "",
        RequestState.PENDING,
    )


def test_submit_requires_a_stated_use_of_a_few_sentences(pending_account):
    with pytest.raises(ApplicationError) as error:
        request_submit(actor=pending_account.owner, account=pending_account, stated_use="  zaps ")
    assert "stated_use" in error.value.fields
    assert not ActivationRequest.objects.exists()


def test_submit_refuses_a_second_open_request(submitted, pending_account):
    with pytest.raises(ApplicationError) as error:
        request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)
    assert error.value.code == "open_request_exists"


def test_submit_by_someone_else_than_the_owner_is_forbidden(pending_account, other_owner):
    with pytest.raises(ApplicationError) as error:
        request_submit(actor=other_owner, account=pending_account, stated_use=STATED_USE)
    assert error.value.code == "forbidden"


def test_submit_for_an_activated_account_is_refused(account):
    with pytest.raises(ApplicationError) as error:
        request_submit(actor=account.owner, account=account, stated_use=STATED_USE)
    assert error.value.code == "already_activated"


def test_database_refuses_two_open_requests_for_one_account(pending_account):
    ActivationRequestFactory(account=pending_account, state=RequestState.NEEDS_INFO)
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivationRequestFactory(account=pending_account, state=RequestState.PENDING)


def test_database_allows_closed_requests_beside_an_open_one(pending_account):
    for state in (RequestState.REJECTED, RequestState.WITHDRAWN, RequestState.REJECTED):
        ActivationRequestFactory(account=pending_account, state=state)
    ActivationRequestFactory(account=pending_account, state=RequestState.PENDING)
    assert ActivationRequest.objects.filter(account=pending_account).count() == 4


def test_rejected_account_may_ask_again(in_review, moderator, pending_account):
    request_decide(actor=moderator, activation_request=in_review, outcome="rejected", reason="use_not_allowed")
    again = request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)
    assert again.state == RequestState.PENDING


def test_withdrawn_account_may_ask_again(submitted, pending_account):
    request_withdraw(actor=pending_account.owner, activation_request=submitted)
    again = request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)
    assert again.pk != submitted.pk


# --- withdraw -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["submitted", "in_review", "needs_info"])
def test_owner_withdraws_an_open_request(request, fixture, pending_account):
    activation_request = request.getfixturevalue(fixture)
    from_state = activation_request.state
    withdrawn = request_withdraw(actor=pending_account.owner, activation_request=activation_request)
    assert withdrawn.state == RequestState.WITHDRAWN
    entry = last_audit(withdrawn)
    assert (entry.from_state, entry.to_state, entry.action) == (
        from_state,
        RequestState.WITHDRAWN,
        AuditAction.WITHDRAWN,
    )


def test_withdraw_of_a_decided_request_is_refused(in_review, moderator, pending_account):
    request_decide(actor=moderator, activation_request=in_review, outcome="approved", reason="use_clear")
    with pytest.raises(ApplicationError) as error:
        request_withdraw(actor=pending_account.owner, activation_request=in_review)
    assert error.value.code == "invalid_transition"


def test_withdraw_by_another_owner_is_forbidden(submitted, other_owner):
    with pytest.raises(ApplicationError) as error:
        request_withdraw(actor=other_owner, activation_request=submitted)
    assert error.value.code == "forbidden"


# --- claim ----------------------------------------------------------------------------------------


def test_claim_puts_the_request_in_review_assigned_and_stamped(submitted, moderator):
    claimed = request_claim(actor=moderator, activation_request=submitted)
    claimed.refresh_from_db()
    assert claimed.state == RequestState.IN_REVIEW
    assert claimed.assigned_to == moderator
    assert claimed.review_started_at is not None
    entry = last_audit(claimed)
    assert (entry.actor, entry.action, entry.from_state, entry.to_state) == (
        moderator,
        AuditAction.CLAIMED,
        RequestState.PENDING,
        RequestState.IN_REVIEW,
    )


def test_second_claim_tells_who_claimed_it_first(in_review, moderator):
    other = ModeratorFactory()
    with pytest.raises(ApplicationError) as error:
        request_claim(actor=other, activation_request=in_review)
    assert error.value.code == "already_claimed"
    assert moderator.email in error.value.message


@pytest.mark.parametrize("role", ["support_agent", "owner"])
def test_claim_by_non_moderator_is_forbidden(request, role, submitted):
    with pytest.raises(ApplicationError) as error:
        request_claim(actor=request.getfixturevalue(role), activation_request=submitted)
    assert error.value.code == "forbidden"


def test_claim_of_a_withdrawn_request_is_refused(submitted, moderator, pending_account):
    request_withdraw(actor=pending_account.owner, activation_request=submitted)
    with pytest.raises(ApplicationError) as error:
        request_claim(actor=moderator, activation_request=submitted)
    assert error.value.code == "invalid_transition"


# --- decide ---------------------------------------------------------------------------------------


def test_approve_activates_the_account_for_the_api(in_review, moderator, pending_account):
    assert api_client_for(pending_account).get("/api/v1/me").status_code == 403
    approved = request_decide(actor=moderator, activation_request=in_review, outcome="approved", reason="use_clear")
    assert approved.state == RequestState.APPROVED
    assert approved.decided_at is not None
    pending_account.refresh_from_db()
    assert pending_account.zapier_activated
    assert api_client_for(pending_account).get("/api/v1/me").status_code == 200


def test_reject_keeps_the_account_inactive_and_records_the_reason(in_review, moderator, pending_account):
    rejected = request_decide(
        actor=moderator, activation_request=in_review, outcome="rejected", reason="account_too_new", note="Try later."
    )
    pending_account.refresh_from_db()
    assert not pending_account.zapier_activated
    entry = last_audit(rejected)
    assert (entry.to_state, entry.reason, entry.note) == (RequestState.REJECTED, "account_too_new", "Try later.")


def test_needs_info_asks_the_owner_and_is_not_a_final_decision(needs_info):
    assert needs_info.state == RequestState.NEEDS_INFO
    assert needs_info.decision_note == "Which Zaps will you build?"
    assert needs_info.decided_at is None


def test_needs_info_requires_a_note(in_review, moderator):
    with pytest.raises(ApplicationError) as error:
        request_decide(actor=moderator, activation_request=in_review, outcome="needs_info", reason="use_unclear")
    assert "note" in error.value.fields


def test_reason_other_requires_a_note(in_review, moderator):
    with pytest.raises(ApplicationError) as error:
        request_decide(actor=moderator, activation_request=in_review, outcome="rejected", reason="other", note=" ")
    assert "note" in error.value.fields
    in_review.refresh_from_db()
    assert in_review.state == RequestState.IN_REVIEW


def test_reason_must_come_from_the_list(in_review, moderator):
    with pytest.raises(ApplicationError) as error:
        request_decide(actor=moderator, activation_request=in_review, outcome="approved", reason="because")
    assert "reason" in error.value.fields


def test_only_the_assigned_moderator_decides(in_review):
    with pytest.raises(ApplicationError) as error:
        request_decide(actor=ModeratorFactory(), activation_request=in_review, outcome="approved", reason="use_clear")
    assert error.value.code == "not_assigned"


def test_deciding_a_pending_request_is_refused(submitted, moderator):
    with pytest.raises(ApplicationError) as error:
        request_decide(actor=moderator, activation_request=submitted, outcome="approved", reason="use_clear")
    assert error.value.code == "invalid_transition"


def test_deciding_twice_is_refused(in_review, moderator):
    request_decide(actor=moderator, activation_request=in_review, outcome="approved", reason="use_clear")
    with pytest.raises(ApplicationError) as error:
        request_decide(actor=moderator, activation_request=in_review, outcome="rejected", reason="use_unclear")
    assert error.value.code == "invalid_transition"


def test_support_agent_cannot_decide(in_review, support_agent):
    with pytest.raises(ApplicationError) as error:
        request_decide(actor=support_agent, activation_request=in_review, outcome="approved", reason="use_clear")
    assert error.value.code == "forbidden"


# --- answer ---------------------------------------------------------------------------------------


def test_owner_answer_returns_the_request_to_pending(needs_info, pending_account):
    answered = request_answer(actor=pending_account.owner, activation_request=needs_info, answer="Zoom to Kartra only.")
    assert answered.state == RequestState.PENDING
    assert answered.owner_answer == "Zoom to Kartra only."
    entry = last_audit(answered)
    assert (entry.from_state, entry.to_state, entry.note) == (
        RequestState.NEEDS_INFO,
        RequestState.PENDING,
        "Zoom to Kartra only.",
    )


def test_answered_request_keeps_its_place_by_original_submission(needs_info, pending_account):
    later = ActivationRequestFactory()
    answered = request_answer(actor=pending_account.owner, activation_request=needs_info, answer="Zoom to Kartra only.")
    assert request_queue_position(activation_request=answered) == 1
    assert request_queue_position(activation_request=later) == 2


def test_answering_a_request_that_did_not_ask_is_refused(submitted, pending_account):
    with pytest.raises(ApplicationError) as error:
        request_answer(actor=pending_account.owner, activation_request=submitted, answer="Hello")
    assert error.value.code == "invalid_transition"


def test_answer_by_another_owner_is_forbidden(needs_info, other_owner):
    with pytest.raises(ApplicationError) as error:
        request_answer(actor=other_owner, activation_request=needs_info, answer="Hello")
    assert error.value.code == "forbidden"


# --- revoke ---------------------------------------------------------------------------------------


def test_revoke_makes_the_api_answer_403_at_once(in_review, moderator, pending_account):
    request_decide(actor=moderator, activation_request=in_review, outcome="approved", reason="use_clear")
    client = api_client_for(pending_account)
    assert client.get("/api/v1/me").status_code == 200

    account_revoke(actor=moderator, account=pending_account, reason="abuse_reported", note="Spam complaints.")

    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["code"] == "zapier_not_activated"


def test_revoke_marks_the_approved_request_revoked_in_the_audit_trail(in_review, moderator, pending_account):
    request_decide(actor=moderator, activation_request=in_review, outcome="approved", reason="use_clear")
    account_revoke(actor=moderator, account=pending_account, reason="terms_violation")
    in_review.refresh_from_db()
    assert in_review.state == RequestState.REVOKED
    entry = last_audit(in_review)
    assert (entry.action, entry.from_state, entry.to_state, entry.reason) == (
        AuditAction.REVOKED,
        RequestState.APPROVED,
        RequestState.REVOKED,
        "terms_violation",
    )


def test_revoke_stops_the_accounts_hook_subscriptions(account, moderator):
    subscription = SubscriptionFactory(account=account)
    account_revoke(actor=moderator, account=account, reason="abuse_reported")
    subscription.refresh_from_db()
    assert subscription.state == SubscriptionState.DISABLED


def test_revoked_account_may_ask_again(account, moderator):
    account_revoke(actor=moderator, account=account, reason="owner_asked")
    again = request_submit(actor=account.owner, account=account, stated_use=STATED_USE)
    assert again.state == RequestState.PENDING


def test_revoking_an_inactive_account_is_refused(pending_account, moderator):
    with pytest.raises(ApplicationError) as error:
        account_revoke(actor=moderator, account=pending_account, reason="abuse_reported")
    assert error.value.code == "not_activated"


def test_revoke_reason_other_requires_a_note(account, moderator):
    with pytest.raises(ApplicationError) as error:
        account_revoke(actor=moderator, account=account, reason="other")
    assert "note" in error.value.fields


@pytest.mark.parametrize("role", ["support_agent", "owner"])
def test_revoke_by_non_moderator_is_forbidden(request, role, account):
    with pytest.raises(ApplicationError) as error:
        account_revoke(actor=request.getfixturevalue(role), account=account, reason="abuse_reported")
    assert error.value.code == "forbidden"
    account.refresh_from_db()
    assert account.zapier_activated


# --- operator approval, audit trail, support notes --------------------------------------------------


def test_operator_approval_is_audited_with_no_actor(pending_account):
    approved = account_approve_by_operator(account=pending_account)
    entry = last_audit(approved)
    assert entry.actor is None
    assert entry.actor_label == "operator"
    assert (entry.action, entry.to_state) == (AuditAction.OPERATOR_APPROVED, RequestState.APPROVED)
    assert api_client_for(pending_account).get("/api/v1/me").status_code == 200


def test_operator_approval_approves_the_open_request(submitted, pending_account):
    approved = account_approve_by_operator(account=pending_account)
    assert approved.pk == submitted.pk
    assert last_audit(approved).from_state == RequestState.PENDING


def test_audit_entries_cannot_be_changed_or_deleted(submitted):
    entry = last_audit(submitted)
    entry.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_support_note_is_advisory_and_changes_nothing(submitted, support_agent):
    note = support_note_add(actor=support_agent, activation_request=submitted, body="Long-time customer.")
    submitted.refresh_from_db()
    assert note.author == support_agent
    assert submitted.state == RequestState.PENDING


@pytest.mark.parametrize("role", ["moderator", "owner"])
def test_support_notes_come_only_from_support_agents(request, role, submitted):
    with pytest.raises(ApplicationError) as error:
        support_note_add(actor=request.getfixturevalue(role), activation_request=submitted, body="Hi")
    assert error.value.code == "forbidden"


# --- emails -----------------------------------------------------------------------------------------


def test_received_email_is_sent_only_after_commit(pending_account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)
        assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [[pending_account.owner.email]]
    assert "one business day" in mail.outbox[0].body


def test_failed_transition_sends_no_email(in_review, moderator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError):
        request_decide(actor=moderator, activation_request=in_review, outcome="rejected", reason="other")
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("outcome", "reason", "note", "subject"),
    [
        ("approved", "use_clear", "", "Zapier access is activated"),
        ("rejected", "use_not_allowed", "Reselling access.", "Your Zapier activation request was not approved"),
        ("needs_info", "use_unclear", "Which Zaps?", "Your Zapier activation request needs more information"),
    ],
)
def test_decision_emails_the_owner_after_commit(
    in_review, moderator, pending_account, django_capture_on_commit_callbacks, outcome, reason, note, subject
):
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(actor=moderator, activation_request=in_review, outcome=outcome, reason=reason, note=note)
    assert [(m.subject, m.to) for m in mail.outbox] == [(subject, [pending_account.owner.email])]
    assert note in mail.outbox[0].body
