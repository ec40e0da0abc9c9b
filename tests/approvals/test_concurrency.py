import threading

import pytest
from django.db import connection

from approvals.models import ActivationRequest, RequestState
from approvals.services import request_claim
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
