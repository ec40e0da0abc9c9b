"""Zaps & hooks as a first-time owner reads it: trigger labels, filters by name, the last delivery,
the lead of each delivery and the payload that was sent."""

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from leads import services as lead_services
from leads.models import LeadAction
from leads.services import data_rights
from tests.leads.factories import (
    CalendarClassFactory,
    CalendarFactory,
    LeadFactory,
    LeadListFactory,
    PricePointFactory,
    ProductFactory,
    TagFactory,
)
from zaphooks import selectors, services
from zaphooks.models import Delivery, DeliveryState

from .factories import DeliveryFactory, EndpointFactory, SubscriptionFactory


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def no_wake(monkeypatch):
    monkeypatch.setattr("zaphooks.delivery.wake_dispatcher", lambda *args, **kwargs: None)


def _zap(account, event: str, filter: dict | None = None):
    return services.subscription_create(
        account=account, event=event, target_url="https://hooks.zapier.com/hooks/standard/1/abc", filter=filter
    )


def _delivered_tag(account, *, email="ada@example.com", tag_name="VIP"):
    """A real assign_tag event relayed to a Zap: the delivery of a HookEvent whose body is the payload."""
    tag = TagFactory(account=account, name=tag_name)
    zap = _zap(account, "assign_tag", {"tag": tag_name})
    lead = LeadFactory(account=account, email=email)
    lead_services.lead_tag_assign(lead=lead, tag=tag)
    services.events_relay(wake=False)
    return zap, lead, Delivery.objects.get(subscription=zap)


# The hooks page


def test_hooks_page_shows_each_zaps_trigger_label(owner_client, account):
    _zap(account, "buy_product")
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert LeadAction.BUY_PRODUCT.label in page


def test_hooks_page_shows_an_endpoints_events_by_label(owner_client, account):
    EndpointFactory(account=account, events=["filled_form", "video_play"])
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert LeadAction.FILLED_FORM.label in page and LeadAction.VIDEO_PLAY.label in page


def test_hooks_page_names_the_filtered_assets_instead_of_their_ids(owner_client, account):
    tag = TagFactory(account=account, name="Webinar attendee")
    calendar = CalendarFactory(account=account, name="Coaching")
    CalendarClassFactory(calendar=calendar, name="Intro call")
    _zap(account, "assign_tag", {"tag": str(tag.pk)})
    _zap(account, "calendar_subscribe", {"calendar": "Coaching", "class": "Intro call"})
    _zap(account, "reaches_score", {"score": 50})
    subscriptions = {s.event: s for s in selectors.subscriptions_with_stats(account=account)}
    described = {event: [(p.label, p.value) for p in s.filter_described] for event, s in subscriptions.items()}
    assert described == {
        "assign_tag": [("Tag", "Webinar attendee")],
        "calendar_subscribe": [("Calendar", "Coaching"), ("Class", "Intro call")],
        "reaches_score": [("Score", "50")],
    }


def test_hooks_page_names_a_filtered_price_point_by_its_number_and_amount(account):
    product = ProductFactory(account=account, name="Course")
    price_point = PricePointFactory(product=product, number=2, amount="49.00", currency="EUR")
    _zap(account, "buy_product", {"product": "Course", "price_point": price_point.pk})
    [zap] = selectors.subscriptions_with_stats(account=account)
    assert [(p.label, p.value) for p in zap.filter_described] == [
        ("Product", "Course"),
        ("Price point", "2 (49.00 EUR)"),
    ]


def test_a_filtered_asset_deleted_since_shows_as_deleted(account):
    tag = TagFactory(account=account, name="Gone soon")
    _zap(account, "assign_tag", {"tag": "Gone soon"})
    tag_id = tag.pk
    tag.delete()
    [zap] = selectors.subscriptions_with_stats(account=account)
    assert [(p.label, p.value) for p in zap.filter_described] == [("Tag", f"#{tag_id} (deleted)")]


