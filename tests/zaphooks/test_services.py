import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from kartra_integrations.errors import ApplicationError
from leads.models import LeadEvent
from leads.services import lead_points_give, lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import delivery, policy, services
from zaphooks.models import Delivery, DeliveryAttempt, DeliveryState, HookEvent, SubscriptionState
from zaphooks.selectors import signing_secrets_for_accounts

from .factories import DeliveryFactory, SubscriptionFactory, job_for


def _result(delivery, status_code, *, error="", retry_after=None, at=None):
    return services.Result(job_for(delivery), at or timezone.now(), status_code, 12, "ok", error, retry_after)


def _relay():
    return services.events_relay(wake=False)


def test_relay_creates_one_delivery_per_matching_subscription(account, lead, tag):
    wanted = services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    by_tag = services.subscription_create(
        account=account, event="assign_tag", target_url="https://a.example/2", filter={"tag": "VIP"}
    )
    other_tag = services.subscription_create(
        account=account,
        event="assign_tag",
        target_url="https://a.example/3",
        filter={"tag": TagFactory(account=account).pk},
    )
    services.subscription_create(account=account, event="unassign_tag", target_url="https://a.example/4")
    lead_tag_assign(lead=lead, tag=tag)
    assert _relay() == 1
    assert set(Delivery.objects.values_list("subscription_id", flat=True)) == {wanted.pk, by_tag.pk}
    assert other_tag.deliveries.count() == 0


def test_relayed_body_is_the_delivery_payload(account, lead, tag):
    services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    lead_tag_assign(lead=lead, tag=tag)
    _relay()
    event = LeadEvent.objects.get()
    import json

    body = json.loads(HookEvent.objects.get(pk=event.pk).body)
    assert set(body) == {"id", "action", "occurred_at", "lead", "action_details"}
    assert body["id"] == str(event.pk) and body["action"] == "assign_tag"
    assert body["action_details"] == {"tag": {"tag_id": tag.pk, "tag_name": "VIP"}}
    assert body["lead"]["email"] == lead.email and body["occurred_at"].endswith("Z")


def test_relay_run_twice_creates_no_duplicates(account, lead, tag):
    services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    lead_tag_assign(lead=lead, tag=tag)
    _relay()
    event = LeadEvent.objects.get()
    assert _relay() == 0
    assert Delivery.objects.filter(event_id=event.pk).count() == 1


def test_rolled_back_change_is_never_relayed(account, lead, tag):
    services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_tag_assign(lead=lead, tag=tag)
        raise RuntimeError("the request failed after the tag was assigned")
    assert _relay() == 0
    assert Delivery.objects.count() == 0


def test_event_older_than_any_window_is_relayed(account, lead, tag):
    services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    lead_tag_assign(lead=lead, tag=tag)
    # Workers and beat were away for a month: the event is still waiting in the outbox.
    LeadEvent.objects.update(occurred_at=timezone.now() - timedelta(days=30))
    assert _relay() == 1
    assert Delivery.objects.get().event_id == LeadEvent.objects.get().pk


def test_event_committed_after_newer_ones_were_relayed_is_relayed(account, lead, tag):
    services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    lead_tag_assign(lead=lead, tag=tag)
    assert _relay() == 1
    with transaction.atomic():
        # A long transaction: its event occurred an hour before the one relayed above, and commits now.
        lead_tag_assign(lead=lead, tag=TagFactory(account=account))
        late = LeadEvent.objects.order_by("-occurred_at").first()
        LeadEvent.objects.filter(pk=late.pk).update(occurred_at=timezone.now() - timedelta(hours=1))
    assert _relay() == 1
    assert Delivery.objects.filter(event_id=late.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_relay_during_the_events_open_transaction_relays_it_once_committed(postgres_only, account, lead, tag):
    services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    written, release = threading.Event(), threading.Event()

    def long_transaction():
        try:
            with transaction.atomic():
                lead_tag_assign(lead=lead, tag=tag)
                written.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=long_transaction)
    writer.start()
    assert written.wait(10)
    assert _relay() == 0  # not committed yet: invisible, and not marked
    assert not LeadEvent.objects.exists()
    release.set()
    writer.join()
    _relay()  # (in a full run a live test's worker shares this database and may relay it first)
    event = LeadEvent.objects.get()
    assert event.relayed_at is not None
    assert Delivery.objects.get().event_id == event.pk


def test_events_nobody_listens_to_are_marked_relayed_without_a_hook_event(account, lead, tag):
    lead_tag_assign(lead=lead, tag=tag)
    assert _relay() == 0
    assert LeadEvent.objects.get().relayed_at is not None
    assert HookEvent.objects.count() == 0


def test_other_accounts_events_do_not_reach_a_subscription(account, other_account, tag):
    services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/1")
    other_lead = LeadFactory(account=other_account)
    lead_tag_assign(lead=other_lead, tag=TagFactory(account=other_account, name="VIP"))
    _relay()
    assert Delivery.objects.count() == 0


