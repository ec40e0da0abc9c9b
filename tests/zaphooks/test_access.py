"""Nothing is delivered for an account without Zapier access, checked when relaying
and when sending, not only when subscribing; enabling, endpoints and replay need access; deliveries
queued at the revocation and events written while revoked are never sent, even after a re-approval."""

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.services import account_revoke, request_claim, request_decide, request_submit
from kartra_integrations.errors import ApplicationError, NotFound
from leads.services import lead_tag_assign
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import services
from zaphooks.models import Delivery, DeliveryState, Subscription, SubscriptionKind, SubscriptionState

from .factories import DeliveryFactory, FailedDeliveryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _relay():
    return services.events_relay(wake=False)


def _claim():
    return services.deliveries_claim(limit=100, room={}, default_room=100)


def _reapprove(account, moderator):
    activation_request = request_submit(
        actor=account.owner, account=account, stated_use="We want our Zaps back after fixing what went wrong."
    )
    request_claim(actor=moderator, activation_request=activation_request)
    request_decide(actor=moderator, activation_request=activation_request, outcome="approved", reason="use_clear")
    account.refresh_from_db()


def _revoke(account, moderator):
    account_revoke(actor=moderator, account=account, reason="abuse_reported")
    account.refresh_from_db()


@pytest.fixture
def zap(account):
    return services.subscription_create(account=account, event="assign_tag", target_url="https://a.example/zap")


# --- relay and send time ---------------------------------------------------------------------------


def test_relay_makes_no_delivery_for_an_account_without_access(pending_account):
    # An active subscription that should not exist (made before this fix): the relay still refuses.
    SubscriptionFactory(account=pending_account)
    lead_tag_assign(lead=LeadFactory(account=pending_account), tag=TagFactory(account=pending_account))
    _relay()
    assert Delivery.objects.count() == 0


def test_claim_refuses_a_due_delivery_of_an_account_without_access(pending_account):
    delivery = DeliveryFactory(subscription=SubscriptionFactory(account=pending_account))
    assert _claim().jobs == []
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error, delivery.access_revoked) == (
        DeliveryState.FAILED,
        services.ACCESS_REVOKED,
        True,
    )


def test_claim_still_sends_the_due_deliveries_of_accounts_with_access(account, pending_account):
    kept = DeliveryFactory(subscription=SubscriptionFactory(account=account))
    DeliveryFactory(subscription=SubscriptionFactory(account=pending_account))
    assert [job.delivery_id for job in _claim().jobs] == [kept.pk]


def test_events_written_while_revoked_are_not_delivered_after_reapproval(account, moderator, zap):
    lead, tag = LeadFactory(account=account), TagFactory(account=account)
    _revoke(account, moderator)
    lead_tag_assign(lead=lead, tag=tag)  # e.g. a hosted opt-in form, which needs no API access
    _relay()
    _reapprove(account, moderator)
    services.subscription_enable(account=account, subscription_id=zap.pk)
    _relay()
    assert Delivery.objects.count() == 0


def test_deliveries_queued_at_revocation_are_never_sent_nor_replayed_after_reapproval(account, moderator, zap):
    queued = DeliveryFactory(subscription=zap)
    _revoke(account, moderator)
    _reapprove(account, moderator)
    services.subscription_enable(account=account, subscription_id=zap.pk)

    assert _claim().jobs == []
    assert services.deliveries_replay(account=account, subscription_id=zap.pk) == 0
    with pytest.raises(ApplicationError) as refused:
        services.deliveries_replay(account=account, subscription_id=zap.pk, delivery_id=queued.pk)
    assert refused.value.code == "access_revoked"
    queued.refresh_from_db()
    assert (queued.state, queued.access_revoked) == (DeliveryState.FAILED, True)


def test_delivery_in_flight_at_revocation_is_not_retried_after_reapproval(account, moderator, zap):
    in_flight = DeliveryFactory(subscription=zap, state=DeliveryState.SENDING, claimed_until=timezone.now())
    _revoke(account, moderator)
    job = services.Job(in_flight.pk, zap.pk, account.pk, str(in_flight.event_id), zap.target_url, "{}", 0)
    services.deliveries_record(results=[services.Result(job, timezone.now(), 503, 10)], now=timezone.now())
    _reapprove(account, moderator)
    services.subscription_enable(account=account, subscription_id=zap.pk)

    Delivery.objects.filter(pk=in_flight.pk).update(next_attempt_at=timezone.now())  # its retry is due
    assert _claim().jobs == []
    in_flight.refresh_from_db()
    assert (in_flight.state, in_flight.last_error) == (DeliveryState.FAILED, services.ACCESS_REVOKED)


