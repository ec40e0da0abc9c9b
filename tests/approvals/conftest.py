import pytest

from approvals.services import request_claim, request_decide, request_submit

STATED_USE = "We will send new webinar registrants from Zoom into Kartra and tag them as prospects."


@pytest.fixture
def submitted(pending_account):
    """A pending request of `pending_account`."""
    return request_submit(actor=pending_account.owner, account=pending_account, stated_use=STATED_USE)


@pytest.fixture
def in_review(submitted, moderator):
    return request_claim(actor=moderator, activation_request=submitted)


@pytest.fixture
def needs_info(in_review, moderator):
    return request_decide(
        actor=moderator,
        activation_request=in_review,
        outcome="needs_info",
        reason="use_unclear",
        note="Which Zaps will you build?",
    )
