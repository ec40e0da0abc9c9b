"""An owner's own outbound endpoints: editing a URL and its ticked events, deleting; Zaps stay Zapier's."""

import pytest
from django.utils import timezone

from kartra_integrations.errors import ApplicationError, NotFound
from zaphooks import services
from zaphooks.models import DeliveryState, SubscriptionState

from .factories import DeliveryFactory, EndpointFactory, SubscriptionFactory


def _update(endpoint, **changes):
    fields = {"target_url": endpoint.target_url, "events": endpoint.events, **changes}
    return services.endpoint_update(account=endpoint.account, subscription_id=endpoint.pk, **fields)


def test_update_changes_the_url_and_the_ticked_events(account):
    endpoint = EndpointFactory(account=account)
    _update(endpoint, target_url="https://crm.example.com/new", events=["filled_form", "filled_form", "buy_product"])
    endpoint.refresh_from_db()
    assert endpoint.target_url == "https://crm.example.com/new"
    assert endpoint.events == ["filled_form", "buy_product"]


def test_update_keeps_a_disabled_endpoint_disabled(account):
    endpoint = EndpointFactory(account=account, state=SubscriptionState.DISABLED)
    _update(endpoint, target_url="https://crm.example.com/fixed")
    endpoint.refresh_from_db()
    assert endpoint.state == SubscriptionState.DISABLED


def test_update_to_a_new_url_starts_a_fresh_failure_run(account):
    endpoint = EndpointFactory(account=account, first_failure_at=timezone.now())
    _update(endpoint, target_url="https://crm.example.com/fixed")
    endpoint.refresh_from_db()
    assert endpoint.first_failure_at is None


def test_update_of_the_events_alone_keeps_the_failure_run(account):
    failing_since = timezone.now()
    endpoint = EndpointFactory(account=account, first_failure_at=failing_since)
    _update(endpoint, events=["filled_form"])
    endpoint.refresh_from_db()
    assert endpoint.first_failure_at == failing_since


def test_update_leaves_waiting_deliveries_to_go_to_the_new_url(account):
    endpoint = EndpointFactory(account=account)
    waiting = DeliveryFactory(subscription=endpoint)
    _update(endpoint, target_url="https://crm.example.com/new")
    waiting.refresh_from_db()
    assert waiting.state == DeliveryState.PENDING


@pytest.mark.parametrize("events", [[], ["not_an_event"], ["assign_tag", "not_an_event"]])
def test_update_refuses_no_events_or_unknown_ones(account, events):
    endpoint = EndpointFactory(account=account)
    with pytest.raises(ApplicationError) as refused:
        _update(endpoint, events=events)
    assert refused.value.fields == {"events": ["Tick one or more known events."]}


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/in",
        "https://localhost/in",
        "http://crm.example.com/in",
        "https://u:p@crm.example.com/in",
        "not a url",
    ],
)
def test_update_refuses_what_create_refuses(account, settings, url):
    settings.HOOKS_ALLOW_PRIVATE_TARGETS = False
    endpoint = EndpointFactory(account=account)
    with pytest.raises(ApplicationError) as refused:
        _update(endpoint, target_url=url)
    assert set(refused.value.fields) == {"target_url"}
    with pytest.raises(ApplicationError):
        services.endpoint_create(account=account, target_url=url, events=["assign_tag"])
    endpoint.refresh_from_db()
    assert endpoint.target_url != url


def test_update_of_another_accounts_endpoint_is_not_found_and_changes_nothing(account, other_account):
    theirs = EndpointFactory(account=other_account)
    with pytest.raises(NotFound):
        services.endpoint_update(
            account=account, subscription_id=theirs.pk, target_url="https://evil.example.com/", events=["assign_tag"]
        )
    theirs.refresh_from_db()
    assert theirs.target_url.startswith("https://crm.example.com/")


def test_a_zap_cannot_be_updated(account):
    zap = SubscriptionFactory(account=account)
    with pytest.raises(NotFound):
        _update(zap, target_url="https://crm.example.com/new")


def test_a_deleted_endpoint_cannot_be_updated(account):
    endpoint = EndpointFactory(account=account, state=SubscriptionState.DELETED)
    with pytest.raises(NotFound):
        _update(endpoint, target_url="https://crm.example.com/new")


def test_delete_of_an_endpoint_cancels_its_waiting_deliveries(account):
    endpoint = EndpointFactory(account=account)
    waiting = DeliveryFactory(subscription=endpoint)
    services.endpoint_delete(account=account, subscription_id=endpoint.pk)
    endpoint.refresh_from_db()
    waiting.refresh_from_db()
    assert endpoint.state == SubscriptionState.DELETED and waiting.state == DeliveryState.FAILED


def test_a_zap_cannot_be_deleted_as_an_endpoint(account):
    zap = SubscriptionFactory(account=account)
    with pytest.raises(NotFound):
        services.endpoint_delete(account=account, subscription_id=zap.pk)
    zap.refresh_from_db()
    assert zap.state == SubscriptionState.ACTIVE
