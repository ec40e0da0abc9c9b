from datetime import UTC, datetime

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from zaphooks.models import Delivery, DeliveryState, SigningSecret, Subscription, SubscriptionKind, SubscriptionState

from .factories import DeliveryFactory, EndpointFactory, FailedDeliveryFactory, SubscriptionFactory


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_owner_sees_their_zaps_with_masked_target_and_success_rate(owner_client, account, other_account):
    mine = SubscriptionFactory(account=account, target_url="https://hooks.zapier.com/hooks/standard/123/abcdef")
    DeliveryFactory(subscription=mine, state=DeliveryState.SUCCEEDED)
    DeliveryFactory(subscription=mine, state=DeliveryState.FAILED)
    SubscriptionFactory(account=other_account, target_url="https://theirs.example.com/secret-path")
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert "https://hooks.zapier.com/…cdef" in page
    assert "abcdef" not in page.replace("…cdef", "")
    assert "50%" in page
    assert "theirs.example.com" not in page


def test_settings_page_shows_the_signing_secret_and_rotation_adds_one(owner_client, account):
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    secret = SigningSecret.objects.get(account=account).secret
    assert secret in page
    owner_client.post(reverse("zaphooks:secret_rotate"))
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert secret in page and "Previous" in page
    assert SigningSecret.objects.filter(account=account).count() == 2


def test_owner_adds_an_endpoint_with_ticked_events(owner_client, account):
    response = owner_client.post(
        reverse("zaphooks:hooks"), {"target_url": "https://example.com/in", "events": ["assign_tag", "buy_product"]}
    )
    assert response.status_code == 302
    endpoint = Subscription.objects.get(account=account, kind=SubscriptionKind.ENDPOINT)
    assert endpoint.events == ["assign_tag", "buy_product"]


