import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from approvals.models import ActivationRequest, AuditEntry, RequestState
from approvals.services import request_claim, request_claim_next
from kartra_integrations.errors import ApplicationError
from tests.accounts.factories import ModeratorFactory
from tests.approvals.factories import ActivationRequestFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_moderators_claiming_at_once_exactly_one_wins():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises all writes")
    activation_request = ActivationRequestFactory()
    moderators = [ModeratorFactory(), ModeratorFactory()]
    start = threading.Barrier(len(moderators))
    outcomes: dict[str, str] = {}

    def claim(moderator):
        try:
            start.wait()
            request_claim(actor=moderator, activation_request=activation_request)
            outcomes[moderator.email] = "won"
        except ApplicationError as error:
            outcomes[moderator.email] = error.code + ": " + error.message
        finally:
            connection.close()  # each thread used its own connection

    threads = [threading.Thread(target=claim, args=(m,)) for m in moderators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [email for email, outcome in outcomes.items() if outcome == "won"]
    losers = [outcome for outcome in outcomes.values() if outcome != "won"]
    assert len(winners) == 1
    assert losers == [f"already_claimed: This request was already claimed by {winners[0]}."]
    claimed = ActivationRequest.objects.get(pk=activation_request.pk)
    assert (claimed.state, claimed.assigned_to.email) == (RequestState.IN_REVIEW, winners[0])
    assert claimed.audit_entries.count() == 1


def _claim_next_at_once(moderators) -> dict[str, str]:
    """Each moderator presses "Claim next" at the same moment, on a connection of their own."""
    start = threading.Barrier(len(moderators))
    outcomes: dict[str, str] = {}

    def claim(moderator):
        try:
            start.wait()
            outcomes[moderator.email] = str(request_claim_next(actor=moderator).pk)
        except ApplicationError as error:
            outcomes[moderator.email] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(m,)) for m in moderators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_moderators_claiming_next_at_once_each_get_a_different_request_oldest_first():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL")
    now = timezone.now()
    waiting = [
        ActivationRequestFactory(submitted_at=now - timedelta(hours=hours), due_at=now + timedelta(hours=1))
        for hours in (5, 4, 3, 2)
    ]
    outcomes = _claim_next_at_once([ModeratorFactory() for _ in range(3)])

    claimed = sorted(int(pk) for pk in outcomes.values())
    assert claimed == sorted(r.pk for r in waiting[:3])  # the three oldest, one each
    assert ActivationRequest.objects.get(pk=waiting[3].pk).state == RequestState.PENDING
    assert AuditEntry.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_moderators_claiming_next_for_one_request_one_gets_it_the_other_an_empty_queue():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL")
    only = ActivationRequestFactory()
    outcomes = _claim_next_at_once([ModeratorFactory(), ModeratorFactory()])
    assert sorted(outcomes.values()) == sorted([str(only.pk), "queue_empty"])
    assert AuditEntry.objects.filter(activation_request=only).count() == 1
