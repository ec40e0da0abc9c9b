"""The sequence engine: due steps emailed through the one gate; held (suppressed by GDPR) until cleared."""

from datetime import timedelta
from itertools import product

import pytest
from django.core import mail
from django.utils import timezone

from leads.models import GdprEvidence, GdprStatus, Lead, SequenceSubscription, StepDelivery
from leads.selectors import lead_can_receive_email
from leads.services import lead_blacklist_set, lead_gdpr_status_set, lead_sequence_subscribe
from leads.services.sequence_engine import (
    _maybe_eligible,
    sequence_engine_run,
    sequence_subscription_step_process,
    step_delivery_send,
)
from leads.tasks import sequence_engine_run_task
from tests.leads.factories import LeadFactory, SequenceFactory

DAY = timedelta(days=1)


@pytest.fixture
def sequence(account):
    return SequenceFactory(account=account, steps=2)  # each step one day after the previous


def _subscribed(account, sequence, status=GdprStatus.ACCEPTED, **lead_fields):
    lead = LeadFactory(account=account, gdpr_status=status, **lead_fields)
    return lead, lead_sequence_subscribe(lead=lead, sequence=sequence)


def test_due_step_is_emailed_and_the_lead_moves_to_the_next_step(account, sequence):
    lead, subscription = _subscribed(account, sequence)
    now = timezone.now() + DAY

    run = sequence_engine_run(now=now)

    assert (run.queued, run.sent) == (1, 1)
    assert [(m.to, m.subject) for m in mail.outbox] == [([lead.email], "Step 1")]
    subscription.refresh_from_db()
    assert subscription.step == 2
    assert subscription.next_step_due_at == now + DAY
    assert StepDelivery.objects.get().status == StepDelivery.Status.SENT


def test_nothing_is_sent_before_the_step_is_due(account, sequence):
    _subscribed(account, sequence)
    sequence_engine_run(now=timezone.now() + DAY / 2)
    assert mail.outbox == []


def test_passing_the_last_step_completes_the_sequence(account, sequence, events):
    lead, subscription = _subscribed(account, sequence)
    sequence_engine_run(now=timezone.now() + DAY)
    sequence_engine_run(now=timezone.now() + 2 * DAY)

    subscription.refresh_from_db()
    assert subscription.status == SequenceSubscription.Status.COMPLETED
    assert [m.subject for m in mail.outbox] == ["Step 1", "Step 2"]
    assert events(lead) == ["sequence_subscription", "sequence_completion"]


def test_gdpr_blocked_lead_step_is_held_and_recorded_as_suppressed(account, sequence):
    lead, subscription = _subscribed(account, sequence, status=GdprStatus.UNKNOWN)

    sequence_engine_run(now=timezone.now() + DAY)
    sequence_engine_run(now=timezone.now() + DAY)  # held once, not re-recorded each run

    assert mail.outbox == []
    held = StepDelivery.objects.get()
    assert (held.status, held.reason, held.step.position) == (StepDelivery.Status.SUPPRESSED, "gdpr", 1)
    subscription.refresh_from_db()
    assert (subscription.step, subscription.status) == (1, SequenceSubscription.Status.ACTIVE)


def test_held_step_is_sent_once_the_lead_is_cleared(account, sequence):
    lead, subscription = _subscribed(account, sequence, status=GdprStatus.UNKNOWN)
    sequence_engine_run(now=timezone.now() + DAY)
    assert mail.outbox == []

    lead_gdpr_status_set(lead=lead, status=GdprStatus.ACCEPTED, ip="88.198.0.1", via=GdprEvidence.VISIT)
    sequence_engine_run(now=timezone.now() + DAY)

    assert [m.subject for m in mail.outbox] == ["Step 1"]
    assert sorted(StepDelivery.objects.values_list("status", flat=True)) == ["sent", "suppressed"]
    subscription.refresh_from_db()
    assert subscription.step == 2


def test_blacklisted_lead_is_held_with_that_reason(account, sequence):
    lead, _ = _subscribed(account, sequence)
    lead_blacklist_set(lead=lead, blacklisted=True)
    sequence_engine_run(now=timezone.now() + DAY)
    assert mail.outbox == []
    assert StepDelivery.objects.get().reason == "blacklisted"


def test_account_with_gdpr_off_emails_an_unknown_lead(account, sequence):
    account.gdpr_enabled = False
    account.save()
    _subscribed(account, sequence, status=GdprStatus.UNKNOWN)
    sequence_engine_run(now=timezone.now() + DAY)
    assert len(mail.outbox) == 1


def test_processing_a_subscription_twice_queues_its_step_once(account, sequence):
    _, subscription = _subscribed(account, sequence)
    now = timezone.now() + DAY
    first = sequence_subscription_step_process(subscription_id=subscription.pk, now=now)
    second = sequence_subscription_step_process(subscription_id=subscription.pk, now=now)
    assert first is not None and second is None
    assert StepDelivery.objects.count() == 1


def test_a_delivery_is_sent_at_most_once(account, sequence):
    _, subscription = _subscribed(account, sequence)
    delivery = sequence_subscription_step_process(subscription_id=subscription.pk, now=timezone.now() + DAY)
    assert step_delivery_send(delivery_id=delivery.pk) is True
    assert step_delivery_send(delivery_id=delivery.pk) is False
    assert len(mail.outbox) == 1


def test_beat_task_runs_the_engine(account, sequence):
    _, subscription = _subscribed(account, sequence)
    SequenceSubscription.objects.filter(pk=subscription.pk).update(next_step_due_at=timezone.now() - DAY)
    assert sequence_engine_run_task() == {"queued": 1, "not_sent": 0, "sent": 1}


def test_sql_prefilter_never_skips_a_lead_the_email_gate_allows(account, sequence):
    """The due query skips held subscriptions whose lead looks blocked in SQL; it must agree with the selector."""
    for gdpr_enabled, status, blacklisted in product([True, False], GdprStatus.values, [True, False]):
        account.gdpr_enabled = gdpr_enabled
        account.save()
        lead, subscription = _subscribed(account, sequence, status=status, blacklisted=blacklisted)
        lead = Lead.objects.select_related("account").get(pk=lead.pk)
        in_sql = SequenceSubscription.objects.filter(pk=subscription.pk).filter(_maybe_eligible()).exists()
        assert in_sql == lead_can_receive_email(lead), (gdpr_enabled, status, blacklisted)