@override_settings(HOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_endpoint_with_a_private_target_shows_a_form_error(owner_client, account):
    response = owner_client.post(
        reverse("zaphooks:hooks"), {"target_url": "https://10.0.0.1/in", "events": ["assign_tag"]}
    )
    assert response.status_code == 200
    assert "public internet addresses" in response.content.decode()
    assert not Subscription.objects.filter(account=account).exists()


def test_delivery_log_shows_every_attempt(owner_client, account):
    from django.utils import timezone

    delivery = DeliveryFactory(subscription=SubscriptionFactory(account=account), state=DeliveryState.PENDING)
    delivery.attempt_log.create(
        attempted_at=timezone.now(),
        status_code=503,
        duration_ms=42,
        response_start="upstream down",
        next_attempt_at=timezone.now(),
    )
    page = owner_client.get(reverse("zaphooks:log", args=[delivery.subscription_id])).content.decode()
    assert "503" in page and "42 ms" in page and "upstream down" in page and "next" in page


def test_replay_one_delivery_from_the_log(owner_client, account):
    delivery = DeliveryFactory(subscription=SubscriptionFactory(account=account), state=DeliveryState.FAILED)
    owner_client.post(reverse("zaphooks:replay", args=[delivery.subscription_id]), {"delivery_id": delivery.pk})
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING


def test_replay_of_a_malformed_delivery_id_is_refused_with_a_message(owner_client, account):
    subscription = SubscriptionFactory(account=account)
    response = owner_client.post(reverse("zaphooks:replay", args=[subscription.pk]), {"delivery_id": "abc"})
    assert response.status_code == 400 and "That delivery is not in this log." in response.content.decode()


@pytest.mark.parametrize("delivery_id", ["²", "١", "9" * 40])
def test_replay_of_a_unicode_digit_or_out_of_range_delivery_id_is_refused(owner_client, account, delivery_id):
    subscription = SubscriptionFactory(account=account)
    response = owner_client.post(reverse("zaphooks:replay", args=[subscription.pk]), {"delivery_id": delivery_id})
    assert response.status_code == 400 and "That delivery is not in this log." in response.content.decode()


def test_replay_range_form_rejects_an_inverted_range(owner_client, account):
    subscription = SubscriptionFactory(account=account)
    response = owner_client.post(
        reverse("zaphooks:replay", args=[subscription.pk]), {"since": "2026-01-02T00:00", "until": "2026-01-01T00:00"}
    )
    assert response.status_code == 400 and "end must come after the start" in response.content.decode()


def test_replay_range_is_read_in_the_accounts_time_zone(owner_client, account):
    account.timezone = "America/New_York"  # UTC-5 in January
    account.save(update_fields=["timezone"])
    subscription = SubscriptionFactory(account=account)
    inside = DeliveryFactory(
        subscription=subscription, state=DeliveryState.FAILED, created_at=datetime(2026, 1, 1, 15, 30, tzinfo=UTC)
    )
    before = DeliveryFactory(
        subscription=subscription, state=DeliveryState.FAILED, created_at=datetime(2026, 1, 1, 13, 30, tzinfo=UTC)
    )
    owner_client.post(
        reverse("zaphooks:replay", args=[subscription.pk]), {"since": "2026-01-01T10:00", "until": "2026-01-01T11:00"}
    )
    inside.refresh_from_db()
    before.refresh_from_db()
    assert (inside.state, before.state) == (DeliveryState.PENDING, DeliveryState.FAILED)


def test_log_page_names_the_accounts_time_zone(owner_client, account):
    account.timezone = "Europe/Berlin"
    account.save(update_fields=["timezone"])
    page = owner_client.get(reverse("zaphooks:log", args=[SubscriptionFactory(account=account).pk])).content.decode()
    assert "From (Europe/Berlin)" in page and "time in Europe/Berlin" in page


def test_reenable_a_disabled_subscription(owner_client, account):
    subscription = SubscriptionFactory(account=account, state=SubscriptionState.DISABLED)
    owner_client.post(reverse("zaphooks:state", args=[subscription.pk]), {"action": "enable"})
    subscription.refresh_from_db()
    assert subscription.state == SubscriptionState.ACTIVE


def test_another_owners_log_and_actions_are_404(owner_client, other_account):
    theirs = DeliveryFactory(subscription=SubscriptionFactory(account=other_account), state=DeliveryState.FAILED)
    assert owner_client.get(reverse("zaphooks:log", args=[theirs.subscription_id])).status_code == 404
    assert (
        owner_client.post(
            reverse("zaphooks:replay", args=[theirs.subscription_id]), {"delivery_id": theirs.pk}
        ).status_code
        == 404
    )
    assert (
        owner_client.post(reverse("zaphooks:state", args=[theirs.subscription_id]), {"action": "disable"}).status_code
        == 404
    )
    assert Delivery.objects.get(pk=theirs.pk).state == DeliveryState.FAILED


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(reverse("zaphooks:hooks")).status_code == 302
    assert client.get(reverse("zaphooks:health")).status_code == 302


def test_health_page_is_for_moderators_only(client, moderator, support_agent, owner, account):
    DeliveryFactory(subscription=SubscriptionFactory(account=account), state=DeliveryState.FAILED)
    client.force_login(moderator)
    page = client.get(reverse("zaphooks:health"))
    assert page.status_code == 200 and account.name in page.content.decode()
    for user in (support_agent, owner):
        client.force_login(user)
        assert client.get(reverse("zaphooks:health")).status_code == 403


def test_staff_without_an_account_cannot_open_owner_pages(client, moderator):
    client.force_login(moderator)
    assert client.get(reverse("zaphooks:hooks")).status_code == 403


def test_owner_without_subscriptions_is_told_how_to_get_one(owner_client):
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert "No Zaps yet: turn on a Zap in Zapier that uses a Kartra trigger" in page


def test_endpoint_without_ticked_events_shows_the_error_on_the_events_field(owner_client, account):
    response = owner_client.post(reverse("zaphooks:hooks"), {"target_url": "https://example.com/in"})
    assert response.context["form"].errors == {"events": ["Tick at least one event."]}
    assert not Subscription.objects.filter(account=account).exists()


# Editing an endpoint


def test_edit_page_shows_the_endpoints_url_and_ticked_events(owner_client, account):
    endpoint = EndpointFactory(account=account, events=["filled_form"])
    response = owner_client.get(reverse("zaphooks:endpoint_edit", args=[endpoint.pk]))
    form = response.context["form"]
    assert form["target_url"].value() == endpoint.target_url
    assert form["events"].value() == ["filled_form"]


def test_owner_edits_an_endpoints_url_and_events(owner_client, account):
    endpoint = EndpointFactory(account=account)
    response = owner_client.post(
        reverse("zaphooks:endpoint_edit", args=[endpoint.pk]),
        {"target_url": "https://crm.example.com/v2", "events": ["filled_form"]},
    )
    assert response.status_code == 302 and response["Location"] == reverse("zaphooks:hooks")
    endpoint.refresh_from_db()
    assert endpoint.target_url == "https://crm.example.com/v2" and endpoint.events == ["filled_form"]


@override_settings(HOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_edit_to_a_private_target_shows_the_error_on_the_url_field(owner_client, account):
    endpoint = EndpointFactory(account=account)
    response = owner_client.post(
        reverse("zaphooks:endpoint_edit", args=[endpoint.pk]),
        {"target_url": "https://10.0.0.1/in", "events": ["assign_tag"]},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "target_url": ["The target URL must resolve only to public internet addresses."]
    }
    endpoint.refresh_from_db()
    assert endpoint.target_url != "https://10.0.0.1/in"


def test_edit_without_ticked_events_shows_the_error_on_the_events_field(owner_client, account):
    endpoint = EndpointFactory(account=account)
    response = owner_client.post(
        reverse("zaphooks:endpoint_edit", args=[endpoint.pk]), {"target_url": endpoint.target_url}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"events": ["Tick at least one event."]}


def test_edit_refuses_a_post_without_csrf_token(owner, account):
    endpoint = EndpointFactory(account=account)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(
        reverse("zaphooks:endpoint_edit", args=[endpoint.pk]),
        {"target_url": "https://crm.example.com/v2", "events": ["filled_form"]},
    )
    assert response.status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.target_url != "https://crm.example.com/v2"


def test_only_endpoints_are_offered_for_editing(owner_client, account):
    zap = SubscriptionFactory(account=account)
    endpoint = EndpointFactory(account=account)
    page = owner_client.get(reverse("zaphooks:hooks")).content.decode()
    assert reverse("zaphooks:endpoint_edit", args=[endpoint.pk]) in page
    assert reverse("zaphooks:endpoint_edit", args=[zap.pk]) not in page


def test_a_zaps_edit_page_is_404(owner_client, account):
    zap = SubscriptionFactory(account=account)
    assert owner_client.get(reverse("zaphooks:endpoint_edit", args=[zap.pk])).status_code == 404
    response = owner_client.post(
        reverse("zaphooks:endpoint_edit", args=[zap.pk]), {"target_url": "https://x.example/", "events": ["assign_tag"]}
    )
    assert response.status_code == 404


def test_another_owners_endpoint_edit_is_404_and_changes_nothing(owner_client, other_account):
    theirs = EndpointFactory(account=other_account)
    assert owner_client.get(reverse("zaphooks:endpoint_edit", args=[theirs.pk])).status_code == 404
    response = owner_client.post(
        reverse("zaphooks:endpoint_edit", args=[theirs.pk]),
        {"target_url": "https://evil.example.com/", "events": ["assign_tag"]},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.target_url != "https://evil.example.com/"


@pytest.mark.parametrize("role", ["moderator", "support_agent"])
def test_staff_cannot_edit_an_endpoint(client, request, role, account):
    endpoint = EndpointFactory(account=account)
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("zaphooks:endpoint_edit", args=[endpoint.pk])).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in_from_the_edit_page(client, account):
    endpoint = EndpointFactory(account=account)
    response = client.get(reverse("zaphooks:endpoint_edit", args=[endpoint.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_zap_cannot_be_deleted_from_the_page(owner_client, account):
    zap = SubscriptionFactory(account=account)
    response = owner_client.post(reverse("zaphooks:state", args=[zap.pk]), {"action": "delete"})
    assert response.status_code == 404
    zap.refresh_from_db()
    assert zap.state == SubscriptionState.ACTIVE


def test_owner_deletes_an_endpoint_from_its_log(owner_client, account):
    endpoint = EndpointFactory(account=account)
    response = owner_client.post(reverse("zaphooks:state", args=[endpoint.pk]), {"action": "delete"})
    assert response["Location"] == reverse("zaphooks:hooks")
    endpoint.refresh_from_db()
    assert endpoint.state == SubscriptionState.DELETED


def test_log_of_a_disabled_subscription_offers_re_enabling_instead_of_replay(owner_client, account):
    delivery = FailedDeliveryFactory(
        subscription=SubscriptionFactory(account=account, state=SubscriptionState.DISABLED)
    )
    page = owner_client.get(reverse("zaphooks:log", args=[delivery.subscription_id])).content.decode()
    assert "Re-enable it above to replay its deliveries." in page
    assert ">Replay failed</button>" not in page and ">Replay</button>" not in page
