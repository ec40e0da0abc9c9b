import pytest

from leads.models import LeadEvent
from tests.leads.factories import LeadFactory


@pytest.fixture
def lead(account):
    return LeadFactory(account=account)


@pytest.fixture
def events():
    """The actions written so far, oldest first."""

    def actions(lead=None):
        rows = LeadEvent.objects.order_by("occurred_at")
        if lead is not None:
            rows = rows.filter(lead=lead)
        return list(rows.values_list("action", flat=True))

    return actions