def test_filter_names_are_looked_up_inside_the_account_only(account, other_account):
    theirs = TagFactory(account=other_account, name="Their secret tag")
    zap = SubscriptionFactory(account=account, filter={"tag": theirs.pk}, filter_resolved={"tag": theirs.pk})
    described = selectors.filters_described(account=account, subscriptions=[zap])
    assert [(p.label, p.value) for p in described[zap.pk]] == [("Tag", f"#{theirs.pk} (deleted)")]


def test_hooks_page_shows_the_last_delivery_with_zone_state_and_http_code(owner_client, account):
    account.timezone = "Europe/Berlin"
    account.save(update_fields=["timezone"])
    zap = SubscriptionFactory(account=account)
    DeliveryFactory(
        subscription=zap,
        state=DeliveryState.SUCCEEDED,
        last_status_code=200,
        created_at=datetime(2026, 1, 1, 9, tzinfo=UTC),
    )
    newest = DeliveryFactory(subscription=zap, state=DeliveryState.FAILED, last_status_code=503)
    Delivery.objects.filter(pk=newest.pk).update(
        created_at=datetime(2026, 1, 5, 8, tzinfo=UTC), finished_at=datetime(2026, 1, 5, 10, 30, tzinfo=UTC)
    )
    response = owner_client.get(reverse("zaphooks:hooks"))
    [row] = response.context["subscriptions"]
    assert (row.last_delivery_state_label, row.last_delivery_status_code) == ("Failed", 503)
    page = response.content.decode()
    assert "2026-01-05 11:30 CET" in page and "HTTP 503" in page


def test_a_subscription_without_deliveries_says_none_yet(owner_client, account):
    SubscriptionFactory(account=account)
    [row] = owner_client.get(reverse("zaphooks:hooks")).context["subscriptions"]
    assert row.last_delivery_at is None
    assert "None yet" in owner_client.get(reverse("zaphooks:hooks")).content.decode()


HOOKS_PAGE_QUERY_BUDGET = 16