def test_reaches_score_fires_once_when_the_score_is_first_reached(account, lead):
    services.subscription_create(
        account=account, event="reaches_score", target_url="https://a.example/1", filter={"score": 50}
    )
    lead_points_give(lead=lead, points=30)
    lead_points_give(lead=lead, points=30)
    lead_points_give(lead=lead, points=30)
    _relay()
    assert Delivery.objects.count() == 1


def test_unknown_asset_in_filter_is_refused(account):
    with pytest.raises(ApplicationError) as error:
        services.subscription_create(
            account=account, event="assign_tag", target_url="https://a.example/1", filter={"tag": "Nope"}
        )
    assert "filter" in error.value.fields


def test_another_accounts_asset_in_filter_is_refused(account, other_account):
    theirs = TagFactory(account=other_account, name="Theirs")
    with pytest.raises(ApplicationError):
        services.subscription_create(
            account=account, event="assign_tag", target_url="https://a.example/1", filter={"tag": theirs.pk}
        )


def test_claim_moves_due_rows_to_sending_and_respects_room(db):
    subscription = SubscriptionFactory()
    for _ in range(3):
        DeliveryFactory(subscription=subscription)
    claimed = services.deliveries_claim(limit=10, room={}, default_room=2)
    assert (len(claimed.jobs), claimed.left) == (2, 1)
    assert Delivery.objects.filter(state=DeliveryState.SENDING).count() == 2
    assert services.deliveries_claim(limit=10, room={subscription.pk: 0}, default_room=2).jobs == []


def test_a_claimed_job_carries_the_event_id_as_text_like_a_relayed_one(db):
    delivery_row = DeliveryFactory()
    [job] = services.deliveries_claim(limit=10, room={}, default_room=10).jobs
    assert job.event_id == str(delivery_row.event_id)


def test_future_retries_are_not_claimed(db):
    DeliveryFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert services.deliveries_claim(limit=10, room={}, default_room=10).jobs == []


def test_claims_of_a_crashed_dispatcher_expire_and_are_due_again(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING, claimed_until=timezone.now() - timedelta(seconds=1))
    assert services.deliveries_release_expired() == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING


def test_success_is_recorded_with_its_attempt(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING)
    services.deliveries_record(results=[_result(delivery, 200)])
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.SUCCEEDED, 1, 200)
    assert DeliveryAttempt.objects.get().status_code == 200


def test_a_result_for_a_delivery_deleted_in_flight_is_dropped_and_the_others_recorded(transactional_db):
    kept, vanished = DeliveryFactory.create_batch(2, state=DeliveryState.SENDING)
    results = [_result(kept, 200), _result(vanished, 200)]
    vanished.subscription.account.delete()  # its account deleted while the request was in flight
    services.deliveries_record(results=results)
    kept.refresh_from_db()
    assert kept.state == DeliveryState.SUCCEEDED
    assert list(DeliveryAttempt.objects.values_list("delivery_id", flat=True)) == [kept.pk]


def test_5xx_schedules_a_retry_in_the_database(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING)
    now = timezone.now()
    services.deliveries_record(results=[_result(delivery, 503)], now=now)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert now < delivery.next_attempt_at <= now + timedelta(seconds=10)
    assert DeliveryAttempt.objects.get().next_attempt_at == delivery.next_attempt_at


def test_429_retry_after_sets_the_next_attempt(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING)
    now = timezone.now()
    services.deliveries_record(results=[_result(delivery, 429, retry_after="90")], now=now)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(seconds=90)


def test_4xx_is_not_retried(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING)
    services.deliveries_record(results=[_result(delivery, 400)])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and delivery.next_attempt_at is None


def test_410_deletes_the_subscription_and_cancels_its_queue(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING)
    waiting = DeliveryFactory(subscription=delivery.subscription)
    services.deliveries_record(results=[_result(delivery, 410)])
    delivery.subscription.refresh_from_db()
    waiting.refresh_from_db()
    assert delivery.subscription.state == SubscriptionState.DELETED
    assert waiting.state == DeliveryState.FAILED


def test_exhausted_attempts_fail_the_delivery(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING, attempts=policy.MAX_ATTEMPTS - 1)
    services.deliveries_record(results=[_result(delivery, 500)])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == policy.MAX_ATTEMPTS


def test_a_day_of_nothing_but_failures_disables_and_emails_the_owner(django_capture_on_commit_callbacks, db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING)
    subscription = delivery.subscription
    subscription.first_failure_at = timezone.now() - timedelta(days=1, minutes=1)
    subscription.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.deliveries_record(results=[_result(delivery, 500)])
    subscription.refresh_from_db()
    assert subscription.state == SubscriptionState.DISABLED
    assert mail.outbox[0].to == [subscription.account.owner.email]


def test_a_success_clears_the_failure_run(db):
    delivery = DeliveryFactory(state=DeliveryState.SENDING)
    subscription = delivery.subscription
    subscription.first_failure_at = timezone.now() - timedelta(hours=20)
    subscription.save()
    services.deliveries_record(results=[_result(delivery, 200)])
    subscription.refresh_from_db()
    assert subscription.first_failure_at is None and subscription.state == SubscriptionState.ACTIVE


