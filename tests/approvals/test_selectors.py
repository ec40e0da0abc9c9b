from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import RequestState
from approvals.selectors import account_history, account_size, queue_figures, request_queue, request_queue_position
from approvals.services import account_revoke
from tests.accounts.factories import ActivatedAccountFactory, ModeratorFactory
from tests.approvals.factories import ActivationRequestFactory, SupportNoteFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def waiting(*, submitted, due=None, **fields):
    """A pending request submitted `submitted` ago, due a day later unless told."""
    submitted_at = ago(**submitted)
    return ActivationRequestFactory(submitted_at=submitted_at, due_at=due or submitted_at + timedelta(days=1), **fields)


def test_queue_is_first_in_first_out():
    newest = waiting(submitted={"hours": 1})
    oldest = waiting(submitted={"hours": 3})
    middle = waiting(submitted={"hours": 2})
    assert list(request_queue()) == [oldest, middle, newest]


def test_queue_puts_overdue_requests_first():
    in_review_earlier = waiting(submitted={"days": 5}, state=RequestState.IN_REVIEW, review_started_at=ago(days=4))
    fresh = waiting(submitted={"hours": 2})
    overdue = waiting(submitted={"hours": 1}, due=ago(minutes=5))
    queue = list(request_queue())
    assert queue == [overdue, in_review_earlier, fresh]
    assert [r.overdue for r in queue] == [True, False, False]


def test_queue_holds_only_open_requests_by_default():
    open_ones = [
        waiting(submitted={"hours": h}, state=s) for h, s in ((3, "pending"), (2, "in_review"), (1, "needs_info"))
    ]
    for state in ("approved", "rejected", "withdrawn", "revoked"):
        waiting(submitted={"hours": 4}, state=state)
    assert list(request_queue()) == open_ones


def test_queue_filters_by_state():
    waiting(submitted={"hours": 2})
    rejected = waiting(submitted={"hours": 1}, state=RequestState.REJECTED)
    assert list(request_queue(state=RequestState.REJECTED)) == [rejected]


def test_queue_filters_overdue():
    waiting(submitted={"hours": 2})
    overdue = waiting(submitted={"days": 2})
    assert list(request_queue(overdue=True)) == [overdue]


def test_queue_filters_assigned_to_me(moderator):
    mine = waiting(submitted={"hours": 2}, state=RequestState.IN_REVIEW, assigned_to=moderator)
    waiting(submitted={"hours": 3}, state=RequestState.IN_REVIEW, assigned_to=ModeratorFactory())
    waiting(submitted={"hours": 4})
    assert list(request_queue(assigned_to=moderator)) == [mine]


def test_queue_position_counts_pending_requests_ahead():
    first = waiting(submitted={"hours": 3})
    waiting(submitted={"hours": 2}, state=RequestState.IN_REVIEW)
    third = waiting(submitted={"hours": 1})
    assert request_queue_position(activation_request=first) == 1
    assert request_queue_position(activation_request=third) == 2


def test_queue_position_counts_overdue_requests_ahead_of_fresh_ones():
    overdue = waiting(submitted={"hours": 1}, due=ago(minutes=1))
    fresh = waiting(submitted={"hours": 2})
    assert request_queue_position(activation_request=overdue) == 1
    assert request_queue_position(activation_request=fresh) == 2


def test_queue_position_is_none_once_review_started():
    assert request_queue_position(activation_request=waiting(submitted={"hours": 1}, state="in_review")) is None


def test_figures_give_medians_and_share_started_within_sla():
    # Review started after 2h, 4h (both within SLA) and 30h (late); decided after 10h and 50h.
    waiting(submitted={"days": 3}, state="in_review", review_started_at=ago(days=3) + timedelta(hours=2))
    submitted = ago(days=4)
    ActivationRequestFactory(
        submitted_at=submitted,
        due_at=submitted + timedelta(days=1),
        state="approved",
        review_started_at=submitted + timedelta(hours=4),
        decided_at=submitted + timedelta(hours=10),
    )
    submitted = ago(days=5)
    ActivationRequestFactory(
        submitted_at=submitted,
        due_at=submitted + timedelta(days=1),
        state="rejected",
        review_started_at=submitted + timedelta(hours=30),
        decided_at=submitted + timedelta(hours=50),
    )
    figures = queue_figures()
    assert figures.median_to_review_start == timedelta(hours=4)
    assert figures.median_to_decision == timedelta(hours=30)
    assert figures.share_started_within_sla == pytest.approx(2 / 3)


def test_figures_count_a_request_still_waiting_past_due_as_missed():
    waiting(submitted={"days": 2}, state="in_review", review_started_at=ago(days=2) + timedelta(hours=1))
    waiting(submitted={"days": 2})  # due a day ago, not started
    waiting(submitted={"hours": 1})  # not due yet: not counted
    figures = queue_figures()
    assert (figures.sla_population, figures.share_started_within_sla) == (2, 0.5)


def test_figures_ignore_activity_older_than_30_days():
    submitted = ago(days=40)
    ActivationRequestFactory(
        submitted_at=submitted,
        due_at=submitted + timedelta(days=1),
        state="approved",
        review_started_at=submitted + timedelta(hours=1),
        decided_at=submitted + timedelta(hours=2),
    )
    figures = queue_figures()
    assert figures.median_to_review_start is None
    assert figures.median_to_decision is None
    assert figures.share_started_within_sla is None


def test_account_history_lists_earlier_requests_revocations_and_notes(moderator):
    account = ActivatedAccountFactory()
    earlier = waiting(submitted={"days": 9}, account=account, state=RequestState.APPROVED)
    account_revoke(actor=moderator, account=account, reason="abuse_reported")
    current = waiting(submitted={"hours": 1}, account=account)
    note = SupportNoteFactory(activation_request=earlier)

    history = account_history(account=account, current=current)

    assert history.earlier_requests == [earlier]
    assert [entry.reason for entry in history.revocations] == ["abuse_reported"]
    assert history.support_notes == [note]
    assert ("Activation requests", 2) in history.size
    assert history.age >= timedelta(0)


def test_account_size_counts_the_accounts_leads(account):
    LeadFactory.create_batch(3, account=account)
    LeadFactory(account=ActivatedAccountFactory())
    assert ("Leads", 3) in account_size(account=account)