def _hooks_page_queries(owner_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(HOOKS_PAGE_QUERY_BUDGET) as captured:
        assert owner_client.get(reverse("zaphooks:hooks")).status_code == 200
    return len(captured.captured_queries)


def _filtered_zaps_with_deliveries(account):
    tag = TagFactory(account=account)
    lead_list = LeadListFactory(account=account)
    zap = _zap(account, "assign_tag", {"tag": tag.name})
    _zap(account, "list_subscription", {"list": lead_list.name})
    DeliveryFactory.create_batch(2, subscription=zap, state=DeliveryState.SUCCEEDED, last_status_code=200)
    return zap


def test_hooks_page_queries_do_not_grow_with_the_zaps(owner_client, account, django_assert_max_num_queries):
    _filtered_zaps_with_deliveries(account)
    few = _hooks_page_queries(owner_client, django_assert_max_num_queries)
    for _ in range(5):
        _filtered_zaps_with_deliveries(account)
    EndpointFactory.create_batch(3, account=account)
    assert _hooks_page_queries(owner_client, django_assert_max_num_queries) == few


def test_first_time_owner_is_told_how_to_get_a_zap(owner_client):
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert "No Zaps yet: turn on a Zap in Zapier that uses a Kartra trigger" in page
    assert reverse("accounts:api_credentials") in page
    assert "No outbound endpoints" in page


def test_owner_with_a_zap_is_not_told_to_turn_one_on(owner_client, account):
    SubscriptionFactory(account=account)
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert "No Zaps yet" not in page and "No outbound endpoints" in page


# The delivery log


def test_delivery_log_links_each_delivery_to_its_lead(owner_client, account, no_wake):
    zap, lead, delivery = _delivered_tag(account)
    page = owner_client.get(reverse("zaphooks:log", args=[zap.pk])).content.decode()
    assert f'<a href="{reverse("leads:lead_detail", args=[lead.pk])}">ada@example.com</a>' in page
    assert reverse("zaphooks:payload", args=[zap.pk, delivery.pk]) in page


def test_delivery_log_shows_an_erased_lead_as_erased(owner_client, account, owner, no_wake):
    zap, lead, _ = _delivered_tag(account)
    data_rights.lead_erase(lead=lead, actor=owner)
    page = owner_client.get(reverse("zaphooks:log", args=[zap.pk])).content.decode()
    assert "erased lead" in page
    assert reverse("leads:lead_detail", args=[lead.pk]) not in page


def test_delivery_log_reads_its_leads_in_one_query(account, no_wake, django_assert_num_queries):
    zap, _, _ = _delivered_tag(account)
    tag = TagFactory(account=account, name="VIP 2")
    zap2 = _zap(account, "assign_tag", {"tag": tag.name})
    for _ in range(4):
        lead_services.lead_tag_assign(lead=LeadFactory(account=account), tag=tag)
    services.events_relay(wake=False)
    with django_assert_num_queries(3):  # deliveries, their attempts, their leads
        deliveries = selectors.delivery_log(subscription=zap2)
    assert len(deliveries) == 4 and all(d.lead.email for d in deliveries)


def test_delivery_log_names_the_trigger_and_the_filtered_asset(owner_client, account, no_wake):
    zap, _, _ = _delivered_tag(account, tag_name="Gold member")
    page = owner_client.get(reverse("zaphooks:log", args=[zap.pk])).content.decode()
    assert LeadAction.ASSIGN_TAG.label in page and "Tag: <strong>Gold member</strong>" in page


# The payload page


def test_payload_page_shows_the_body_that_was_sent_pretty_printed(owner_client, account, no_wake):
    zap, lead, delivery = _delivered_tag(account)
    response = owner_client.get(reverse("zaphooks:payload", args=[zap.pk, delivery.pk]))
    assert response.status_code == 200
    sent = json.loads(delivery.event.body)
    assert response.context["payload"] == json.dumps(sent, indent=2, ensure_ascii=False)
    page = response.content.decode()
    assert '"email": "ada@example.com"' in page.replace("&quot;", '"')
    assert '\n  "action": "assign_tag",' in page.replace("&quot;", '"')


def test_payload_page_escapes_what_the_body_holds(owner_client, account):
    zap = SubscriptionFactory(account=account)
    delivery = DeliveryFactory(subscription=zap, event__body=json.dumps({"note": "<script>alert(1)</script>"}))
    page = owner_client.get(reverse("zaphooks:payload", args=[zap.pk, delivery.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_payload_page_shows_an_erased_leads_payload_as_erased(owner_client, account, owner, no_wake):
    zap, lead, delivery = _delivered_tag(account, email="erase.me@example.com")
    data_rights.lead_erase(lead=lead, actor=owner)
    response = owner_client.get(reverse("zaphooks:payload", args=[zap.pk, delivery.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "the lead's personal data was erased" in page
    assert "erase.me@example.com" not in page


def test_payload_page_of_a_body_no_longer_stored_says_so(owner_client, account):
    zap = SubscriptionFactory(account=account)
    delivery = DeliveryFactory(subscription=zap, event__body="")
    response = owner_client.get(reverse("zaphooks:payload", args=[zap.pk, delivery.pk]))
    assert response.status_code == 200 and "This payload is no longer stored." in response.content.decode()


def test_another_accounts_delivery_payload_is_404(owner_client, account, other_account):
    theirs = DeliveryFactory(subscription=SubscriptionFactory(account=other_account))
    mine = SubscriptionFactory(account=account)
    assert owner_client.get(reverse("zaphooks:payload", args=[theirs.subscription_id, theirs.pk])).status_code == 404
    # Their delivery id under my own subscription is not mine either.
    assert owner_client.get(reverse("zaphooks:payload", args=[mine.pk, theirs.pk])).status_code == 404


@pytest.mark.parametrize("role", ["moderator", "support_agent"])
def test_staff_are_refused_a_payload(client, account, role, request):
    delivery = DeliveryFactory(subscription=SubscriptionFactory(account=account))
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("zaphooks:payload", args=[delivery.subscription_id, delivery.pk])).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in_from_a_payload(client, account):
    delivery = DeliveryFactory(subscription=SubscriptionFactory(account=account))
    response = client.get(reverse("zaphooks:payload", args=[delivery.subscription_id, delivery.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert delivery.event.body not in response.content.decode()
