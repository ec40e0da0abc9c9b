"""The hook pages in headless Chromium: what an owner and a moderator see and do, and who is kept out."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import services as lead_services
from leads.models import LeadAction
from tests.accounts.factories import ActivatedAccountFactory
from tests.leads.factories import LeadFactory, TagFactory
from zaphooks import services
from zaphooks.models import Delivery, DeliveryState, Subscription, SubscriptionKind, SubscriptionState

from .factories import DeliveryFactory, EndpointFactory, FailedDeliveryFactory, SubscriptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def url(live_server):
    def for_view(name: str, *args) -> str:
        return live_server.url + reverse(name, args=args)

    return for_view


@pytest.fixture
def dispatcher_wakes(monkeypatch):
    """Replays wake the dispatcher after commit; record the wake-ups instead (no worker runs here)."""
    wakes = []
    monkeypatch.setattr("zaphooks.delivery.wake_dispatcher", lambda *args, **kwargs: wakes.append(args))
    return wakes


def _delivery_row(page, delivery):
    return page.locator("#deliveries tbody tr", has_text=str(delivery.event_id))


def _datetime_local(value) -> str:
    return f"{value:%Y-%m-%dT%H:%M}"


def test_owner_adds_an_endpoint_and_sees_it_listed_with_a_masked_target(log_in, url, account):
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:hooks"))
    page.get_by_label("Endpoint URL").fill("https://crm.example.com/kartra/inbound-7f3a")
    page.get_by_label("Lead Is Assigned Tag (assign_tag)").check()
    page.get_by_label("Customer Buys Product (buy_product)").check()
    page.get_by_role("button", name="Add endpoint").click()

    page.get_by_text("Endpoint added.").wait_for()
    row = page.locator("#subscriptions tbody tr", has_text="Outbound endpoint")
    assert "https://crm.example.com/…7f3a" in row.inner_text()
    assert "inbound" not in row.inner_text()
    endpoint = Subscription.objects.get(account=account, kind=SubscriptionKind.ENDPOINT)
    assert endpoint.target_url == "https://crm.example.com/kartra/inbound-7f3a"
    assert endpoint.events == ["assign_tag", "buy_product"]


def test_owner_edits_an_endpoints_url_and_events(log_in, url, account):
    endpoint = EndpointFactory(account=account, events=["assign_tag"])
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:hooks"))
    page.locator("#subscriptions tbody tr", has_text="Outbound endpoint").get_by_role("link", name="Edit").click()
    assert page.get_by_label("Endpoint URL").input_value() == endpoint.target_url
    assert page.get_by_label("Lead Is Assigned Tag (assign_tag)").is_checked()
    page.get_by_label("Endpoint URL").fill("https://erp.example.com/hooks/kartra-99ab")
    page.get_by_label("Lead Is Assigned Tag (assign_tag)").uncheck()
    page.get_by_label("Lead fills opt-in form (filled_form)").check()
    page.get_by_role("button", name="Save endpoint").click()

    page.get_by_text("Endpoint saved.").wait_for()
    row = page.locator("#subscriptions tbody tr", has_text="Outbound endpoint")
    assert "https://erp.example.com/…99ab" in row.inner_text()
    assert row.locator(".trigger").inner_text() == LeadAction.FILLED_FORM.label
    endpoint.refresh_from_db()
    assert endpoint.target_url == "https://erp.example.com/hooks/kartra-99ab"
    assert endpoint.events == ["filled_form"]


def test_owner_deletes_an_endpoint_after_confirming(log_in, url, account):
    endpoint = EndpointFactory(account=account)
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:log", endpoint.pk))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()

    page.get_by_text("Endpoint deleted.").wait_for()
    endpoint.refresh_from_db()
    assert endpoint.state == SubscriptionState.DELETED


def test_owner_who_cancels_the_confirmation_keeps_the_endpoint(log_in, url, account):
    endpoint = EndpointFactory(account=account)
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:log", endpoint.pk))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete").click()

    assert page.url.endswith(reverse("zaphooks:log", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.state == SubscriptionState.ACTIVE


def test_owner_who_unticks_every_event_sees_the_error_by_the_events(log_in, url, account):
    endpoint = EndpointFactory(account=account, events=["assign_tag"])
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:endpoint_edit", endpoint.pk))
    page.get_by_label("Lead Is Assigned Tag (assign_tag)").uncheck()
    page.get_by_role("button", name="Save endpoint").click()

    events = page.get_by_role("group", name="Events to send")
    events.get_by_text("Tick at least one event.").wait_for()
    endpoint.refresh_from_db()
    assert endpoint.events == ["assign_tag"]


def test_owner_replays_one_failed_delivery_from_its_log(log_in, url, account, dispatcher_wakes):
    zap = SubscriptionFactory(account=account)
    failed = FailedDeliveryFactory(subscription=zap)
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:hooks"))
    page.locator("#subscriptions tbody tr", has_text="Zap").get_by_role("link", name="Delivery log").click()
    row = _delivery_row(page, failed)
    assert "503" in row.inner_text() and "Service Unavailable" in row.inner_text()
    row.get_by_role("button", name="Replay").click()

    page.get_by_text("1 delivery queued again.").wait_for()
    failed.refresh_from_db()
    assert failed.state == DeliveryState.PENDING and failed.attempts == 0
    assert failed.next_attempt_at <= timezone.now()
    assert len(dispatcher_wakes) == 1
    assert _delivery_row(page, failed).locator(".badge").inner_text() == "Pending"


def test_owner_replays_the_failed_deliveries_of_a_time_range(log_in, url, account, dispatcher_wakes):
    zap = SubscriptionFactory(account=account)
    start = (timezone.now() - timedelta(days=3)).replace(second=0, microsecond=0)
    before = FailedDeliveryFactory(subscription=zap, created_at=start - timedelta(hours=1))
    inside = [FailedDeliveryFactory(subscription=zap, created_at=start + timedelta(hours=h)) for h in (1, 5)]
    delivered = DeliveryFactory(subscription=zap, state=DeliveryState.SUCCEEDED, created_at=start + timedelta(hours=2))
    after = FailedDeliveryFactory(subscription=zap, created_at=start + timedelta(days=1, hours=1))
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:log", zap.pk))
    page.get_by_label("From (UTC)").fill(_datetime_local(start))
    page.get_by_label("To (UTC)").fill(_datetime_local(start + timedelta(days=1)))
    page.get_by_role("button", name="Replay failed").click()

    page.get_by_text("2 deliveries queued again.").wait_for()
    states = dict(Delivery.objects.filter(subscription=zap).values_list("pk", "state"))
    assert {states[d.pk] for d in inside} == {DeliveryState.PENDING}
    assert states[before.pk] == states[after.pk] == DeliveryState.FAILED
    assert states[delivered.pk] == DeliveryState.SUCCEEDED
    assert len(dispatcher_wakes) == 1


def test_owner_re_enables_a_disabled_subscription(log_in, url, account):
    zap = SubscriptionFactory(
        account=account,
        state=SubscriptionState.DISABLED,
        disabled_at=timezone.now(),
        disabled_reason="Every attempt failed for a day",
    )
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:log", zap.pk))
    assert page.get_by_text("Every attempt failed for a day").is_visible()
    page.get_by_role("button", name="Re-enable").click()

    page.get_by_text("Re-enabled.").wait_for()
    assert page.locator("dl.facts .badge").inner_text() == "Active"
    assert page.get_by_role("button", name="Replay failed").is_visible()
    zap.refresh_from_db()
    assert zap.state == SubscriptionState.ACTIVE and zap.disabled_reason == ""


def test_owner_whose_access_was_revoked_cannot_re_enable_and_is_told_why(log_in, url, account, moderator):
    from approvals.services import account_revoke

    zap = SubscriptionFactory(account=account)
    account_revoke(actor=moderator, account=account, reason="abuse_reported")
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:hooks"))
    assert page.locator("#no-access").is_visible()
    page.goto(url("zaphooks:log", zap.pk))
    page.get_by_role("button", name="Re-enable").click()

    page.locator(".messages .error", has_text="Zapier access is not activated for this account").wait_for()
    assert page.locator("dl.facts .badge").inner_text() == "Disabled"
    zap.refresh_from_db()
    assert zap.state == SubscriptionState.DISABLED


def test_moderator_sees_delivery_health_across_accounts(log_in, url, moderator):
    struggling = ActivatedAccountFactory(name="Acme Academy")
    zap = SubscriptionFactory(account=struggling)
    FailedDeliveryFactory.create_batch(3, subscription=zap)
    DeliveryFactory(subscription=zap, state=DeliveryState.SUCCEEDED)
    SubscriptionFactory(account=struggling, state=SubscriptionState.DISABLED)
    DeliveryFactory(subscription=SubscriptionFactory(account__name="Bright Bakery"), state=DeliveryState.SUCCEEDED)
    page = log_in(moderator.email)
    page.get_by_role("link", name="Delivery health").click()

    rows = page.locator("#health tbody tr")
    cells = rows.nth(0).locator("td").all_inner_texts()  # worst first
    assert cells == ["Acme Academy", "1", "3", "0", "25%", "1"]
    assert rows.nth(1).locator("td").all_inner_texts() == ["Bright Bakery", "1", "0", "0", "100%", "0"]


@pytest.mark.parametrize("view", ["zaphooks:log", "zaphooks:endpoint_edit"])
def test_another_accounts_owner_gets_not_found(log_in, url, account, other_account, view):
    theirs = EndpointFactory(account=other_account)
    FailedDeliveryFactory(subscription=theirs)
    page = log_in(account.owner.email)
    response = page.goto(url(view, theirs.pk))
    assert response.status == 404
    assert theirs.target_url not in page.content()


def test_another_accounts_owner_does_not_see_the_subscriptions(log_in, url, account, other_account):
    EndpointFactory(account=other_account, target_url="https://theirs.example.com/private-hook")
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:hooks"))
    assert page.locator("#no-zaps").is_visible() and page.locator("#no-endpoints").is_visible()
    assert "theirs.example.com" not in page.content()


def test_an_owner_is_refused_delivery_health(log_in, url, account):
    page = log_in(account.owner.email)
    assert page.get_by_role("link", name="Delivery health").count() == 0
    assert page.goto(url("zaphooks:health")).status == 403


def test_a_moderator_is_refused_an_owners_hook_pages(log_in, url, account, moderator):
    zap = SubscriptionFactory(account=account)
    page = log_in(moderator.email)
    assert page.goto(url("zaphooks:log", zap.pk)).status == 403


def test_owner_reads_a_zaps_trigger_filter_and_last_delivery_then_opens_its_payload(log_in, url, account):
    account.timezone = "Europe/Berlin"
    account.save(update_fields=["timezone"])
    tag = TagFactory(account=account, name="Webinar attendee")
    zap = services.subscription_create(
        account=account, event="assign_tag", target_url="https://hooks.zapier.com/hooks/1/x", filter={"tag": tag.pk}
    )
    lead = LeadFactory(account=account, email="grace@example.com")
    lead_services.lead_tag_assign(lead=lead, tag=tag)
    services.events_relay(wake=False)
    Delivery.objects.filter(subscription=zap).update(
        state=DeliveryState.SUCCEEDED, last_status_code=200, finished_at=timezone.now()
    )
    page = log_in(account.owner.email)
    page.goto(url("zaphooks:hooks"))

    row = page.locator("#subscriptions tbody tr", has_text="Zap")
    assert row.locator(".trigger").inner_text() == LeadAction.ASSIGN_TAG.label
    assert row.locator(".filter").inner_text() == "Tag: Webinar attendee"
    last = row.locator(".last-delivery").inner_text()
    assert "Succeeded" in last and "HTTP 200" in last
    assert any(zone in last for zone in ("CET", "CEST"))
    assert page.locator("#no-zaps").count() == 0

    row.get_by_role("link", name="Delivery log").click()
    delivery_row = page.locator("#deliveries tbody tr").first
    assert delivery_row.get_by_role("link", name="grace@example.com").get_attribute("href") == reverse(
        "leads:lead_detail", args=[lead.pk]
    )
    delivery_row.get_by_role("link", name="Payload").click()

    body = page.locator("#payload pre").inner_text()
    assert '"email": "grace@example.com"' in body and '"tag_name": "Webinar attendee"' in body
    assert body.startswith("{\n  ")  # indented for reading
    page.get_by_role("link", name="← Delivery log").click()
    page.wait_for_url(url("zaphooks:log", zap.pk))


def test_another_accounts_payload_is_not_found_in_the_browser(log_in, url, account, other_account):
    theirs = FailedDeliveryFactory(subscription=SubscriptionFactory(account=other_account))
    page = log_in(account.owner.email)
    response = page.goto(url("zaphooks:payload", theirs.subscription_id, theirs.pk))
    assert response.status == 404
    assert theirs.event.body not in page.content()
