"""Hooks of an erased lead: payloads emptied, nothing sent again (claim, record, replay), log page says so."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from kartra_integrations.errors import ApplicationError
from leads.models import LeadEvent
from leads.services import lead_tag_assign
from leads.services.data_rights import lead_erase
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import services
from zaphooks.models import Delivery, DeliveryAttempt, DeliveryState, HookEvent

from .factories import DeliveryAttemptFactory, DeliveryFactory, HookEventFactory, SubscriptionFactory, job_for

EMAIL = "quentin.erasable@example.org"


@pytest.fixture
def zap(account):
    return SubscriptionFactory(account=account, events=["assign_tag"])


@pytest.fixture
def lead(account):
    return LeadFactory(account=account, email=EMAIL, first_name="Quentin", phone="+33 6 12 34 56 78")


def _tagged(lead, name):
    lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account, name=name))


def _delivery_of(lead) -> Delivery:
    """The lead's latest event relayed into a delivery of the account's Zap."""
    services.events_relay(wake=False)
    event_id = LeadEvent.objects.filter(lead=lead).order_by("-occurred_at").values_list("pk", flat=True).first()
    return Delivery.objects.select_related("event", "subscription").get(event_id=event_id)


def _result(job_or_delivery, status_code, body=None):
    job = job_for(job_or_delivery) if isinstance(job_or_delivery, Delivery) else job_or_delivery
    return services.Result(job, timezone.now(), status_code, 9, response_start=body or job.body[:500])


def test_erasure_empties_the_stored_payloads_of_the_leads_hook_events_only(zap, lead, account, owner):
    other = LeadFactory(account=account, email="someone.else@example.org")
    _tagged(lead, "A")
    _tagged(other, "B")
    mine, theirs = _delivery_of(lead).event, _delivery_of(other).event
    assert EMAIL in mine.body

    lead_erase(lead=lead, actor=owner)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.body, mine.erased_at is not None) == ("", True)
    assert json.loads(theirs.body)["lead"]["email"] == "someone.else@example.org"
    assert theirs.erased_at is None


def test_erasure_stops_the_leads_waiting_and_in_flight_deliveries(zap, lead, owner):
    _tagged(lead, "A")
    waiting = _delivery_of(lead)
    _tagged(lead, "B")
    in_flight = _delivery_of(lead)
    Delivery.objects.filter(pk=in_flight.pk).update(state=DeliveryState.SENDING)

    lead_erase(lead=lead, actor=owner)

    for delivery in (waiting, in_flight):
        delivery.refresh_from_db()
        assert (delivery.state, delivery.last_error, delivery.next_attempt_at) == (
            DeliveryState.FAILED,
            services.LEAD_ERASED,
            None,
        )


def test_erasure_blanks_what_targets_answered_to_the_leads_deliveries(zap, lead, owner):
    _tagged(lead, "A")
    delivery = _delivery_of(lead)
    echoed = DeliveryAttemptFactory(delivery=delivery, response_start=delivery.event.body[:500])
    other = DeliveryAttemptFactory(response_start='{"error":"busy"}')

    lead_erase(lead=lead, actor=owner)

    echoed.refresh_from_db()
    other.refresh_from_db()
    assert (echoed.response_start, other.response_start) == ("", '{"error":"busy"}')


def test_claim_never_hands_out_a_delivery_of_an_erased_event(db):
    erased = DeliveryFactory(event=HookEventFactory(body="", erased_at=timezone.now()))
    kept = DeliveryFactory()

    jobs = services.deliveries_claim(limit=10, room={}, default_room=10).jobs

    assert [job.delivery_id for job in jobs] == [kept.pk]
    erased.refresh_from_db()
    assert (erased.state, erased.last_error) == (DeliveryState.FAILED, services.LEAD_ERASED)


def test_a_result_coming_back_after_erasure_is_kept_without_the_answer_and_not_retried(zap, lead, owner):
    _tagged(lead, "A")
    services.events_relay(wake=False)
    (job,) = services.deliveries_claim(limit=10, room={}, default_room=10).jobs
    assert EMAIL in job.body  # on the wire when the lead is erased

    lead_erase(lead=lead, actor=owner)
    services.deliveries_record(results=[_result(job, 503)])

    delivery = Delivery.objects.get(pk=job.delivery_id)
    assert (delivery.state, delivery.last_error, delivery.next_attempt_at) == (
        DeliveryState.FAILED,
        services.LEAD_ERASED,
        None,
    )
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.status_code, attempt.response_start) == (503, "")


def test_replay_of_one_delivery_of_an_erased_lead_is_refused(zap, lead, account, owner):
    _tagged(lead, "A")
    delivery = _delivery_of(lead)
    services.deliveries_record(results=[_result(delivery, 200, body="ok")])
    lead_erase(lead=lead, actor=owner)

    with pytest.raises(ApplicationError) as refused:
        services.deliveries_replay(account=account, subscription_id=zap.pk, delivery_id=delivery.pk)

    assert refused.value.code == "lead_erased"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED


def test_replay_of_a_range_leaves_out_the_erased_leads_deliveries(zap, lead, account, owner):
    other = LeadFactory(account=account)
    _tagged(lead, "A")
    erased = _delivery_of(lead)
    _tagged(other, "B")
    kept = _delivery_of(other)
    Delivery.objects.filter(pk__in=[erased.pk, kept.pk]).update(state=DeliveryState.FAILED)
    lead_erase(lead=lead, actor=owner)

    assert services.deliveries_replay(account=account, subscription_id=zap.pk) == 1

    assert Delivery.objects.get(pk=kept.pk).state == DeliveryState.PENDING
    assert Delivery.objects.get(pk=erased.pk).state == DeliveryState.FAILED


def test_log_page_marks_the_erased_leads_delivery_and_explains_a_refused_replay(client, zap, lead, owner):
    _tagged(lead, "A")
    delivery = _delivery_of(lead)
    services.deliveries_record(results=[_result(delivery, 200, body="ok")])
    lead_erase(lead=lead, actor=owner)
    client.force_login(owner)

    page = client.get(reverse("zaphooks:log", args=[zap.pk])).content.decode()
    assert "Lead erased: not sent again" in page
    assert f'name="delivery_id" value="{delivery.pk}"' not in page

    response = client.post(reverse("zaphooks:replay", args=[zap.pk]), {"delivery_id": delivery.pk}, follow=True)
    assert services.LEAD_ERASED in response.content.decode()


def test_events_of_an_erased_lead_not_relayed_yet_never_become_deliveries(zap, lead, owner):
    _tagged(lead, "A")  # written, not relayed yet

    lead_erase(lead=lead, actor=owner)

    assert services.events_relay(wake=False) == 0
    assert not HookEvent.objects.exists() and not Delivery.objects.exists()
