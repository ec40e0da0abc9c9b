"""POST /api/v1/events: every reportable event through the endpoint, bad input, the gate, tenants."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kartra_integrations.errors import ApplicationError, NotFound
from leads import services
from leads.demo import demo_assets_create
from leads.models import (
    CalendarBooking,
    CalendarClass,
    Form,
    LeadEvent,
    LeadList,
    LeadTag,
    Membership,
    PricePoint,
    Product,
    RecurringSubscription,
    Sequence,
    Tag,
    Transaction,
    Video,
)
from leads.services.platform_events import REPORTABLE_EVENTS, platform_event_record
from tests.conftest import platform_api_client_for
from tests.leads.factories import LeadFactory, TagFactory, VideoFactory

URL = "/api/v1/events"


@pytest.fixture
def demo(account):
    demo_assets_create(account=account)
    return account


def _tomorrow() -> str:
    return (timezone.now() + timedelta(days=1)).replace(microsecond=0).isoformat()


def _course_price_point(account) -> PricePoint:
    return PricePoint.objects.get(product__account=account, product__name="Course", number=1)


def _sale(lead) -> Transaction:
    return services.transaction_sale_record(lead=lead, price_point=_course_price_point(lead.account))


def _recurring_sale(lead) -> Transaction:
    product = Product.objects.get(account=lead.account, name="Course")
    monthly = services.price_point_create(product=product, amount=Decimal("19.00"), recurring=True)
    return services.transaction_sale_record(lead=lead, price_point=monthly)


def _booking(lead) -> CalendarBooking:
    calendar_class = CalendarClass.objects.get(calendar__account=lead.account, name="Intro call")
    return services.lead_calendar_subscribe(
        lead=lead, calendar_class=calendar_class, starts_at=timezone.now() + timedelta(hours=2)
    )


def _subscribed_to_onboarding(lead) -> None:
    services.lead_sequence_subscribe(lead=lead, sequence=Sequence.objects.get(account=lead.account, name="Onboarding"))


# event -> (what the lead must have done before, the event's own fields, the actions it writes)
CASES = {
    "filled_form": (None, lambda ctx: {"form": "Lead magnet"}, ["filled_form", "list_subscription", "assign_tag"]),
    "video_play": (None, lambda ctx: {"video": "Welcome"}, ["video_play"]),
    "video_complete": (None, lambda ctx: {"video": "Welcome"}, ["video_complete"]),
    "tracking_link_click": (None, lambda ctx: {"tracking_link": "Promo"}, ["tracking_link_click"]),
    "kartra_page_visit": (None, lambda ctx: {"page": "Sales page"}, ["kartra_page_visit"]),
    "external_page_visit": (None, lambda ctx: {"url": "https://example.com/landing"}, ["external_page_visit"]),
    "click_page_split_test_link": (
        None,
        lambda ctx: {"split_test_link": "Hero test"},
        ["click_page_split_test_link"],
    ),
    "affiliate_signup": (None, lambda ctx: {"product": "Course"}, ["affiliate_signup"]),
    "jv_signup": (None, lambda ctx: {"product": "Course"}, ["jv_signup"]),
    "membership_granted": (None, lambda ctx: {"membership": "Academy", "level": "Pro"}, ["membership_granted"]),
    "membership_revoked": (
        lambda lead: services.lead_membership_grant(
            lead=lead, level=Membership.objects.get(account=lead.account, name="Academy").levels.get(name="Basic")
        ),
        lambda ctx: {"membership": "Academy"},
        ["membership_revoked"],
    ),
    "buy_product": (None, lambda ctx: {"product": "Course"}, ["buy_product", "membership_granted"]),
    "cancel_subscription": (
        lambda lead: _recurring_sale(lead).recurring_subscription,
        lambda subscription: {"subscription_id": subscription.pk},
        ["cancel_subscription"],
    ),
    "refund_product": (_sale, lambda sale: {"transaction_id": sale.pk}, ["refund_product"]),
    "partial_refund_product": (
        _sale,
        lambda sale: {"transaction_id": sale.pk, "amount": "10.00"},
        ["partial_refund_product"],
    ),
    "sequence_completion": (_subscribed_to_onboarding, lambda ctx: {"sequence": "Onboarding"}, ["sequence_completion"]),
    "calendar_subscribe": (
        None,
        lambda ctx: {"calendar": "Coaching", "class": "Intro call", "starts_at": _tomorrow()},
        ["calendar_subscribe"],
    ),
    "calendar_complete": (_booking, lambda ctx: {"calendar": "Coaching", "class": "Intro call"}, ["calendar_complete"]),
    "calendar_cancel": (_booking, lambda ctx: {"calendar": "Coaching", "class": "Intro call"}, ["calendar_cancel"]),
    "assign_tag": (None, lambda ctx: {"tag": "VIP"}, ["assign_tag"]),
    "unassign_tag": (
        lambda lead: services.lead_tag_assign(lead=lead, tag=Tag.objects.get(account=lead.account, name="VIP")),
        lambda ctx: {"tag": "VIP"},
        ["unassign_tag"],
    ),
    "list_subscription": (None, lambda ctx: {"list": "Newsletter"}, ["list_subscription"]),
    "list_unsubscription": (
        lambda lead: services.lead_list_subscribe(
            lead=lead, lead_list=LeadList.objects.get(account=lead.account, name="Webinar")
        ),
        lambda ctx: {"list": "Webinar"},
        ["list_unsubscription"],
    ),
    "sequence_subscription": (None, lambda ctx: {"sequence": "Onboarding", "step": 2}, ["sequence_subscription"]),
    "sequence_unsubscription": (
        _subscribed_to_onboarding,
        lambda ctx: {"sequence": "Onboarding"},
        ["sequence_unsubscription"],
    ),
}


def test_every_reportable_event_has_a_case():
    assert set(CASES) == set(REPORTABLE_EVENTS)
    assert len(REPORTABLE_EVENTS) == 25  # the 26 actions but reaches_score


@pytest.mark.parametrize("event", sorted(CASES))
def test_event_is_recorded_and_answers_the_ids_it_wrote(demo, platform_api, event):
    lead = LeadFactory(account=demo)
    setup, fields, actions = CASES[event]
    ctx = setup(lead) if setup else None
    before = set(LeadEvent.objects.values_list("id", flat=True))

    response = platform_api.post(URL, {"event": event, "email": lead.email, **fields(ctx)}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "Event recorded"
    written = LeadEvent.objects.exclude(id__in=before)
    assert sorted(body["event_ids"]) == sorted(str(pk) for pk in written.values_list("id", flat=True))
    by_id = {str(row.id): row for row in written}
    assert [by_id[pk].action for pk in body["event_ids"]] == actions
    assert all(by_id[pk].lead_id == lead.pk for pk in body["event_ids"])


def test_buy_product_answers_the_sale_transaction_id(demo, platform_api):
    lead = LeadFactory(account=demo)
    response = platform_api.post(URL, {"event": "buy_product", "email": lead.email, "product": "Course"}, format="json")
    sale = Transaction.objects.get(lead=lead)
    assert response.json()["transaction_id"] == sale.pk
    assert (sale.kind, sale.price_point.number, sale.amount) == ("sale", 1, Decimal("99.00"))


def test_buy_product_takes_price_point_quantity_and_amount(demo, platform_api):
    lead = LeadFactory(account=demo)
    product = Product.objects.get(account=demo, name="Course")
    services.price_point_create(product=product, amount=Decimal("49.00"))
    body = {"event": "buy_product", "email": lead.email, "product": product.pk, "price_point": 2, "quantity": 3}
    platform_api.post(URL, {**body, "amount": "120.00"}, format="json")
    sale = Transaction.objects.get(lead=lead)
    assert (sale.price_point.number, sale.quantity, sale.amount) == (2, 3, Decimal("120.00"))


def test_buy_product_with_a_missing_price_point_is_a_field_error(demo, platform_api):
    lead = LeadFactory(account=demo)
    body = {"event": "buy_product", "email": lead.email, "product": "Course", "price_point": 7}
    response = platform_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "price_point_not_found"
    assert "price_point" in response.json()["fields"]
    assert not Transaction.objects.exists()


def test_assets_may_be_named_by_id(demo, platform_api):
    lead = LeadFactory(account=demo)
    video = Video.objects.get(account=demo, name="Welcome")
    response = platform_api.post(URL, {"event": "video_play", "email": lead.email, "video": video.pk}, format="json")
    assert response.status_code == 200
    assert LeadEvent.objects.get().details == {"video": {"video_id": video.pk, "video_name": "Welcome"}}


def test_lead_may_be_named_by_lead_id(demo, platform_api):
    lead = LeadFactory(account=demo)
    response = platform_api.post(URL, {"event": "assign_tag", "lead_id": lead.pk, "tag": "VIP"}, format="json")
    assert response.status_code == 200
    assert LeadTag.objects.filter(lead=lead, tag__name="VIP").exists()


def test_lead_email_is_matched_case_insensitively(demo, platform_api):
    lead = LeadFactory(account=demo, email="Ada@Example.com")
    response = platform_api.post(URL, {"event": "assign_tag", "email": "ada@EXAMPLE.com", "tag": "VIP"}, format="json")
    assert response.status_code == 200
    assert LeadTag.objects.filter(lead=lead).exists()


def test_a_change_that_changes_nothing_answers_no_event_ids(demo, platform_api):
    lead = LeadFactory(account=demo)
    body = {"event": "assign_tag", "email": lead.email, "tag": "VIP"}
    platform_api.post(URL, body, format="json")
    response = platform_api.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json() == {"message": "Event recorded", "event_ids": []}
    assert LeadEvent.objects.count() == 1


def test_calendar_complete_reported_twice_completes_once(demo, platform_api):
    lead = LeadFactory(account=demo)
    _booking(lead)
    body = {"event": "calendar_complete", "email": lead.email, "calendar": "Coaching", "class": "Intro call"}
    assert len(platform_api.post(URL, body, format="json").json()["event_ids"]) == 1
    assert platform_api.post(URL, body, format="json").json()["event_ids"] == []


def test_calendar_complete_without_a_booking_is_refused(demo, platform_api):
    lead = LeadFactory(account=demo)
    body = {"event": "calendar_complete", "email": lead.email, "calendar": "Coaching", "class": "Intro call"}
    response = platform_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "booking_not_found"


def test_cancel_subscription_by_product_cancels_the_leads_active_subscriptions(demo, platform_api):
    lead = LeadFactory(account=demo)
    subscription = _recurring_sale(lead).recurring_subscription
    response = platform_api.post(
        URL, {"event": "cancel_subscription", "email": lead.email, "product": "Course"}, format="json"
    )
    assert len(response.json()["event_ids"]) == 1
    subscription.refresh_from_db()
    assert subscription.status == RecurringSubscription.Status.CANCELLED


def test_cancel_subscription_without_id_or_product_is_a_field_error(demo, platform_api):
    lead = LeadFactory(account=demo)
    response = platform_api.post(URL, {"event": "cancel_subscription", "email": lead.email}, format="json")
    assert response.status_code == 400
    assert "subscription_id" in response.json()["fields"]


def test_refund_of_another_leads_sale_is_refused(demo, platform_api):
    buyer, other = LeadFactory(account=demo), LeadFactory(account=demo)
    sale = _sale(buyer)
    response = platform_api.post(
        URL, {"event": "refund_product", "email": other.email, "transaction_id": sale.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "transaction_not_found"
    assert not Transaction.objects.exclude(pk=sale.pk).exists()


def test_partial_refund_beyond_what_is_left_is_refused_and_writes_nothing(demo, platform_api):
    lead = LeadFactory(account=demo)
    sale = _sale(lead)
    before = LeadEvent.objects.count()
    body = {"event": "partial_refund_product", "email": lead.email, "transaction_id": sale.pk, "amount": "150.00"}
    response = platform_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "refund_exceeds_remaining"
    assert LeadEvent.objects.count() == before


def test_partial_refund_needs_an_amount(demo, platform_api):
    lead = LeadFactory(account=demo)
    sale = _sale(lead)
    body = {"event": "partial_refund_product", "email": lead.email, "transaction_id": sale.pk}
    response = platform_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert "amount" in response.json()["fields"]


def test_event_is_one_transaction_a_failing_step_leaves_nothing(demo, other_account, platform_api):
    lead = LeadFactory(account=demo)
    form = Form.objects.get(account=demo, name="Lead magnet")
    # A form wrongly linked to another account's tag: the tag step fails after filled_form was written.
    form.tags.add(TagFactory(account=other_account))
    response = platform_api.post(
        URL, {"event": "filled_form", "email": lead.email, "form": "Lead magnet"}, format="json"
    )
    assert response.status_code == 404
    assert not LeadEvent.objects.exists()
    assert not lead.list_subscriptions.exists()


# Bad input


def test_reaches_score_is_not_reportable(demo, platform_api):
    lead = LeadFactory(account=demo)
    response = platform_api.post(URL, {"event": "reaches_score", "email": lead.email, "score": 50}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "event_not_reportable"
    assert "points" in body["message"]
    assert "event" in body["fields"]


def test_unknown_event_is_a_field_error(demo, platform_api):
    lead = LeadFactory(account=demo)
    response = platform_api.post(URL, {"event": "lead_sneezed", "email": lead.email}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "event" in response.json()["fields"]


def test_missing_event_fields_are_reported_by_field(demo, platform_api):
    lead = LeadFactory(account=demo)
    response = platform_api.post(
        URL, {"event": "calendar_subscribe", "email": lead.email, "calendar": "Coaching"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"class", "starts_at"}


def test_invalid_values_are_reported_by_field(demo, platform_api):
    response = platform_api.post(
        URL, {"event": "external_page_visit", "email": "not-an-email", "url": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email", "url"}
    assert not LeadEvent.objects.exists()


def test_sequence_step_must_be_positive(demo, platform_api):
    lead = LeadFactory(account=demo)
    body = {"event": "sequence_subscription", "email": lead.email, "sequence": "Onboarding", "step": 0}
    response = platform_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert "step" in response.json()["fields"]


def test_an_event_needs_the_lead(demo, platform_api):
    response = platform_api.post(URL, {"event": "video_play", "video": "Welcome"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["fields"]


def test_a_body_that_is_not_an_object_is_400(platform_api):
    response = platform_api.post(URL, ["video_play"], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_unknown_lead_is_404_no_lead_found(demo, platform_api):
    response = platform_api.post(
        URL, {"event": "video_play", "email": "nobody@example.com", "video": "Welcome"}, format="json"
    )
    assert response.status_code == 404
    assert response.json() == {"message": "No lead found", "code": "lead_not_found"}


def test_lead_id_and_email_of_different_leads_is_404(demo, platform_api):
    lead, other = LeadFactory(account=demo), LeadFactory(account=demo)
    body = {"event": "video_play", "lead_id": lead.pk, "email": other.email, "video": "Welcome"}
    assert platform_api.post(URL, body, format="json").status_code == 404


def test_unknown_asset_is_a_field_error_and_writes_nothing(demo, platform_api):
    lead = LeadFactory(account=demo)
    response = platform_api.post(URL, {"event": "assign_tag", "email": lead.email, "tag": "Nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "tag_not_found"
    assert response.json()["fields"] == {"tag": ['Tag "Nope" does not exist']}
    assert not LeadEvent.objects.exists()


# Tenant isolation and the gate


def test_lead_of_another_account_is_not_found_by_email_or_id(demo, other_account, platform_api):
    stranger = LeadFactory(account=other_account)
    for who in ({"email": stranger.email}, {"lead_id": stranger.pk}):
        response = platform_api.post(URL, {"event": "video_play", "video": "Welcome", **who}, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "lead_not_found"
    assert not LeadEvent.objects.exists()


@pytest.mark.parametrize("by", ["name", "id"])
def test_asset_of_another_account_is_not_found_by_name_or_id(demo, other_account, platform_api, by):
    lead = LeadFactory(account=demo)
    foreign = VideoFactory(account=other_account, name="Secret video")
    ref = foreign.name if by == "name" else foreign.pk
    response = platform_api.post(URL, {"event": "video_play", "email": lead.email, "video": ref}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "video_not_found"
    assert not LeadEvent.objects.exists()


def test_sale_of_another_account_cannot_be_refunded(demo, other_account, platform_api):
    demo_assets_create(account=other_account)
    stranger_sale = _sale(LeadFactory(account=other_account))
    lead = LeadFactory(account=demo)
    body = {"event": "refund_product", "email": lead.email, "transaction_id": stranger_sale.pk}
    response = platform_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "transaction_not_found"
    assert Transaction.objects.count() == 1


def test_events_without_credentials_are_401(demo):
    response = APIClient().post(URL, {"event": "video_play", "email": "a@example.com"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_events_for_an_account_not_activated_are_403(pending_account):
    lead = LeadFactory(account=pending_account)
    response = platform_api_client_for(pending_account).post(
        URL, {"event": "video_play", "email": lead.email, "video": "x"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "zapier_not_activated"
    assert not LeadEvent.objects.exists()


def test_events_refuse_the_zapier_credential_and_write_nothing(demo, api):
    lead = LeadFactory(account=demo)
    body = {"event": "buy_product", "email": lead.email, "product": "Course"}
    response = api.post(URL, body, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "message": "POST /api/v1/events takes the account's platform events credential, not the API key and "
        "password used by Zapier",
        "code": "wrong_credential_kind",
    }
    assert not Transaction.objects.exists()
    assert not LeadEvent.objects.exists()


def test_events_refuse_another_accounts_platform_credential_for_this_accounts_lead(demo, other_account):
    lead = LeadFactory(account=demo)
    body = {"event": "video_play", "email": lead.email, "video": "Welcome"}
    response = platform_api_client_for(other_account).post(URL, body, format="json")
    assert response.status_code == 404
    assert not LeadEvent.objects.exists()


def test_events_only_accept_post(platform_api):
    assert platform_api.get(URL).status_code == 405


# The service itself


def test_platform_event_record_refuses_a_lead_of_another_account(demo, other_account):
    with pytest.raises(NotFound):
        platform_event_record(
            account=demo, event="video_play", lead=LeadFactory(account=other_account), video="Welcome"
        )
    assert not LeadEvent.objects.exists()


def test_platform_event_record_refuses_reaches_score(demo):
    with pytest.raises(ApplicationError) as refused:
        platform_event_record(account=demo, event="reaches_score", lead=LeadFactory(account=demo))
    assert refused.value.code == "event_not_reportable"