def test_replay_needs_the_subscription_enabled_then_requeues_failed_ones(db):
    delivery = DeliveryFactory(state=DeliveryState.FAILED, attempts=9)
    subscription = delivery.subscription
    services.subscription_disable(account=subscription.account, subscription_id=subscription.pk)
    with pytest.raises(ApplicationError):
        services.deliveries_replay(account=subscription.account, subscription_id=subscription.pk)
    services.subscription_enable(account=subscription.account, subscription_id=subscription.pk)
    assert services.deliveries_replay(account=subscription.account, subscription_id=subscription.pk) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)


def test_replay_of_a_time_range_leaves_older_failures(db):
    old = DeliveryFactory(state=DeliveryState.FAILED)
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    recent = DeliveryFactory(state=DeliveryState.FAILED, subscription=old.subscription)
    count = services.deliveries_replay(
        account=old.subscription.account, subscription_id=old.subscription.pk, since=timezone.now() - timedelta(days=1)
    )
    assert count == 1
    assert Delivery.objects.get(pk=recent.pk).state == DeliveryState.PENDING
    assert Delivery.objects.get(pk=old.pk).state == DeliveryState.FAILED


def test_replay_of_another_accounts_subscription_is_not_found(db, other_account):
    delivery = DeliveryFactory(state=DeliveryState.FAILED)
    with pytest.raises(ApplicationError):
        services.deliveries_replay(account=other_account, subscription_id=delivery.subscription_id)


def test_rotation_keeps_both_secrets_signing_for_the_window(account):
    first = services.signing_secret_get_or_create(account=account)
    second = services.signing_secret_rotate(account=account).secret
    assert signing_secrets_for_accounts({account.pk})[account.pk] == [second, first]
    later = timezone.now() + services.ROTATION_WINDOW + timedelta(minutes=1)
    assert signing_secrets_for_accounts({account.pk}, now=later)[account.pk] == [second]
    assert services.signing_secret_get_or_create(account=account) == second


def test_signing_secret_is_stable_and_prefixed(account):
    secret = services.signing_secret_get_or_create(account=account)
    assert secret.startswith("whsec_")
    assert services.signing_secret_get_or_create(account=account) == secret


def test_stopping_an_account_disables_every_subscription(account, other_account):
    mine = SubscriptionFactory(account=account)
    theirs = SubscriptionFactory(account=other_account)
    assert services.account_subscriptions_stop(account=account) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.state == SubscriptionState.DISABLED and theirs.state == SubscriptionState.ACTIVE


def test_delete_is_idempotent_and_scoped_to_the_account(account, other_account):
    theirs = SubscriptionFactory(account=other_account)
    services.subscription_delete(account=account, subscription_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.state == SubscriptionState.ACTIVE
    services.subscription_delete(account=other_account, subscription_id=theirs.pk)
    services.subscription_delete(account=other_account, subscription_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.state == SubscriptionState.DELETED


def test_endpoint_takes_several_events(account, lead, tag):
    endpoint = services.endpoint_create(
        account=account, target_url="https://a.example/e", events=["assign_tag", "reaches_score"]
    )
    lead_tag_assign(lead=lead, tag=tag)
    _relay()
    assert endpoint.deliveries.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_claiming_at_once_never_share_a_row(postgres_only):
    import threading

    from django.db import connection as main_connection

    subscription = SubscriptionFactory()
    # Due only in our threads' "now": a live test's worker sharing this database claims what is due
    # by the clock, and must leave these rows to the threads.
    later = timezone.now() + timedelta(days=1)
    for _ in range(200):
        DeliveryFactory(subscription=subscription, next_attempt_at=later)
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claim():
        from django.db import connection

        barrier.wait()
        while Delivery.objects.filter(state=DeliveryState.PENDING).exists():
            jobs = services.deliveries_claim(limit=20, room={}, default_room=1000, now=later).jobs
            claimed.append([job.delivery_id for job in jobs])
        connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [pk for batch in claimed for pk in batch]
    assert len(every) == len(set(every)) == 200
    assert not Delivery.objects.filter(state=DeliveryState.PENDING).exists()
    assert main_connection.vendor == "postgresql"


def test_committed_events_wake_the_dispatcher_when_wake_on_commit_is_on(settings, monkeypatch):
    woken = []
    monkeypatch.setattr(delivery, "dispatcher_wake_for_events", lambda: woken.append(True))
    settings.HOOKS_WAKE_ON_COMMIT = True
    services.events_committed()
    assert woken == [True]


def test_committed_events_wake_nothing_when_wake_on_commit_is_off(settings, monkeypatch):
    woken = []
    monkeypatch.setattr(delivery, "dispatcher_wake_for_events", lambda: woken.append(True))
    settings.HOOKS_WAKE_ON_COMMIT = False
    services.events_committed()
    assert woken == []