def test_new_events_flow_again_after_reapproval_and_re_enabling(account, moderator, zap):
    lead, tag = LeadFactory(account=account), TagFactory(account=account)
    _revoke(account, moderator)
    _reapprove(account, moderator)
    services.subscription_enable(account=account, subscription_id=zap.pk)
    lead_tag_assign(lead=lead, tag=tag)
    _relay()
    assert list(Delivery.objects.values_list("subscription_id", flat=True)) == [zap.pk]


def test_replay_is_refused_without_access(pending_account):
    failed = FailedDeliveryFactory(subscription=SubscriptionFactory(account=pending_account))
    with pytest.raises(ApplicationError) as refused:
        services.deliveries_replay(account=pending_account, subscription_id=failed.subscription_id)
    assert refused.value.code == "zapier_not_activated"
    failed.refresh_from_db()
    assert failed.state == DeliveryState.FAILED


# --- enabling, subscribing, endpoints --------------------------------------------------------------


def test_enable_after_revocation_is_refused_with_the_way_back(account, moderator, zap):
    _revoke(account, moderator)
    with pytest.raises(ApplicationError) as refused:
        services.subscription_enable(account=account, subscription_id=zap.pk)
    assert (refused.value.code, refused.value.status_code) == ("zapier_not_activated", 403)
    assert "My integrations" in refused.value.message
    zap.refresh_from_db()
    assert (zap.state, zap.disabled_reason) == (SubscriptionState.DISABLED, services.ACCESS_REVOKED)


def test_enable_of_an_unknown_subscription_without_access_is_not_found(pending_account, other_account):
    theirs = SubscriptionFactory(account=other_account, state=SubscriptionState.DISABLED)
    with pytest.raises(NotFound):
        services.subscription_enable(account=pending_account, subscription_id=theirs.pk)


def test_endpoint_creation_requires_access(pending_account):
    with pytest.raises(ApplicationError) as refused:
        services.endpoint_create(
            account=pending_account, target_url="https://crm.example.com/in", events=["buy_product"]
        )
    assert refused.value.code == "zapier_not_activated"
    assert not Subscription.objects.exists()


def test_zap_subscription_requires_access_in_the_service_too(pending_account):
    with pytest.raises(ApplicationError) as refused:
        services.subscription_create(account=pending_account, event="assign_tag", target_url="https://a.example/z")
    assert refused.value.code == "zapier_not_activated"


def test_api_subscribe_of_a_revoked_account_is_refused_with_a_clear_message(account, moderator):
    from tests.conftest import api_client_for

    client = api_client_for(account)
    _revoke(account, moderator)
    response = client.post("/api/v1/hooks", {"event": "assign_tag", "target_url": "https://a.example/z"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "message": "Zapier access has not been activated for this account",
        "code": "zapier_not_activated",
    }


# --- the owner's pages -----------------------------------------------------------------------------


def test_re_enable_from_the_page_after_revocation_shows_why_and_changes_nothing(client, account, moderator, zap):
    _revoke(account, moderator)
    client.force_login(account.owner)
    response = client.post(reverse("zaphooks:state", args=[zap.pk]), {"action": "enable"}, follow=True)
    assert "Zapier access is not activated for this account" in response.content.decode()
    zap.refresh_from_db()
    assert zap.state == SubscriptionState.DISABLED


def test_adding_an_endpoint_without_access_shows_the_error_and_adds_nothing(client, pending_account):
    client.force_login(pending_account.owner)
    response = client.post(
        reverse("zaphooks:hooks"), {"target_url": "https://crm.example.com/in", "events": ["buy_product"]}
    )
    assert "Zapier access is not activated for this account" in response.content.decode()
    assert not Subscription.objects.filter(kind=SubscriptionKind.ENDPOINT).exists()


def test_hooks_page_tells_an_account_without_access_why_nothing_is_sent(client, pending_account):
    client.force_login(pending_account.owner)
    page = client.get(reverse("zaphooks:hooks")).content.decode()
    assert 'id="no-access"' in page
