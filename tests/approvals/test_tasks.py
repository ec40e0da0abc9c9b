from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from approvals.models import ActivationRequest, RequestState
from approvals.tasks import activation_requests_mark_overdue
from tests.approvals.factories import ActivationRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue():
    return ActivationRequestFactory(
        submitted_at=timezone.now() - timedelta(days=2), due_at=timezone.now() - timedelta(days=1)
    )


def test_overdue_job_marks_each_request_once_and_emails_moderators_once(
    overdue, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert activation_requests_mark_overdue() == 1
    overdue.refresh_from_db()
    first_alert = overdue.overdue_alerted_at

    with django_capture_on_commit_callbacks(execute=True):
        assert activation_requests_mark_overdue() == 0

    overdue.refresh_from_db()
    assert first_alert is not None
    assert overdue.overdue_alerted_at == first_alert
    assert [m.to for m in mail.outbox] == [[moderator.email]]
    assert overdue.account.name in mail.outbox[0].body


def test_overdue_job_leaves_requests_not_yet_due_or_already_started(moderator, django_capture_on_commit_callbacks):
    ActivationRequestFactory()  # due tomorrow
    ActivationRequestFactory(
        submitted_at=timezone.now() - timedelta(days=3),
        due_at=timezone.now() - timedelta(days=2),
        state=RequestState.IN_REVIEW,
        review_started_at=timezone.now() - timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert activation_requests_mark_overdue() == 0
    assert not ActivationRequest.objects.filter(overdue_alerted_at__isnull=False).exists()
    assert mail.outbox == []


def test_overdue_job_is_scheduled_by_celery_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["approvals-mark-overdue"]
    assert schedule["task"] == "approvals.tasks.activation_requests_mark_overdue"
