"""The one table of GDPR status moves (leads.models.GDPR_TRANSITIONS) and the setter that obeys it."""

import pytest

from leads.models import GdprEvidence, GdprStatus, gdpr_transition_allowed
from leads.services import lead_gdpr_status_set
from tests.leads.factories import LeadFactory

CLEARED = [GdprStatus.NOT_SUBJECT, GdprStatus.ACCEPTED]
UNDECIDED = [GdprStatus.UNKNOWN, GdprStatus.OFF, GdprStatus.PENDING]


@pytest.mark.parametrize("new", CLEARED)
@pytest.mark.parametrize("via", [GdprEvidence.VISIT, GdprEvidence.WITHDRAWAL])
def test_unconfirmed_evidence_never_clears_a_lead_that_is_not_accepted(via, new):
    assert not gdpr_transition_allowed(current=GdprStatus.NOT_ACCEPTED, new=new, via=via)


@pytest.mark.parametrize("new", CLEARED)
def test_a_confirmed_visit_may_lift_the_leads_own_refusal(new):
    assert gdpr_transition_allowed(current=GdprStatus.NOT_ACCEPTED, new=new, via=GdprEvidence.CONFIRMED_VISIT)


@pytest.mark.parametrize("current", UNDECIDED)
@pytest.mark.parametrize("new", [*CLEARED, GdprStatus.NOT_ACCEPTED, GdprStatus.UNKNOWN])
def test_a_visit_settles_a_status_no_decision_was_recorded_for(current, new):
    assert gdpr_transition_allowed(current=current, new=new, via=GdprEvidence.VISIT)


@pytest.mark.parametrize("current", CLEARED)
@pytest.mark.parametrize("new", list(GdprStatus))
def test_a_visit_never_downgrades_or_relabels_a_cleared_lead(current, new):
    assert not gdpr_transition_allowed(current=current, new=new, via=GdprEvidence.VISIT)


def test_withdrawal_only_moves_accepted_to_not_accepted():
    allowed = {
        (current, new)
        for current in GdprStatus
        for new in GdprStatus
        if gdpr_transition_allowed(current=current, new=new, via=GdprEvidence.WITHDRAWAL)
    }
    assert allowed == {(GdprStatus.ACCEPTED, GdprStatus.NOT_ACCEPTED)}


@pytest.mark.parametrize("current", [s for s in GdprStatus if s != GdprStatus.ACCEPTED])
def test_confirmed_import_only_ever_accepts(current):
    targets = {new for new in GdprStatus if gdpr_transition_allowed(current=current, new=new, via="confirmed_import")}
    assert targets == {GdprStatus.ACCEPTED}


def test_status_set_leaves_the_status_when_the_move_is_not_allowed(account):
    lead = LeadFactory(account=account, gdpr_status=GdprStatus.NOT_ACCEPTED, gdpr_status_ip="88.198.0.1")
    changed = lead_gdpr_status_set(lead=lead, status=GdprStatus.NOT_SUBJECT, ip="8.8.8.8", via=GdprEvidence.VISIT)
    lead.refresh_from_db()
    assert not changed
    assert (lead.gdpr_status, lead.gdpr_status_ip) == (GdprStatus.NOT_ACCEPTED, "88.198.0.1")


def test_status_set_records_an_allowed_move(account):
    lead = LeadFactory(account=account, gdpr_status=GdprStatus.NOT_ACCEPTED)
    changed = lead_gdpr_status_set(
        lead=lead, status=GdprStatus.ACCEPTED, ip="88.198.0.1", via=GdprEvidence.CONFIRMED_VISIT
    )
    lead.refresh_from_db()
    assert changed
    assert (lead.gdpr_status, lead.gdpr_status_ip) == (GdprStatus.ACCEPTED, "88.198.0.1")
