"""One way for lead services to own a transaction (leads.services.transactions), side effects after
commit through Django's public on_commit, and one rule for a new lead's GDPR status."""

import contextlib

import pytest
from django.db import transaction

from leads.models import GdprStatus, Lead
from leads.services import lead_create, leads_import, new_lead_gdpr_status
from leads.services.transactions import lead_on_commit, lead_transaction

pytestmark = pytest.mark.django_db


def test_a_callback_asked_for_once_runs_once_per_commit(django_capture_on_commit_callbacks):
    ran = []

    def note():
        ran.append(True)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(3):
            lead_on_commit(note, once=True)
    assert ran == [True]


def test_a_rolled_back_transaction_does_not_swallow_the_next_ones_callback(django_capture_on_commit_callbacks):
    ran = []

    def note():
        ran.append(True)

    with contextlib.suppress(RuntimeError), transaction.atomic():
        lead_on_commit(note, once=True)
        raise RuntimeError("rolled back")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lead_on_commit(note, once=True)
    assert ran == [True]


def test_each_commit_runs_its_own_once_callback(django_capture_on_commit_callbacks):
    ran = []

    def note():
        ran.append(True)

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            lead_on_commit(note, once=True)
    assert ran == [True, True]


def test_a_durable_lead_transaction_refuses_to_run_nested():
    @lead_transaction(durable=True)
    def entry_point():
        return "ran"

    with pytest.raises(RuntimeError), transaction.atomic(durable=False):
        entry_point()


@pytest.mark.parametrize("gdpr_enabled", [True, False])
def test_api_and_import_leads_start_with_the_one_gdpr_rule(account, gdpr_enabled):
    account.gdpr_enabled = gdpr_enabled
    account.save(update_fields=["gdpr_enabled"])
    expected = GdprStatus.UNKNOWN if gdpr_enabled else GdprStatus.OFF
    assert new_lead_gdpr_status(account=account) == expected
    assert lead_create(account=account, email="api@example.com").gdpr_status == expected
    leads_import(account=account, rows=[(2, {"email": "import@example.com"})])
    assert Lead.objects.get(account=account, email="import@example.com").gdpr_status == expected
