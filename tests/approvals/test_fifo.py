"""The queue is FIFO in fact, not only on screen. "Claim next" takes the head of the
queue; claiming another needs a reason that is audited; a review past two weeks shows and alerts once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from approvals.models import AuditAction, AuditEntry, RequestState
from approvals.services import request_claim, request_claim_next, requests_mark_past_review_limit
from approvals.tasks import activation_requests_mark_overdue
from kartra_integrations.errors import ApplicationError
from tests.approvals.factories import ActivationRequestFactory

pytestmark = pytest.mark.django_db

REASON = "The owner is a partner agency; legal asked us to review it today."


def _request(*, days_ago: float, **fields):
    submitted = timezone.now() - timedelta(days=days_ago)
    return ActivationRequestFactory(
        submitted_at=submitted, due_at=fields.pop("due_at", timezone.now() + timedelta(hours=1)), **fields
    )


# --- claim next --------------------------------------------------------------------------------------


def test_claim_next_takes_the_oldest_pending_request(moderator):
    _request(days_ago=0.1)
    oldest = _request(days_ago=0.3)
    _request(days_ago=0.2)
    claimed = request_claim_next(actor=moderator)
    assert claimed.pk == oldest.pk
    assert (claimed.state, claimed.assigned_to) == (RequestState.IN_REVIEW, moderator)
    entry = AuditEntry.objects.get(activation_request=oldest)
    assert (entry.actor, entry.action) == (moderator, AuditAction.CLAIMED)


def test_claim_next_takes_an_overdue_request_first_as_the_queue_shows(moderator):
    answered = _request(days_ago=0.5, review_started_at=timezone.now())  # back from needs_info: not overdue
    overdue = _request(days_ago=0.2, due_at=timezone.now() - timedelta(minutes=5))
    assert request_claim_next(actor=moderator).pk == overdue.pk
    assert request_claim_next(actor=moderator).pk == answered.pk


def test_claim_next_skips_requests_in_review_and_waiting_on_the_owner(moderator):
    _request(days_ago=0.5, state=RequestState.IN_REVIEW)
    _request(days_ago=0.4, state=RequestState.NEEDS_INFO)
    pending = _request(days_ago=0.1)
    assert request_claim_next(actor=moderator).pk == pending.pk


def test_claim_next_on_an_empty_queue_is_refused_with_a_message(moderator):
    with pytest.raises(ApplicationError) as refused:
        request_claim_next(actor=moderator)
    assert (refused.value.code, refused.value.status_code) == ("queue_empty", 409)


@pytest.mark.parametrize("role", ["support_agent", "owner"])
def test_claim_next_by_anyone_but_a_moderator_is_forbidden(request, role):
    waiting = _request(days_ago=0.1)
    with pytest.raises(ApplicationError) as refused:
        request_claim_next(actor=request.getfixturevalue(role))
    assert refused.value.code == "forbidden"
    waiting.refresh_from_db()
    assert waiting.state == RequestState.PENDING


# --- claiming a chosen request -------------------------------------------------------------------------


def test_claiming_the_head_of_the_queue_needs_no_reason(moderator):
    head = _request(days_ago=0.3)
    _request(days_ago=0.1)
    assert request_claim(actor=moderator, activation_request=head).state == RequestState.IN_REVIEW


def test_claiming_ahead_of_older_requests_without_a_reason_is_refused(moderator):
    _request(days_ago=0.3)
    _request(days_ago=0.2)
    newest = _request(days_ago=0.1)
    with pytest.raises(ApplicationError) as refused:
        request_claim(actor=moderator, activation_request=newest, out_of_order_reason="  ")
    assert refused.value.code == "out_of_order"
    assert "2 older requests are waiting" in refused.value.fields["out_of_order_reason"][0]
    newest.refresh_from_db()
    assert newest.state == RequestState.PENDING
    assert not AuditEntry.objects.exists()


def test_claiming_out_of_order_with_a_reason_is_audited(moderator):
    _request(days_ago=0.3)
    newest = _request(days_ago=0.1)
    request_claim(actor=moderator, activation_request=newest, out_of_order_reason=REASON)
    entry = AuditEntry.objects.get(activation_request=newest)
    assert (entry.actor, entry.action, entry.to_state) == (
        moderator,
        AuditAction.CLAIMED_OUT_OF_ORDER,
        RequestState.IN_REVIEW,
    )
    assert entry.note == f"Claimed ahead of 1 older request(s): {REASON}"


# --- reviews past two weeks -------------------------------------------------------------------------


def test_review_past_two_weeks_alerts_the_moderators_once(moderator, django_capture_on_commit_callbacks):
    stuck = _request(days_ago=15, state=RequestState.IN_REVIEW, assigned_to=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        assert requests_mark_past_review_limit() == [stuck.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert requests_mark_past_review_limit() == []
    stuck.refresh_from_db()
    assert stuck.past_limit_alerted_at is not None
    past_limit_mails = [m for m in mail.outbox if "past two weeks" in m.subject]
    assert [m.to for m in past_limit_mails] == [[moderator.email]]
    assert stuck.account.name in past_limit_mails[0].body


def test_beat_job_sends_the_two_weeks_alert_once(moderator, django_capture_on_commit_callbacks):
    _request(days_ago=15, review_started_at=timezone.now() - timedelta(days=14))
    with django_capture_on_commit_callbacks(execute=True):
        assert activation_requests_mark_overdue() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert activation_requests_mark_overdue() == 0
    assert len([m for m in mail.outbox if "past two weeks" in m.subject]) == 1


def test_two_weeks_alert_skips_younger_requests_and_those_waiting_on_the_owner_or_decided(
    moderator, django_capture_on_commit_callbacks
):
    _request(days_ago=13)
    _request(days_ago=20, state=RequestState.NEEDS_INFO)
    _request(days_ago=20, state=RequestState.APPROVED)
    with django_capture_on_commit_callbacks(execute=True):
        assert requests_mark_past_review_limit() == []
    assert mail.outbox == []


# --- pages ---------------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 403), ("other_owner", 403), ("support_agent", 403), ("moderator", 302)]
)
def test_claim_next_permission_matrix(request, role, status, pending_account):
    waiting = _request(days_ago=0.1)
    response = _client(request.getfixturevalue(role)).post("/moderation/queue/claim-next/")
    assert response.status_code == status
    waiting.refresh_from_db()
    assert (waiting.state == RequestState.IN_REVIEW) == (role == "moderator")


def test_anonymous_claim_next_is_sent_to_log_in(client):
    response = client.post("/moderation/queue/claim-next/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_claim_next_from_the_queue_opens_the_claimed_request(moderator):
    oldest = _request(days_ago=0.3)
    _request(days_ago=0.1)
    response = _client(moderator).post("/moderation/queue/claim-next/", follow=True)
    assert response.redirect_chain[-1][0] == f"/moderation/requests/{oldest.pk}/"
    assert "You claimed the next request" in response.content.decode()


def test_claim_next_on_an_empty_queue_says_so_on_the_queue(moderator):
    response = _client(moderator).post("/moderation/queue/claim-next/", follow=True)
    assert response.redirect_chain[-1][0] == "/moderation/queue/"
    assert "No request is waiting to be claimed" in response.content.decode()


def test_queue_offers_claim_next_to_moderators_only(moderator, support_agent):
    assert 'id="claim-next"' in _client(moderator).get("/moderation/queue/").content.decode()
    assert 'id="claim-next"' not in _client(support_agent).get("/moderation/queue/").content.decode()


def test_out_of_order_claim_from_the_page_without_a_reason_is_a_form_error(moderator):
    _request(days_ago=0.3)
    newest = _request(days_ago=0.1)
    client = _client(moderator)
    assert 'id="out-of-order"' in client.get(f"/moderation/requests/{newest.pk}/").content.decode()
    response = client.post(f"/moderation/requests/{newest.pk}/claim/", {"out_of_order_reason": ""})
    assert response.status_code == 400
    assert response.context["claim_form"].errors["out_of_order_reason"]
    newest.refresh_from_db()
    assert newest.state == RequestState.PENDING


def test_out_of_order_claim_from_the_page_with_a_reason_shows_in_the_audit_trail(moderator):
    _request(days_ago=0.3)
    newest = _request(days_ago=0.1)
    response = _client(moderator).post(
        f"/moderation/requests/{newest.pk}/claim/", {"out_of_order_reason": REASON}, follow=True
    )
    page = response.content.decode()
    assert "Claimed out of FIFO order" in page and REASON in page


def test_queue_shows_reviews_past_two_weeks(moderator):
    stuck = _request(days_ago=15, state=RequestState.IN_REVIEW, assigned_to=moderator)
    _request(days_ago=1)
    response = _client(moderator).get("/moderation/queue/")
    page = response.content.decode()
    assert 'id="past-limit-notice">1 request has been waiting' in page
    assert [item.pk for item in response.context["requests"] if item.past_limit] == [stuck.pk]
    assert "Over two weeks" in page
