"""POST /api/v1/actions/{command}: each command's success, no-op, refusals and bad input."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from leads.models import (
    CalendarBooking,
    CustomField,
    GdprStatus,
    Lead,
    LeadTag,
    ListSubscription,
    PointsChange,
    RecurringSubscription,
    SequenceSubscription,
    Transaction,
)
from leads.services import (
    GDPR_NOT_SETTABLE_MESSAGE,
    lead_calendar_subscribe,
    lead_list_subscribe,
    lead_sequence_subscribe,
    lead_tag_assign,
    transaction_refund,
    transaction_sale_record,
)
from tests.leads import factories as f

pytestmark = pytest.mark.django_db

NO_LEAD = {"message": "No lead found", "code": "lead_not_found"}


def post(api, command, body, **headers):
    return api.post(f"/api/v1/actions/{command}", body, format="json", headers=headers)


@pytest.fixture
def tag(account):
    return f.TagFactory(account=account, name="Customer")


@pytest.fixture
def lead_list(account):
    return f.LeadListFactory(account=account, name="Newsletter")


@pytest.fixture
def sequence(account):
    return f.SequenceFactory(account=account, name="Onboarding", steps=3)


@pytest.fixture
def calendar_class(account):
    return f.CalendarClassFactory(calendar=f.CalendarFactory(account=account, name="Coaching"), name="Intro call")


@pytest.fixture
def sale(lead):
    price_point = f.PricePointFactory(product=f.ProductFactory(account=lead.account), amount=Decimal("99.00"))
    return transaction_sale_record(lead=lead, price_point=price_point)


@pytest.fixture
def subscription(lead):
    price_point = f.PricePointFactory(product=f.ProductFactory(account=lead.account), recurring=True)
    return transaction_sale_record(lead=lead, price_point=price_point).recurring_subscription


# create_lead


def test_create_lead_is_201_with_the_lead(api, account, events):
    response = post(api, "create_lead", {"email": "new@example.com", "first_name": "Ann", "country": "US"})
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Lead created"
    lead = Lead.objects.get(account=account, email="new@example.com")
    assert body["lead"]["id"] == lead.id
    assert body["lead"]["first_name"] == "Ann"
    assert lead.source == "api"


def test_create_lead_with_us_address_is_gdpr_unknown(api, account):
    post(api, "create_lead", {"email": "us@example.com", "country": "US", "ip": "8.8.8.8"})
    assert Lead.objects.get(account=account).gdpr_status == GdprStatus.UNKNOWN


def test_create_lead_sets_custom_fields(api, account):
    f.CustomFieldFactory(account=account, identifier="favourite_color")
    body = post(api, "create_lead", {"email": "c@example.com", "custom_fields": {"favourite_color": "green"}}).json()
    assert body["lead"]["custom_fields"][0]["field_value"] == "green"


def test_create_lead_with_existing_email_is_409_lead_exists(api, account):
    f.LeadFactory(account=account, email="taken@example.com")
    response = post(api, "create_lead", {"email": "TAKEN@example.com"})
    assert response.status_code == 409
    assert response.json()["message"] == "Lead already exists"
    assert response.json()["code"] == "lead_exists"


def test_create_lead_with_email_of_another_accounts_lead_is_created(api, account, other_account):
    f.LeadFactory(account=other_account, email="shared@example.com")
    assert post(api, "create_lead", {"email": "shared@example.com"}).status_code == 201


def test_create_lead_without_email_is_400(api):
    response = post(api, "create_lead", {"first_name": "Ann"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["This field is required."]}


def test_create_lead_with_malformed_email_is_400(api):
    response = post(api, "create_lead", {"email": "not-an-email"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["Enter a valid email address."]}


def test_create_lead_with_too_long_field_is_400(api):
    response = post(api, "create_lead", {"email": "a@example.com", "first_name": "x" * 101})
    assert response.status_code == 400
    assert response.json()["fields"] == {"first_name": ["Ensure this field has no more than 100 characters."]}


def test_create_lead_with_wrong_type_is_400(api):
    response = post(api, "create_lead", {"email": "a@example.com", "first_name": ["Ann"]})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["first_name"]


def test_create_lead_with_malformed_ip_and_website_is_400(api):
    response = post(api, "create_lead", {"email": "a@example.com", "ip": "999.1.1.1", "website": "not a url"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"ip", "website"}


def test_create_lead_with_unknown_key_is_400_unknown_field(api, account):
    response = post(api, "create_lead", {"email": "a@example.com", "colour": "red"})
    assert response.status_code == 400
    assert response.json() == {
        "message": "Unknown field: colour",
        "code": "unknown_field",
        "fields": {"colour": ["Unknown field."]},
    }
    assert not Lead.objects.filter(account=account).exists()


@pytest.mark.parametrize("gdpr_field", ["gdpr_lead_status", "gdpr_status", "gdpr_lead_communications"])
def test_create_lead_with_gdpr_field_is_400_gdpr_not_settable(api, account, gdpr_field):
    response = post(api, "create_lead", {"email": "a@example.com", gdpr_field: 2})
    assert response.status_code == 400
    assert response.json() == {
        "message": GDPR_NOT_SETTABLE_MESSAGE,
        "code": "gdpr_not_settable",
        "fields": {gdpr_field: [GDPR_NOT_SETTABLE_MESSAGE]},
    }
    assert not Lead.objects.filter(account=account).exists()


def test_create_lead_with_unknown_custom_field_is_400_and_writes_nothing(api, account):
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"nope": "x"}})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_custom_field"
    assert response.json()["fields"] == {"custom_fields.nope": ['Custom field "nope" does not exist.']}
    assert not Lead.objects.filter(account=account).exists()


def test_create_lead_with_custom_field_of_another_account_is_400(api, other_account):
    f.CustomFieldFactory(account=other_account, identifier="theirs")
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"theirs": "x"}})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_custom_field"


def test_create_lead_with_custom_fields_not_an_object_is_400(api):
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": ["x"]})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["custom_fields"]


def test_body_that_is_not_an_object_is_400(api):
    response = post(api, "create_lead", ["a@example.com"])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_body_that_is_not_json_is_400(api):
    response = api.post("/api/v1/actions/create_lead", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# edit_lead


def test_edit_lead_changes_fields_and_email(api, lead):
    response = post(api, "edit_lead", {"email": lead.email, "first_name": "Grace", "new_email": "grace@example.com"})
    assert response.status_code == 200
    assert response.json()["message"] == "Lead edited"
    lead.refresh_from_db()
    assert (lead.first_name, lead.email) == ("Grace", "grace@example.com")


def test_edit_lead_by_id_wins_over_email(api, account, lead):
    other = f.LeadFactory(account=account)
    post(api, "edit_lead", {"lead_id": lead.id, "email": other.email, "company": "Acme"})
    lead.refresh_from_db()
    other.refresh_from_db()
    assert (lead.company, other.company) == ("Acme", "")


def test_edit_lead_to_an_email_in_use_is_409(api, account, lead):
    f.LeadFactory(account=account, email="taken@example.com")
    response = post(api, "edit_lead", {"lead_id": lead.id, "new_email": "taken@example.com"})
    assert response.status_code == 409
    assert response.json()["code"] == "lead_exists"


def test_edit_lead_cannot_change_gdpr_status(api, lead):
    response = post(api, "edit_lead", {"lead_id": lead.id, "gdpr_lead_status": 2})
    assert response.status_code == 400
    assert response.json()["code"] == "gdpr_not_settable"
    lead.refresh_from_db()
    assert lead.gdpr_status == GdprStatus.UNKNOWN


def test_edit_lead_without_lead_is_400(api):
    response = post(api, "edit_lead", {"first_name": "Ann"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["Give the lead's email or lead_id."]}


def test_edit_missing_lead_is_404(api):
    response = post(api, "edit_lead", {"email": "nobody@example.com", "first_name": "Ann"})
    assert response.status_code == 404
    assert response.json() == NO_LEAD


# Tags


def test_assign_tag_by_name(api, lead, tag, events):
    response = post(api, "assign_tag", {"email": lead.email, "tag": "Customer"})
    assert response.status_code == 200
    assert response.json()["message"] == "Tag added to lead"
    assert response.json()["lead"]["tags"] == [{"tag_id": tag.id, "tag_name": "Customer"}]
    assert events(lead) == ["assign_tag"]


def test_assign_tag_by_id(api, lead, tag):
    assert post(api, "assign_tag", {"lead_id": lead.id, "tag": tag.id}).status_code == 200
    assert LeadTag.objects.filter(lead=lead, tag=tag).exists()


def test_assign_tag_the_lead_has_succeeds_without_event(api, lead, tag, events):
    lead_tag_assign(lead=lead, tag=tag)
    response = post(api, "assign_tag", {"email": lead.email, "tag": "Customer"})
    assert response.status_code == 200
    assert response.json()["message"] == "Tag added to lead"
    assert events(lead) == ["assign_tag"]


def test_assign_unknown_tag_is_404_naming_it(api, lead):
    response = post(api, "assign_tag", {"email": lead.email, "tag": "X"})
    assert response.status_code == 404
    assert response.json() == {"message": 'Tag "X" does not exist', "code": "tag_not_found"}


def test_assign_another_accounts_tag_is_404_like_missing(api, lead, other_account):
    theirs = f.TagFactory(account=other_account, name="X")
    by_name = post(api, "assign_tag", {"email": lead.email, "tag": "X"})
    by_id = post(api, "assign_tag", {"email": lead.email, "tag": theirs.id})
    assert by_name.json() == {"message": 'Tag "X" does not exist', "code": "tag_not_found"}
    assert by_id.json() == {"message": f'Tag "{theirs.id}" does not exist', "code": "tag_not_found"}
    assert not LeadTag.objects.exists()


def test_assign_tag_to_missing_lead_is_404(api, tag):
    response = post(api, "assign_tag", {"email": "nobody@example.com", "tag": "Customer"})
    assert response.status_code == 404
    assert response.json() == NO_LEAD


def test_assign_tag_to_another_accounts_lead_is_404_like_missing(api, tag, other_account):
    theirs = f.LeadFactory(account=other_account)
    by_id = post(api, "assign_tag", {"lead_id": theirs.id, "tag": "Customer"})
    by_email = post(api, "assign_tag", {"email": theirs.email, "tag": "Customer"})
    assert by_id.json() == by_email.json() == NO_LEAD
    assert not LeadTag.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tag": ""}, "tag"),
        ({"tag": "x" * 201}, "tag"),
        ({"tag": ["Customer"]}, "tag"),
        ({"tag": True}, "tag"),
        ({}, "tag"),
        ({"tag": "Customer", "lead_id": "abc"}, "lead_id"),
        ({"tag": "Customer", "lead_id": 0}, "lead_id"),
    ],
)
def test_assign_tag_bad_input_is_400(api, lead, tag, body, field):
    response = post(api, "assign_tag", {"email": lead.email, **body})
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_unassign_tag(api, lead, tag, events):
    lead_tag_assign(lead=lead, tag=tag)
    response = post(api, "unassign_tag", {"email": lead.email, "tag": "Customer"})
    assert response.status_code == 200
    assert response.json()["message"] == "Tag removed from lead"
    assert response.json()["lead"]["tags"] == []
    assert events(lead) == ["assign_tag", "unassign_tag"]


def test_unassign_tag_the_lead_lacks_succeeds_without_event(api, lead, tag, events):
    response = post(api, "unassign_tag", {"email": lead.email, "tag": "Customer"})
    assert response.status_code == 200
    assert response.json()["message"] == "Tag removed from lead"
    assert events(lead) == []


def test_unassign_tag_by_id_leaves_the_leads_other_tags_in_its_document(api, lead, tag, events):
    kept = f.TagFactory(account=lead.account, name="Kept")
    lead_tag_assign(lead=lead, tag=tag)
    lead_tag_assign(lead=lead, tag=kept)
    response = post(api, "unassign_tag", {"lead_id": lead.id, "tag": tag.id})
    assert response.status_code == 200
    assert response.json()["lead"]["tags"] == [{"tag_id": kept.id, "tag_name": "Kept"}]
    assert list(LeadTag.objects.filter(lead=lead).values_list("tag_id", flat=True)) == [kept.id]


def test_unassign_a_tag_the_account_lacks_is_404_and_writes_nothing(api, lead, tag, events):
    lead_tag_assign(lead=lead, tag=tag)
    response = post(api, "unassign_tag", {"email": lead.email, "tag": "Nobody's"})
    assert response.status_code == 404
    assert response.json() == {"message": 'Tag "Nobody\'s" does not exist', "code": "tag_not_found"}
    assert events(lead) == ["assign_tag"]


def test_unassign_another_accounts_tag_is_404_like_missing(api, lead, other_account):
    theirs = f.TagFactory(account=other_account, name="X")
    response = post(api, "unassign_tag", {"email": lead.email, "tag": theirs.id})
    assert response.json() == {"message": f'Tag "{theirs.id}" does not exist', "code": "tag_not_found"}


def test_unassign_tag_from_a_missing_lead_says_the_lead_first(api):
    response = post(api, "unassign_tag", {"email": "nobody@example.com", "tag": "Nobody's"})
    assert response.status_code == 404
    assert response.json()["code"] == "lead_not_found"


# Lists


def test_subscribe_lead_to_list(api, lead, lead_list, events):
    response = post(api, "subscribe_lead_to_list", {"email": lead.email, "list": "Newsletter"})
    assert response.status_code == 200
    assert response.json()["message"] == "Lead subscribed to list"
    assert response.json()["lead"]["lists"] == [{"list_id": lead_list.id, "list_name": "Newsletter", "active": True}]
    assert events(lead) == ["list_subscription"]


def test_subscribe_to_unknown_list_is_404_naming_it(api, lead):
    response = post(api, "subscribe_lead_to_list", {"email": lead.email, "list": "Webinar"})
    assert response.json() == {"message": 'List "Webinar" does not exist', "code": "list_not_found"}


def test_unsubscribe_lead_from_list(api, lead, lead_list, events):
    lead_list_subscribe(lead=lead, lead_list=lead_list)
    response = post(api, "unsubscribe_lead_from_list", {"email": lead.email, "list": lead_list.id})
    assert response.status_code == 200
    assert response.json()["message"] == "Lead unsubscribed from list"
    assert ListSubscription.objects.get(lead=lead).status == "unsubscribed"
    assert events(lead) == ["list_subscription", "list_unsubscription"]


def test_unsubscribe_from_list_not_on_succeeds_without_event(api, lead, lead_list, events):
    response = post(api, "unsubscribe_lead_from_list", {"email": lead.email, "list": "Newsletter"})
    assert response.status_code == 200
    assert events(lead) == []


def test_unsubscribed_lead_shows_the_list_inactive_in_its_document(api, lead, lead_list):
    lead_list_subscribe(lead=lead, lead_list=lead_list)
    response = post(api, "unsubscribe_lead_from_list", {"email": lead.email, "list": "Newsletter"})
    assert response.json()["lead"]["lists"] == [{"list_id": lead_list.id, "list_name": "Newsletter", "active": False}]
    assert ListSubscription.objects.get(lead=lead).unsubscribed_at is not None


def test_subscribing_again_after_unsubscribing_is_active_again_with_an_event(api, lead, lead_list, events):
    lead_list_subscribe(lead=lead, lead_list=lead_list)
    post(api, "unsubscribe_lead_from_list", {"email": lead.email, "list": "Newsletter"})
    response = post(api, "subscribe_lead_to_list", {"email": lead.email, "list": lead_list.id})
    assert response.json()["lead"]["lists"] == [{"list_id": lead_list.id, "list_name": "Newsletter", "active": True}]
    subscription = ListSubscription.objects.get(lead=lead)
    assert (subscription.status, subscription.unsubscribed_at) == ("active", None)
    assert events(lead) == ["list_subscription", "list_unsubscription", "list_subscription"]


def test_subscribing_an_active_subscriber_again_changes_nothing(api, lead, lead_list, events):
    subscribed = lead_list_subscribe(lead=lead, lead_list=lead_list)
    response = post(api, "subscribe_lead_to_list", {"email": lead.email, "list": "Newsletter"})
    assert response.json()["lead"]["lists"] == [{"list_id": lead_list.id, "list_name": "Newsletter", "active": True}]
    assert ListSubscription.objects.get(lead=lead).subscribed_at == subscribed.subscribed_at
    assert events(lead) == ["list_subscription"]


def test_subscribe_to_another_accounts_list_is_404_like_missing(api, lead, other_account):
    theirs = f.LeadListFactory(account=other_account, name="Theirs")
    response = post(api, "subscribe_lead_to_list", {"email": lead.email, "list": theirs.id})
    assert response.json() == {"message": f'List "{theirs.id}" does not exist', "code": "list_not_found"}
    assert not ListSubscription.objects.exists()


# Points


def test_give_points_to_lead(api, lead, events):
    response = post(api, "give_points_to_lead", {"email": lead.email, "points": 10})
    assert response.status_code == 200
    assert response.json()["message"] == "Points added to lead"
    assert response.json()["lead"]["score"] == 10
    assert events(lead) == ["reaches_score"]


def test_give_points_with_expiration_days_sets_expiry(api, lead):
    post(api, "give_points_to_lead", {"email": lead.email, "points": 5, "expiration_days": 7})
    change = PointsChange.objects.get(lead=lead)
    assert timedelta(days=6) < change.expires_at - timezone.now() <= timedelta(days=7)


def test_give_points_with_zero_expiration_days_never_expires(api, lead):
    post(api, "give_points_to_lead", {"email": lead.email, "points": 5, "expiration_days": 0})
    assert PointsChange.objects.get(lead=lead).expires_at is None


@pytest.mark.parametrize("points", [0, -3, "many", 1.5, None, 10_000_001])
def test_give_points_that_are_not_a_positive_integer_is_400(api, lead, points):
    response = post(api, "give_points_to_lead", {"email": lead.email, "points": points})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["points"]
    assert not PointsChange.objects.exists()


def test_remove_points_from_lead(api, lead):
    post(api, "give_points_to_lead", {"email": lead.email, "points": 10})
    response = post(api, "remove_points_from_lead", {"email": lead.email, "points": 4})
    assert response.status_code == 200
    assert response.json()["message"] == "Points removed from lead"
    assert response.json()["lead"]["score"] == 6


def test_remove_points_refuses_expiration_days(api, lead):
    response = post(api, "remove_points_from_lead", {"email": lead.email, "points": 4, "expiration_days": 3})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


# Sequences


def test_subscribe_lead_to_sequence_at_step(api, lead, sequence, events):
    response = post(
        api, "subscribe_lead_to_sequence_at_step", {"email": lead.email, "sequence": "Onboarding", "step": 2}
    )
    assert response.status_code == 200
    assert response.json()["message"] == "Lead added to sequence"
    assert SequenceSubscription.objects.get(lead=lead).step == 2
    assert events(lead) == ["sequence_subscription"]


def test_subscribe_lead_to_sequence_defaults_to_step_1(api, lead, sequence):
    post(api, "subscribe_lead_to_sequence_at_step", {"email": lead.email, "sequence": sequence.id})
    assert SequenceSubscription.objects.get(lead=lead).step == 1


def test_subscribe_lead_to_sequence_step_it_lacks_is_refused(api, lead, sequence):
    response = post(
        api, "subscribe_lead_to_sequence_at_step", {"email": lead.email, "sequence": "Onboarding", "step": 9}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "sequence_step_not_found"
    assert not SequenceSubscription.objects.exists()


def test_subscribe_lead_to_unknown_sequence_is_404(api, lead):
    response = post(api, "subscribe_lead_to_sequence_at_step", {"email": lead.email, "sequence": "Nope"})
    assert response.json() == {"message": 'Sequence "Nope" does not exist', "code": "sequence_not_found"}


def test_unsubscribe_lead_from_sequence(api, lead, sequence, events):
    lead_sequence_subscribe(lead=lead, sequence=sequence)
    response = post(api, "unsubscribe_lead_from_sequence", {"email": lead.email, "sequence": "Onboarding"})
    assert response.status_code == 200
    assert response.json()["message"] == "Lead removed from sequence"
    assert events(lead) == ["sequence_subscription", "sequence_unsubscription"]


def test_unsubscribe_lead_from_sequence_refuses_step(api, lead, sequence):
    response = post(api, "unsubscribe_lead_from_sequence", {"email": lead.email, "sequence": "Onboarding", "step": 1})
    assert response.status_code == 400
    assert response.json()["fields"] == {"step": ["Unknown field."]}


# Calendars


def test_calendar_subscribe(api, lead, calendar_class, events):
    starts_at = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    body = {"email": lead.email, "calendar": "Coaching", "class": "Intro call", "starts_at": starts_at.isoformat()}
    response = post(api, "calendar_subscribe", body)
    assert response.status_code == 200
    assert response.json()["message"] == "Lead subscribed to class"
    assert CalendarBooking.objects.get(lead=lead).starts_at == starts_at
    assert events(lead) == ["calendar_subscribe"]


def test_calendar_subscribe_in_the_past_is_400(api, lead, calendar_class):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    body = {"email": lead.email, "calendar": "Coaching", "class": "Intro call", "starts_at": past}
    response = post(api, "calendar_subscribe", body)
    assert response.status_code == 400
    assert response.json()["code"] == "starts_at_in_past"


def test_calendar_subscribe_with_malformed_starts_at_is_400(api, lead, calendar_class):
    body = {"email": lead.email, "calendar": "Coaching", "class": "Intro call", "starts_at": "next tuesday"}
    response = post(api, "calendar_subscribe", body)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["starts_at"]


def test_calendar_subscribe_to_class_of_another_calendar_is_404(api, account, lead, calendar_class):
    f.CalendarClassFactory(calendar=f.CalendarFactory(account=account, name="Other"), name="Deep dive")
    body = {
        "email": lead.email,
        "calendar": "Coaching",
        "class": "Deep dive",
        "starts_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }
    response = post(api, "calendar_subscribe", body)
    assert response.status_code == 404
    assert response.json()["code"] == "calendar_class_not_found"


def test_calendar_cancel(api, lead, calendar_class, events):
    lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=timezone.now() + timedelta(days=1))
    response = post(api, "calendar_cancel", {"email": lead.email, "calendar": "Coaching", "class": "Intro call"})
    assert response.status_code == 200
    assert response.json()["message"] == "Lead unsubscribed from class"
    assert CalendarBooking.objects.get(lead=lead).status == "cancelled"
    assert events(lead) == ["calendar_subscribe", "calendar_cancel"]


def test_calendar_cancel_without_class_is_400(api, lead, calendar_class):
    response = post(api, "calendar_cancel", {"email": lead.email, "calendar": "Coaching"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"class": ["This field is required."]}


# Transactions


def test_refund_transaction_in_full(api, lead, sale, events):
    response = post(api, "refund_transaction", {"transaction_id": sale.id})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Transaction refunded"
    assert body["transaction"]["kind"] == "refund"
    assert body["transaction"]["amount"] == "99.00"
    assert body["transaction"]["parent_id"] == sale.id
    assert events(lead) == ["buy_product", "refund_product"]


def test_refund_transaction_in_part(api, lead, sale, events):
    response = post(api, "refund_transaction", {"transaction_id": sale.id, "amount": "30.00"})
    assert response.status_code == 200
    assert response.json()["transaction"]["kind"] == "partial_refund"
    assert events(lead) == ["buy_product", "partial_refund_product"]


def test_refund_more_than_what_is_left_is_refused(api, sale):
    transaction_refund(sale=sale, amount=Decimal("90.00"))
    response = post(api, "refund_transaction", {"transaction_id": sale.id, "amount": 10})
    assert response.status_code in (400, 409)
    assert response.json()["code"] == "refund_exceeds_remaining"
    assert Transaction.objects.filter(parent=sale).count() == 1


def test_refund_twice_in_full_is_refused(api, sale):
    post(api, "refund_transaction", {"transaction_id": sale.id})
    response = post(api, "refund_transaction", {"transaction_id": sale.id})
    assert response.status_code in (400, 409)
    assert response.json()["code"] == "already_refunded"


def test_refund_of_a_refund_is_refused(api, sale):
    refund = transaction_refund(sale=sale)
    response = post(api, "refund_transaction", {"transaction_id": refund.id})
    assert response.status_code in (400, 409)
    assert response.json()["code"] == "not_a_sale"


def test_refund_of_missing_transaction_is_404(api):
    response = post(api, "refund_transaction", {"transaction_id": 999999})
    assert response.status_code == 404
    assert response.json()["code"] == "transaction_not_found"


def test_refund_of_another_accounts_transaction_is_404(api, other_account):
    theirs = f.LeadFactory(account=other_account)
    price_point = f.PricePointFactory(product=f.ProductFactory(account=other_account))
    sale = transaction_sale_record(lead=theirs, price_point=price_point)
    response = post(api, "refund_transaction", {"transaction_id": sale.id})
    assert response.status_code == 404
    assert response.json()["code"] == "transaction_not_found"


@pytest.mark.parametrize("amount", ["-1", "abc", "1.234", "10000000000000"])
def test_refund_with_bad_amount_is_400(api, sale, amount):
    response = post(api, "refund_transaction", {"transaction_id": sale.id, "amount": amount})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["amount"]


def test_cancel_transaction(api, lead, subscription, events):
    response = post(api, "cancel_transaction", {"subscription_id": subscription.id})
    assert response.status_code == 200
    assert response.json()["message"] == "Subscription cancelled"
    assert response.json()["subscription"]["status"] == "cancelled"
    assert events(lead) == ["buy_product", "cancel_subscription"]


def test_cancel_a_cancelled_subscription_is_409(api, lead, subscription, events):
    post(api, "cancel_transaction", {"subscription_id": subscription.id})
    response = post(api, "cancel_transaction", {"subscription_id": subscription.id})
    assert response.status_code == 409
    assert response.json()["code"] == "subscription_not_active"
    assert events(lead).count("cancel_subscription") == 1


def test_cancel_missing_subscription_is_404(api):
    response = post(api, "cancel_transaction", {"subscription_id": 424242})
    assert response.status_code == 404
    assert response.json()["code"] == "subscription_not_found"


def test_cancel_another_accounts_subscription_is_404(api, other_account):
    theirs = f.LeadFactory(account=other_account)
    price_point = f.PricePointFactory(product=f.ProductFactory(account=other_account), recurring=True)
    subscription = transaction_sale_record(lead=theirs, price_point=price_point).recurring_subscription
    response = post(api, "cancel_transaction", {"subscription_id": subscription.id})
    assert response.status_code == 404
    assert RecurringSubscription.objects.get(pk=subscription.pk).status == "active"


# Custom fields


def test_create_custom_field_with_options(api, account):
    response = post(
        api, "create_custom_field", {"identifier": "plan", "type": "drop_down", "options": ["Free", "Paid"]}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Custom Field created"
    assert body["custom_field"]["identifier"] == "plan"
    assert [option["name"] for option in body["custom_field"]["options"]] == ["Free", "Paid"]
    assert CustomField.objects.filter(account=account, identifier="plan").exists()


def test_create_custom_field_option_type_with_one_option_is_400(api):
    response = post(api, "create_custom_field", {"identifier": "plan", "type": "radio_button", "options": ["Only"]})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["options"]


def test_create_custom_field_twice_is_refused(api):
    post(api, "create_custom_field", {"identifier": "color", "type": "input_field"})
    response = post(api, "create_custom_field", {"identifier": "color", "type": "input_field"})
    assert response.status_code in (400, 409)
    assert response.json()["code"] == "name_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"identifier": "has space", "type": "input_field"}, "identifier"),
        ({"identifier": "x" * 65, "type": "input_field"}, "identifier"),
        ({"identifier": "ok", "type": "slider"}, "type"),
        ({"identifier": "ok", "type": "checkbox", "options": "a,b"}, "options"),
    ],
)
def test_create_custom_field_bad_input_is_400(api, body, field):
    response = post(api, "create_custom_field", body)
    assert response.status_code == 400
    assert field in response.json()["fields"]


# Unknown command


def test_unknown_command_is_404_unknown_command(api):
    response = post(api, "delete_everything", {"email": "a@example.com"})
    assert response.status_code == 404
    assert response.json() == {"message": 'Unknown command "delete_everything"', "code": "unknown_command"}


def test_actions_are_post_only(api):
    response = api.get("/api/v1/actions/assign_tag")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_null_character_in_a_tag_name_is_400(api, lead):
    response = post(api, "assign_tag", {"email": lead.email, "tag": "VIP\u0000"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["tag"]


def test_null_character_in_a_custom_field_value_is_400(api, account):
    f.CustomFieldFactory(account=account, identifier="favourite_color")
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"favourite_color": "re\u0000d"}})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "custom_fields": ["favourite_color: Text must not contain NUL characters (U+0000)."]
    }
    assert not Lead.objects.exists()


def test_null_character_in_a_custom_field_identifier_is_400(api):
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"x\u0000": "red"}})
    assert response.status_code == 400
