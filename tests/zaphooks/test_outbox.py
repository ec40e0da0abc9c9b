"""The lead event outbox (leads.outbox) and how hook delivery plugs into it (ZaphooksConfig.ready)."""

import pytest
from django.db import transaction
from django.utils import timezone

from leads import outbox
from leads.models import LeadEvent
from leads.services import lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import delivery
from zaphooks.models import HookEvent

from .factories import HookEventFactory, SubscriptionFactory


@pytest.fixture
def listeners(monkeypatch):
    """The outbox's listener lists, restored after the test."""
    monkeypatch.setattr(outbox, "_committed", list(outbox._committed))
    monkeypatch.setattr(outbox, "_erased", list(outbox._erased))


def test_a_lead_change_wakes_hook_delivery_through_the_outbox(
    account, settings, monkeypatch, django_capture_on_commit_callbacks
):
    woken = []
    monkeypatch.setattr(delivery, "dispatcher_wake_for_events", lambda: woken.append(True))
    settings.HOOKS_WAKE_ON_COMMIT = True
    with django_capture_on_commit_callbacks(execute=True):
        lead_tag_assign(lead=LeadFactory(account=account), tag=TagFactory(account=account))
    assert woken == [True]


def test_a_listener_registered_twice_runs_once(listeners):
    calls = []

    def listener():
        calls.append(True)

    outbox.on_events_committed(listener)
    outbox.on_events_committed(listener)
    outbox.events_committed()
    assert calls == [True]


def test_a_failing_listener_neither_raises_after_commit_nor_stops_the_others(listeners, caplog):
    calls = []

    def broken():
        raise RuntimeError("broker away")

    outbox.on_events_committed(broken)
    outbox.on_events_committed(lambda: calls.append(True))
    outbox.events_committed()
    assert calls == [True]
    assert "broker away" in caplog.text


def test_erasing_a_lead_erases_the_hook_payloads_through_the_outbox(account):
    lead = LeadFactory(account=account)
    SubscriptionFactory(account=account, events=["assign_tag"])
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    delivery.events_relay(wake=False)
    event = LeadEvent.objects.get(lead=lead)
    outbox.events_erased(event_ids=[event.pk], now=timezone.now())
    hook_event = HookEvent.objects.get(pk=event.pk)
    assert (hook_event.body, hook_event.erased_at is not None) == ("", True)


def test_a_failing_erasure_listener_raises_so_the_erasure_rolls_back(listeners):
    def broken(*, event_ids, now):
        raise RuntimeError("copy not erased")

    outbox.on_events_erased(broken)
    with pytest.raises(RuntimeError):
        outbox.events_erased(event_ids=[], now=timezone.now())


def test_the_relay_takes_the_oldest_events_marked_relayed_and_they_are_not_taken_again(account):
    lead = LeadFactory(account=account)
    tags = TagFactory.create_batch(3, account=account)
    for tag in tags:
        lead_tag_assign(lead=lead, tag=tag)
    oldest = list(LeadEvent.objects.order_by("occurred_at").values_list("pk", flat=True))
    now = timezone.now()
    with transaction.atomic():
        taken = outbox.events_take_unrelayed(limit=2, at=now)
    assert [event.pk for event in taken] == oldest[:2]
    assert all(event.relayed_at == now for event in taken)
    assert [event.pk for event in outbox.events_take_unrelayed(limit=10, at=now)] == oldest[2:]
    assert outbox.events_take_unrelayed(limit=10, at=now) == []


def test_events_taken_by_a_relay_that_rolls_back_stay_unrelayed(account):
    lead_tag_assign(lead=LeadFactory(account=account), tag=TagFactory(account=account))
    with pytest.raises(RuntimeError), transaction.atomic():
        assert len(outbox.events_take_unrelayed(limit=10, at=timezone.now())) == 1
        raise RuntimeError("the relay failed")
    assert LeadEvent.objects.get().relayed_at is None


def test_taken_events_come_back_with_every_field_as_python_values(account):
    lead = LeadFactory(account=account)
    lead_tag_assign(lead=lead, tag=TagFactory(account=account, name="VIP"))
    stored = LeadEvent.objects.get()
    [taken] = outbox.events_take_unrelayed(limit=10, at=timezone.now())
    assert (taken.pk, taken.lead_id, taken.account_id, taken.action) == (stored.pk, lead.pk, account.pk, stored.action)
    assert taken.details == stored.details and isinstance(taken.details, dict)
    assert taken.occurred_at == stored.occurred_at


def test_event_payloads_carry_the_lead_document(account):
    lead = LeadFactory(account=account)
    lead_tag_assign(lead=lead, tag=TagFactory(account=account, name="VIP"))
    event = LeadEvent.objects.get(lead=lead)
    payload = outbox.event_payloads([event])[event.pk]
    assert (payload["id"], payload["action"], payload["lead"]["email"]) == (str(event.pk), "assign_tag", lead.email)
    assert payload["action_details"]["tag"]["tag_name"] == "VIP"


def test_event_leads_answers_only_the_accounts_own_events(account, other_account):
    mine = LeadFactory(account=account)
    theirs = LeadFactory(account=other_account)
    for lead in (mine, theirs):
        lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account))
    ids = list(LeadEvent.objects.values_list("pk", flat=True))
    found = outbox.event_leads(account_id=account.pk, event_ids=ids)
    assert [(lead.id, lead.email, lead.erased) for lead in found.values()] == [(mine.pk, mine.email, False)]


def test_hook_event_factory_rows_are_not_lead_events(account):
    """A HookEvent without its LeadEvent (a lead deleted since) has no lead in the log."""
    hook_event = HookEventFactory(account=account)
    assert outbox.event_leads(account_id=account.pk, event_ids=[hook_event.pk]) == {}
