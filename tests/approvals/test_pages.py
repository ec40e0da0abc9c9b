from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from approvals.models import ActivationRequest, RequestState, SupportNote
from approvals.services import request_claim, request_decide
from tests.accounts.factories import ModeratorFactory
from tests.approvals.conftest import STATED_USE
from tests.approvals.factories import ActivationRequestFactory
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

ROLES = ["owner", "other_owner", "support", "moderator", "anonymous"]


@pytest.fixture
def people(pending_account, other_owner, support_agent, moderator):
    """The permission matrix: `owner` owns the request under test (of `pending_account`)."""
    return {
        "owner": pending_account.owner,
        "other_owner": other_owner,
        "support": support_agent,
        "moderator": moderator,
        "anonymous": None,
    }


def client_as(people, role) -> Client:
    client = Client()
    if people[role] is not None:
        client.force_login(people[role])
    return client


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login/")


# --- the permission matrix: every page and form, every role -----------------------------------------

GET_MATRIX = {
    "integrations": ("/integrations/", {"owner": 200, "other_owner": 200, "support": 403, "moderator": 403}),
    "queue": ("/moderation/queue/", {"owner": 403, "other_owner": 403, "support": 200, "moderator": 200}),
    "detail": ("/moderation/requests/{pk}/", {"owner": 403, "other_owner": 403, "support": 200, "moderator": 200}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", GET_MATRIX)
def test_page_permission_matrix(people, submitted, page, role):
    path, expected = GET_MATRIX[page]
    response = client_as(people, role).get(path.format(pk=submitted.pk))
    if role == "anonymous":
        assert sent_to_login(response)
    else:
        assert response.status_code == expected[role]


# Expected status per role for each form; 302 means the action went through (redirect after POST).
POST_MATRIX = {
    "withdraw": (
        "/integrations/requests/{pk}/withdraw/",
        {},
        {"owner": 302, "other_owner": 404, "support": 403, "moderator": 403},
        RequestState.WITHDRAWN,
    ),
    "answer": (
        "/integrations/requests/{pk}/answer/",
        {"answer": "Only Zoom registrants."},
        {"owner": 302, "other_owner": 404, "support": 403, "moderator": 403},
        RequestState.PENDING,
    ),
    "claim": (
        "/moderation/requests/{pk}/claim/",
        {},
        {"owner": 403, "other_owner": 403, "support": 403, "moderator": 302},
        RequestState.IN_REVIEW,
    ),
    "decide": (
        "/moderation/requests/{pk}/decide/",
        {"outcome": "approved", "reason": "use_clear"},
        {"owner": 403, "other_owner": 403, "support": 403, "moderator": 302},
        RequestState.APPROVED,
    ),
    "note": (
        "/moderation/requests/{pk}/notes/",
        {"body": "Customer since 2019."},
        {"owner": 403, "other_owner": 403, "support": 302, "moderator": 403},
        None,
    ),
}
STARTING_STATE = {
    "withdraw": "pending",
    "answer": "needs_info",
    "claim": "pending",
    "decide": "in_review",
    "note": "pending",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", POST_MATRIX)
def test_form_permission_matrix(request, people, action, role):
    fixture = {"pending": "submitted", "in_review": "in_review", "needs_info": "needs_info"}[STARTING_STATE[action]]
    activation_request = request.getfixturevalue(fixture)
    path, data, expected, state_after = POST_MATRIX[action]

    response = client_as(people, role).post(path.format(pk=activation_request.pk), data)

    activation_request.refresh_from_db()
    if role == "anonymous":
        assert sent_to_login(response)
    else:
        assert response.status_code == expected[role]
    went_through = role != "anonymous" and expected[role] == 302
    if state_after is not None:
        assert (activation_request.state == state_after) == went_through
    else:
        assert SupportNote.objects.filter(activation_request=activation_request).exists() == went_through


@pytest.mark.parametrize("role", ROLES)
def test_revoke_permission_matrix(people, role, account):
    activation_request = ActivationRequestFactory(account=account, state=RequestState.APPROVED)
    response = client_as(people, role).post(
        f"/moderation/requests/{activation_request.pk}/revoke/", {"revoke-reason": "abuse_reported"}
    )
    account.refresh_from_db()
    if role == "anonymous":
        assert sent_to_login(response)
    else:
        assert response.status_code == (302 if role == "moderator" else 403)
    assert account.zapier_activated == (role != "moderator")


@pytest.mark.parametrize("role", ROLES)
def test_submit_permission_matrix(people, role):
    response = client_as(people, role).post("/integrations/request/", {"stated_use": STATED_USE})
    if role == "anonymous":
        assert sent_to_login(response)
        return
    # other_owner's account is activated already: a form error, nothing created.
    assert response.status_code == {"owner": 302, "other_owner": 400, "support": 403, "moderator": 403}[role]
    assert ActivationRequest.objects.count() == (1 if role == "owner" else 0)


# --- owners ---------------------------------------------------------------------------------------


def test_owner_requests_activation_and_sees_next_steps_and_place(client, pending_account):
    ActivationRequestFactory()  # somebody else is already waiting
    client.force_login(pending_account.owner)
    response = client.post("/integrations/request/", {"stated_use": STATED_USE}, follow=True)
    page = response.content.decode()
    assert "review starts within one business day; it can take up to two weeks" in page
    assert response.context["position"] == 2
    assert 'id="queue-place">2<' in page
    assert "Withdraw request" in page


def test_stated_use_is_required(client, pending_account):
    client.force_login(pending_account.owner)
    response = client.post("/integrations/request/", {"stated_use": ""})
    assert response.status_code == 400
    assert response.context["request_form"].errors["stated_use"]
    assert not ActivationRequest.objects.exists()


def test_second_open_request_gets_a_form_error(client, submitted, pending_account):
    client.force_login(pending_account.owner)
    response = client.post("/integrations/request/", {"stated_use": STATED_USE})
    assert response.status_code == 400
    assert "already has an open activation request" in response.content.decode()
    assert ActivationRequest.objects.filter(account=pending_account).count() == 1


def test_owner_sees_the_moderators_question_and_can_answer(client, needs_info, pending_account):
    client.force_login(pending_account.owner)
    page = client.get("/integrations/").content.decode()
    assert "Which Zaps will you build?" in page
    assert "Send answer" in page


def test_owner_page_offers_no_way_to_escalate(client, submitted, pending_account):
    client.force_login(pending_account.owner)
    page = client.get("/integrations/").content.decode().lower()
    assert "escalate" not in page.replace("nobody, support included, can speed up, escalate or reorder a review", "")


def test_owner_page_shows_only_their_own_requests(client, submitted, other_owner):
    client.force_login(other_owner)
    response = client.get("/integrations/")
    assert response.context["history"] == []
    assert submitted.stated_use not in response.content.decode()


def test_owner_sees_why_a_request_was_rejected(client, in_review, moderator, pending_account):
    request_decide(
        actor=moderator,
        activation_request=in_review,
        outcome="rejected",
        reason="account_too_new",
        note="Come back in a month.",
    )
    client.force_login(pending_account.owner)
    page = client.get("/integrations/").content.decode()
    assert "Account is too new" in page
    assert "Come back in a month." in page
    assert "Request Zapier activation" in page


# --- moderators and support -------------------------------------------------------------------------


def test_queue_shows_overdue_requests_first(client, moderator):
    fresh = ActivationRequestFactory(submitted_at=timezone.now() - timedelta(hours=3))
    overdue = ActivationRequestFactory(
        submitted_at=timezone.now() - timedelta(hours=1), due_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(moderator)
    response = client.get("/moderation/queue/")
    assert list(response.context["requests"]) == [overdue, fresh]
    assert "Overdue" in response.content.decode()


def test_queue_filter_assigned_to_me(client, moderator, in_review):
    ActivationRequestFactory()
    client.force_login(moderator)
    response = client.get("/moderation/queue/", {"mine": "on"})
    assert list(response.context["requests"]) == [in_review]


def test_queue_filter_with_unknown_state_is_ignored_not_an_error(client, moderator, submitted):
    client.force_login(moderator)
    response = client.get("/moderation/queue/", {"state": "bogus"})
    assert response.status_code == 200
    assert list(response.context["requests"]) == [submitted]


def test_queue_shows_the_last_30_days_figures(client, moderator, in_review):
    client.force_login(moderator)
    page = client.get("/moderation/queue/").content.decode()
    assert "median time to start review" in page
    assert 'id="share-sla">100 %<' in page


def test_detail_shows_stated_use_history_and_audit_trail(client, moderator, in_review):
    client.force_login(moderator)
    response = client.get(f"/moderation/requests/{in_review.pk}/")
    page = response.content.decode()
    assert STATED_USE in page
    assert "Account history" in page
    assert [entry.action for entry in response.context["audit_trail"]] == ["submitted", "claimed"]
    assert "Record decision" in page


def test_support_sees_the_request_read_only(client, support_agent, submitted):
    client.force_login(support_agent)
    page = client.get(f"/moderation/requests/{submitted.pk}/").content.decode()
    assert "Claim and start review" not in page
    assert "Record decision" not in page
    assert "Add note" in page


def test_support_note_shows_on_the_request(client, support_agent, submitted):
    client.force_login(support_agent)
    response = client.post(f"/moderation/requests/{submitted.pk}/notes/", {"body": "Long-time customer."}, follow=True)
    assert "Long-time customer." in response.content.decode()


def test_second_moderator_claiming_sees_a_clear_message(client, in_review, moderator):
    client.force_login(ModeratorFactory())
    response = client.post(f"/moderation/requests/{in_review.pk}/claim/", follow=True)
    assert f"This request was already claimed by {moderator.email}." in response.content.decode()


def test_decide_other_without_note_is_a_form_error(client, in_review, moderator):
    client.force_login(moderator)
    response = client.post(f"/moderation/requests/{in_review.pk}/decide/", {"outcome": "rejected", "reason": "other"})
    assert response.status_code == 400
    assert response.context["decide_form"].errors["note"]
    in_review.refresh_from_db()
    assert in_review.state == RequestState.IN_REVIEW


def test_decide_with_unknown_reason_is_a_form_error(client, in_review, moderator):
    client.force_login(moderator)
    response = client.post(f"/moderation/requests/{in_review.pk}/decide/", {"outcome": "approved", "reason": "whim"})
    assert response.status_code == 400
    assert response.context["decide_form"].errors["reason"]


def test_revoke_from_the_request_page_stops_the_api(client, submitted, moderator, pending_account):
    approved = request_decide(
        actor=moderator,
        activation_request=request_claim(actor=moderator, activation_request=submitted),
        outcome="approved",
        reason="use_clear",
    )
    client.force_login(moderator)
    response = client.post(f"/moderation/requests/{approved.pk}/revoke/", {"revoke-reason": "terms_violation"})
    assert response.status_code == 302
    assert api_client_for(pending_account).get("/api/v1/me").status_code == 403


def test_unknown_request_is_404(client, moderator):
    client.force_login(moderator)
    assert client.get("/moderation/requests/999999/").status_code == 404


def test_forms_refuse_posts_without_csrf_token(moderator, submitted):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    assert client.post(f"/moderation/requests/{submitted.pk}/claim/").status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == RequestState.PENDING
