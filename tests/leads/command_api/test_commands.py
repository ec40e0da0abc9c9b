"""POST /api: every command wired to the command registry, its success and each error code it can
give, with the platform's input names, on PostgreSQL and Redis."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from leads.command_api.reads import PLATFORM_TIME_ZONE
from leads.models import (
    CalendarBooking,
    CustomFieldOption,
    CustomFieldType,
    GdprStatus,
    Lead,
    LeadAction,
    LeadCustomFieldValue,
    LeadEvent,
    LeadSource,
    LeadTag,
    RecurringSubscription,
    SequenceSubscription,
    StepDelivery,
    Transaction,
)
from leads.selectors import lead_can_receive_email
from leads.services import lead_calendar_subscribe, lead_points_give, transaction_refund, transaction_sale_record
from leads.services.sequence_engine import sequence_engine_run
from tests.leads.command_api.conftest import credentials
from tests.leads.factories import (
    CalendarClassFactory,
    CustomFieldFactory,
    LeadFactory,
    LeadListFactory,
    PricePointFactory,
    SequenceFactory,
    TagFactory,
)


def fields_for(lead: dict | None, actions: list[tuple[str, dict]]) -> dict:
    """Flat bracket keys: lead[k]=v and actions[i][cmd]/actions[i][k]=v (nested keys given as "a][b")."""
    fields = {f"lead[{key}]": value for key, value in (lead or {}).items()}
    for index, (cmd, params) in enumerate(actions):
        fields[f"actions[{index}][cmd]"] = cmd
        fields |= {f"actions[{index}][{key}]": value for key, value in params.items()}
    return fields


def run(call, cmd: str, lead: dict | None = None, **params) -> dict:
    """One action's answer: actions[0].<cmd>."""
    body = call(fields_for(lead, [(cmd, params)])).json()
    assert body["status"] == "Success"
    return body["actions"][0][cmd]


def refused(answer: dict, number: int) -> bool:
    return answer["status"] == "Error" and answer["type"] == str(number)


@pytest.fixture
def lead(account):
    return LeadFactory(account=account, email="ann@example.com")


@pytest.fixture
def on_lead(lead):
    return {"email": lead.email}


# ---------------------------------------------------------------------------------------------
# create_lead, edit_lead, search_lead


def test_create_lead_answers_the_new_leads_id_in_lead_details(call, account):
    answer = run(call, "create_lead", {"email": "new@example.com", "first_name": "Nia", "phone": "555"})
    created = Lead.objects.get(account=account, email="new@example.com")
    assert answer["status"] == "Success"
    assert answer["lead_details"]["id"] == str(created.pk)
    assert (created.first_name, created.phone, created.source) == ("Nia", "555", LeadSource.API)


def test_a_write_through_the_command_api_writes_its_lead_event_for_the_hooks(call, account, lead):
    TagFactory(account=account, name="Customer")
    run(call, "assign_tag", {"email": lead.email}, tag_name="Customer")
    assert LeadEvent.objects.filter(lead=lead, action=LeadAction.ASSIGN_TAG).count() == 1


def test_create_lead_with_an_email_already_in_the_account_answers_244(call, lead):
    assert refused(run(call, "create_lead", {"email": "ANN@example.com"}), 244)


def test_create_lead_with_an_invalid_email_answers_206(call, account):
    assert refused(run(call, "create_lead", {"email": "not-an-email"}), 206)
    assert not Lead.objects.filter(account=account).exists()


def test_an_api_lead_is_gdpr_unknown_when_the_account_has_gdpr_on(call, account):
    account.gdpr_enabled = True
    account.save(update_fields=["gdpr_enabled"])
    run(call, "create_lead", {"email": "new@example.com"})
    assert Lead.objects.get(account=account).gdpr_status == GdprStatus.UNKNOWN


def test_a_gdpr_input_is_refused_with_262_and_creates_nothing(call, account):
    answer = run(call, "create_lead", {"email": "new@example.com", "gdpr_lead_status": "4"})
    assert refused(answer, 262)
    assert answer["message"] == "App does not have permission to execute this CMD"
    assert not Lead.objects.filter(account=account).exists()


def test_create_lead_sets_custom_fields_from_bracket_items(call, account):
    CustomFieldFactory(account=account, identifier="colour")
    plan = CustomFieldFactory(account=account, identifier="plan", type=CustomFieldType.DROP_DOWN)
    hobbies = CustomFieldFactory(account=account, identifier="hobbies", type=CustomFieldType.CHECKBOX)
    gold = CustomFieldOption.objects.create(field=plan, value="Gold", position=1)
    CustomFieldOption.objects.create(field=plan, value="Silver", position=2)
    chess = CustomFieldOption.objects.create(field=hobbies, value="Chess", position=1)
    golf = CustomFieldOption.objects.create(field=hobbies, value="Golf", position=2)
    fields = {
        "lead[email]": "new@example.com",
        "lead[custom_fields][0][field_identifier]": "colour",
        "lead[custom_fields][0][field_value]": "red",
        "lead[custom_fields][1][field_identifier]": "plan",
        "lead[custom_fields][1][field_value]": str(gold.pk),
        "lead[custom_fields][2][field_identifier]": "hobbies",
        "lead[custom_fields][2][field_value][0]": str(chess.pk),
        "lead[custom_fields][2][field_value][1]": str(golf.pk),
        "actions[0][cmd]": "create_lead",
    }
    answer = call(fields).json()["actions"][0]["create_lead"]
    assert answer["status"] == "Success"
    values = {item["field_identifier"]: item["field_value"] for item in answer["lead_details"]["custom_fields"]}
    assert values["colour"] == "red"
    assert values["plan"] == [{"option_id": str(gold.pk), "option_value": "Gold"}]
    assert [option["option_id"] for option in values["hobbies"]] == sorted([str(chess.pk), str(golf.pk)])


def test_an_unknown_custom_field_identifier_is_ignored(call, account):
    CustomFieldFactory(account=account, identifier="colour")
    fields = {
        "lead[email]": "new@example.com",
        "lead[custom_fields][0][field_identifier]": "nope",
        "lead[custom_fields][0][field_value]": "x",
        "lead[custom_fields][1][field_identifier]": "colour",
        "lead[custom_fields][1][field_value]": "red",
        "actions[0][cmd]": "create_lead",
    }
    assert call(fields).json()["actions"][0]["create_lead"]["status"] == "Success"
    assert LeadCustomFieldValue.objects.get(lead__email="new@example.com").value == "red"


def test_an_option_id_the_field_does_not_have_answers_271(call, account):
    CustomFieldFactory(account=account, identifier="plan", type=CustomFieldType.DROP_DOWN)
    fields = {
        "lead[email]": "new@example.com",
        "lead[custom_fields][0][field_identifier]": "plan",
        "lead[custom_fields][0][field_value]": "999999",
        "actions[0][cmd]": "create_lead",
    }
    answer = call(fields).json()["actions"][0]["create_lead"]
    assert refused(answer, 271)
    assert answer["message"] == "Wrong custom field format"
    assert not Lead.objects.filter(account=account).exists()


def test_custom_fields_that_are_not_items_answer_271(call, account):
    fields = {"lead[email]": "new@example.com", "lead[custom_fields]": "colour", "actions[0][cmd]": "create_lead"}
    assert refused(call(fields).json()["actions"][0]["create_lead"], 271)


def test_an_empty_string_clears_a_custom_field(call, account, lead):
    colour = CustomFieldFactory(account=account, identifier="colour")
    LeadCustomFieldValue.objects.create(lead=lead, field=colour, value="red")
    fields = {
        "lead[email]": lead.email,
        "lead[custom_fields][0][field_identifier]": "colour",
        "lead[custom_fields][0][field_value]": "",
        "actions[0][cmd]": "edit_lead",
    }
    assert call(fields).json()["actions"][0]["edit_lead"]["status"] == "Success"
    assert not LeadCustomFieldValue.objects.filter(lead=lead).exists()


def test_edit_lead_changes_the_profile_and_the_email_with_new_email(call, lead):
    answer = run(call, "edit_lead", {"id": lead.pk, "new_email": "ann.new@example.com", "city": "Paris"})
    assert answer["status"] == "Success"
    lead.refresh_from_db()
    assert (lead.email, lead.city) == ("ann.new@example.com", "Paris")
    assert answer["lead_details"]["email"] == "ann.new@example.com"


def test_edit_lead_by_id_wins_over_email(call, account, lead):
    other = LeadFactory(account=account)
    run(call, "edit_lead", {"id": lead.pk, "email": other.email, "city": "Oslo"})
    lead.refresh_from_db()
    other.refresh_from_db()
    assert (lead.city, other.city) == ("Oslo", "")


def test_edit_lead_to_an_email_another_lead_has_answers_244(call, account, lead):
    other = LeadFactory(account=account)
    assert refused(run(call, "edit_lead", {"email": lead.email, "new_email": other.email}), 244)


def test_edit_lead_of_a_lead_that_does_not_exist_answers_243(call, account):
    assert refused(run(call, "edit_lead", {"email": "nobody@example.com", "city": "Oslo"}), 243)


def test_search_lead_answers_the_lead_details(call, lead):
    answer = run(call, "search_lead", {"email": lead.email})
    assert answer["status"] == "Success"
    assert answer["lead_details"]["id"] == str(lead.pk)


def test_search_lead_of_an_absent_lead_answers_no_lead_found_243(call, account):
    answer = run(call, "search_lead", {"email": "nobody@example.com"})
    assert answer == {"status": "Error", "message": "No lead found", "type": "243"}


def test_another_accounts_lead_is_not_found(call, other_account):
    stranger = LeadFactory(account=other_account)
    assert refused(run(call, "assign_tag", {"id": stranger.pk}, tag_name="VIP"), 243)
    assert refused(run(call, "search_lead", {"id": stranger.pk}), 243)


# ---------------------------------------------------------------------------------------------
# Tags, lists, points


def test_assign_tag_answers_103_and_tags_the_lead(call, account, lead, on_lead):
    TagFactory(account=account, name="Customer")
    answer = run(call, "assign_tag", on_lead, tag_name="Customer")
    assert answer == {"status": "Success", "message": "Tag added to lead", "type": "103"}
    assert LeadTag.objects.filter(lead=lead, tag__name="Customer").exists()


@pytest.mark.parametrize(("cmd", "missing", "empty"), [("assign_tag", 212, 211), ("unassign_tag", 214, 213)])
def test_a_tag_that_does_not_exist_or_is_empty_answers_its_code(call, on_lead, cmd, missing, empty):
    assert refused(run(call, cmd, on_lead, tag_name="Nope"), missing)
    assert refused(run(call, cmd, on_lead, tag_name=""), empty)
    assert refused(run(call, cmd, on_lead), empty)


def test_another_accounts_tag_does_not_exist(call, other_account, on_lead):
    TagFactory(account=other_account, name="Theirs")
    assert refused(run(call, "assign_tag", on_lead, tag_name="Theirs"), 212)


def test_unassign_tag_answers_104_and_untags_the_lead(call, account, lead, on_lead):
    tag = TagFactory(account=account, name="Customer")
    LeadTag.objects.create(lead=lead, tag=tag, created_at=timezone.now())
    answer = run(call, "unassign_tag", on_lead, tag_name="Customer")
    assert answer == {"status": "Success", "message": "Tag removed from lead", "type": "104"}
    assert not LeadTag.objects.filter(lead=lead).exists()


def test_a_tag_command_without_a_lead_answers_206(call, account):
    TagFactory(account=account, name="Customer")
    assert refused(run(call, "assign_tag", None, tag_name="Customer"), 206)


def test_a_tag_command_on_an_absent_lead_answers_243(call, account):
    TagFactory(account=account, name="Customer")
    assert refused(run(call, "assign_tag", {"email": "nobody@example.com"}, tag_name="Customer"), 243)


def test_subscribe_and_unsubscribe_list_answer_101(call, account, lead, on_lead):
    LeadListFactory(account=account, name="News")
    subscribed = run(call, "subscribe_lead_to_list", on_lead, list_name="News")
    assert subscribed == {"status": "Success", "message": "Lead subscribed to list", "type": "101"}
    assert lead.list_subscriptions.filter(status="active").exists()
    unsubscribed = run(call, "unsubscribe_lead_from_list", on_lead, list_name="News")
    assert unsubscribed == {"status": "Success", "message": "Lead unsubscribed from list", "type": "101"}
    assert not lead.list_subscriptions.filter(status="active").exists()


@pytest.mark.parametrize(
    ("cmd", "missing", "empty"), [("subscribe_lead_to_list", 231, 207), ("unsubscribe_lead_from_list", 209, 208)]
)
def test_a_list_that_does_not_exist_or_is_empty_answers_its_code(call, on_lead, cmd, missing, empty):
    assert refused(run(call, cmd, on_lead, list_name="Nope"), missing)
    assert refused(run(call, cmd, on_lead, list_name=""), empty)


def test_give_points_answers_105_and_adds_them_with_their_expiration(call, lead, on_lead):
    answer = run(call, "give_points_to_lead", on_lead, points="15", expiration="30")
    assert answer == {"status": "Success", "message": "Points added to lead", "type": "105"}
    lead.refresh_from_db()
    assert lead.score == 15
    grant = lead.points_changes.get()
    assert grant.expires_at is not None
    assert timedelta(days=29) < grant.expires_at - timezone.now() <= timedelta(days=30)


def test_remove_points_answers_106(call, lead, on_lead):
    lead_points_give(lead=lead, points=10)
    answer = run(call, "remove_points_from_lead", on_lead, points="4")
    assert answer == {"status": "Success", "message": "Points removed from lead", "type": "106"}
    lead.refresh_from_db()
    assert lead.score == 6


@pytest.mark.parametrize(
    ("cmd", "not_a_number", "empty"), [("give_points_to_lead", 227, 215), ("remove_points_from_lead", 228, 217)]
)
def test_points_that_are_not_a_number_or_empty_answer_their_code(call, on_lead, cmd, not_a_number, empty):
    assert refused(run(call, cmd, on_lead, points="ten"), not_a_number)
    assert refused(run(call, cmd, on_lead, points=""), empty)
    assert refused(run(call, cmd, on_lead), empty)


# ---------------------------------------------------------------------------------------------
# Sequences


def test_subscribe_to_sequence_at_step_answers_107(call, account, lead, on_lead):
    SequenceFactory(account=account, name="Onboarding")
    answer = run(call, "subscribe_lead_to_sequence_at_step", on_lead, sequence_name="Onboarding", step="2")
    assert answer == {"status": "Success", "message": "Lead added to sequence", "type": "107"}
    assert SequenceSubscription.objects.get(lead=lead).step == 2


def test_subscribe_to_sequence_without_a_step_starts_at_step_1(call, account, lead, on_lead):
    SequenceFactory(account=account, name="Onboarding")
    answer = run(call, "subscribe_lead_to_sequence_at_step", on_lead, sequence_name="Onboarding", step="")
    assert answer["type"] == "107"
    assert SequenceSubscription.objects.get(lead=lead).step == 1


def test_subscribe_to_sequence_errors(call, account, on_lead):
    SequenceFactory(account=account, name="Onboarding")
    cmd = "subscribe_lead_to_sequence_at_step"
    assert refused(run(call, cmd, on_lead, sequence_name="Nope", step="1"), 219)
    assert refused(run(call, cmd, on_lead, sequence_name="", step="1"), 226)
    assert refused(run(call, cmd, on_lead, sequence_name="Onboarding", step="9"), 230)
    assert refused(run(call, cmd, on_lead, sequence_name="Onboarding", step="two"), 229)


def test_unsubscribe_from_sequence_succeeds_and_an_unknown_sequence_answers_220(call, account, lead, on_lead):
    SequenceFactory(account=account, name="Onboarding")
    run(call, "subscribe_lead_to_sequence_at_step", on_lead, sequence_name="Onboarding", step="1")
    answer = run(call, "unsubscribe_lead_from_sequence", on_lead, sequence_name="Onboarding")
    assert answer["status"] == "Success"
    assert answer["message"] == "Lead removed from sequence"
    assert SequenceSubscription.objects.get(lead=lead).status == SequenceSubscription.Status.UNSUBSCRIBED
    assert refused(run(call, "unsubscribe_lead_from_sequence", on_lead, sequence_name="Nope"), 220)


# ---------------------------------------------------------------------------------------------
# Calendar


@pytest.fixture
def coaching(account):
    return CalendarClassFactory(calendar__account=account, calendar__name="Coaching", name="Intro")


def _future_day() -> str:
    return (timezone.now().astimezone(PLATFORM_TIME_ZONE) + timedelta(days=10)).strftime("%d %b %Y")


def test_calendar_subscribe_answers_112_at_the_eastern_date_and_hour(call, lead, on_lead, coaching):
    day = _future_day()
    answer = run(
        call, "calendar_subscribe", on_lead, calendar_name="Coaching", class_name="Intro",
        starting_date=day, starting_hour="14:30",
    )  # fmt: skip
    assert answer == {"status": "Success", "message": "Lead subscribed to class", "type": "112"}
    booking = CalendarBooking.objects.get(lead=lead)
    local = booking.starts_at.astimezone(PLATFORM_TIME_ZONE)
    assert local.strftime("%d %b %Y %H:%M") == f"{day} 14:30"


def test_calendar_subscribe_errors(call, on_lead, coaching):
    day = _future_day()
    base = {"calendar_name": "Coaching", "class_name": "Intro", "starting_date": day, "starting_hour": "10:00"}
    assert refused(run(call, "calendar_subscribe", on_lead, **(base | {"calendar_name": "Nope"})), 257)
    assert refused(run(call, "calendar_subscribe", on_lead, **(base | {"class_name": "Nope"})), 258)
    assert refused(run(call, "calendar_subscribe", on_lead, **(base | {"calendar_name": ""})), 255)
    assert refused(run(call, "calendar_subscribe", on_lead, **(base | {"class_name": ""})), 256)
    assert refused(run(call, "calendar_subscribe", on_lead, **(base | {"starting_date": "2027-01-05"})), 260)
    assert refused(run(call, "calendar_subscribe", on_lead, **(base | {"starting_hour": "25:00"})), 260)
    assert refused(run(call, "calendar_subscribe", on_lead, **(base | {"starting_date": "05 Jan 2020"})), 261)


def test_calendar_cancel_answers_113_and_without_a_booking_259(call, lead, on_lead, coaching):
    lead_calendar_subscribe(lead=lead, calendar_class=coaching, starts_at=timezone.now() + timedelta(days=3))
    answer = run(call, "calendar_cancel", on_lead, calendar_name="Coaching", class_name="Intro")
    assert answer == {"status": "Success", "message": "Lead unsubscribed from class", "type": "113"}
    assert CalendarBooking.objects.get(lead=lead).status == CalendarBooking.Status.CANCELLED
    assert refused(run(call, "calendar_cancel", on_lead, calendar_name="Coaching", class_name="Intro"), 259)


# ---------------------------------------------------------------------------------------------
# Billing


@pytest.fixture
def sale(account, lead):
    return transaction_sale_record(lead=lead, price_point=PricePointFactory(product__account=account))


@pytest.fixture
def recurring_sale(account, lead):
    point = PricePointFactory(product__account=account, recurring=True)
    return transaction_sale_record(lead=lead, price_point=point)


def test_refund_transaction_answers_the_refunded_transaction(call, sale):
    answer = run(call, "refund_transaction", None, transaction_id=str(sale.pk))
    assert answer["status"] == "Success"
    assert answer["transaction_refunded"] == str(sale.pk)
    assert Transaction.objects.get(parent=sale).amount == sale.amount


def test_an_empty_refund_amount_refunds_the_whole_sale(call, sale):
    run(call, "refund_transaction", None, transaction_id=str(sale.pk), refund_amount="")
    assert Transaction.objects.get(parent=sale).kind == Transaction.Kind.REFUND


def test_refund_transaction_of_part_of_the_amount(call, sale):
    run(call, "refund_transaction", None, transaction_id=str(sale.pk), refund_amount="10.50")
    refund = Transaction.objects.get(parent=sale)
    assert (refund.kind, refund.amount) == (Transaction.Kind.PARTIAL_REFUND, Decimal("10.50"))


def test_refund_transaction_errors(call, sale, other_account):
    assert refused(run(call, "refund_transaction", None, transaction_id="999999"), 247)
    assert refused(run(call, "refund_transaction", None, transaction_id=str(sale.pk), refund_amount="5000"), 268)
    assert refused(run(call, "refund_transaction", None, transaction_id=str(sale.pk), refund_amount="lots"), 268)
    transaction_refund(sale=sale)
    assert refused(run(call, "refund_transaction", None, transaction_id=str(sale.pk)), 251)
    refund = Transaction.objects.get(parent=sale)
    assert refused(run(call, "refund_transaction", None, transaction_id=str(refund.pk)), 253)


def test_another_accounts_transaction_does_not_exist(call, other_account):
    theirs = transaction_sale_record(
        lead=LeadFactory(account=other_account), price_point=PricePointFactory(product__account=other_account)
    )
    assert refused(run(call, "refund_transaction", None, transaction_id=str(theirs.pk)), 247)


def test_cancel_transaction_by_internal_subscription_id(call, recurring_sale):
    subscription = recurring_sale.recurring_subscription
    answer = run(call, "cancel_transaction", None, transaction_internal_subscription_id=str(subscription.pk))
    assert answer["status"] == "Success"
    assert answer["transaction_internal_subscription_id"] == str(subscription.pk)
    subscription.refresh_from_db()
    assert subscription.status == RecurringSubscription.Status.CANCELLED


def test_cancel_transaction_by_the_sales_transaction_id(call, recurring_sale):
    answer = run(call, "cancel_transaction", None, transaction_id=str(recurring_sale.pk))
    assert answer["status"] == "Success"
    assert recurring_sale.recurring_subscription.__class__.objects.get(sale=recurring_sale).status == "cancelled"


def test_cancel_transaction_errors(call, sale, recurring_sale):
    assert refused(run(call, "cancel_transaction", None, transaction_internal_subscription_id="999999"), 248)
    assert refused(run(call, "cancel_transaction", None, transaction_id="999999"), 247)
    assert refused(run(call, "cancel_transaction", None, transaction_id=str(sale.pk)), 249)
    run(call, "cancel_transaction", None, transaction_id=str(recurring_sale.pk))
    assert refused(run(call, "cancel_transaction", None, transaction_id=str(recurring_sale.pk)), 252)


def test_the_transaction_and_subscription_reads(call, lead, on_lead, sale, recurring_sale):
    details = run(call, "get_transaction_details", None, transaction_id=str(sale.pk))
    assert details["transaction_details"]["id"] == sale.pk
    assert details["transaction_details"]["lead_email"] == lead.email
    found = run(call, "search_transaction", None, transaction_id=str(sale.pk))
    assert found["transaction_details"]["id"] == sale.pk
    listed = run(call, "retrieve_transactions_from_lead", on_lead)
    assert {row["id"] for row in listed["transaction_list"]} == {sale.pk, recurring_sale.pk}
    subscription = recurring_sale.recurring_subscription
    for cmd in ("search_subscription", "get_subscription_details"):
        answer = run(call, cmd, None, transaction_internal_subscription_id=str(subscription.pk))
        assert answer["subscription_details"]["id"] == subscription.pk
    listed = run(call, "retrieve_subscriptions_from_lead", on_lead)
    assert [row["id"] for row in listed["subscriptions_list"]] == [subscription.pk]


def test_the_reads_of_what_does_not_exist_answer_247_248_and_243(call, account):
    assert refused(run(call, "get_transaction_details", None, transaction_id="999999"), 247)
    assert refused(run(call, "search_transaction", None), 247)
    assert refused(run(call, "get_subscription_details", None, transaction_internal_subscription_id="9"), 248)
    assert refused(run(call, "retrieve_transactions_from_lead", {"email": "nobody@example.com"}), 243)


# ---------------------------------------------------------------------------------------------
# Custom fields


def test_create_custom_field_answers_114_with_its_options(call, account):
    answer = run(
        call, "create_custom_field", None, custom_field_identifier="plan", custom_field_type="drop_down",
        **{"custom_field_options][0][option_name": "Gold", "custom_field_options][1][option_name": "Silver"},
    )  # fmt: skip
    assert answer["status"] == "Success"
    assert (answer["type"], answer["message"]) == ("114", "Custom Field created")
    field = account.custom_fields.get(identifier="plan")
    assert [option.value for option in field.options.all()] == ["Gold", "Silver"]


def test_create_custom_field_errors(call, account):
    CustomFieldFactory(account=account, identifier="taken")
    cmd = "create_custom_field"
    assert refused(run(call, cmd, None, custom_field_identifier="taken", custom_field_type="input_field"), 264)
    assert refused(run(call, cmd, None, custom_field_identifier="bad name!", custom_field_type="input_field"), 263)
    assert refused(run(call, cmd, None, custom_field_identifier="", custom_field_type="input_field"), 265)
    assert refused(run(call, cmd, None, custom_field_identifier="fine", custom_field_type="colour"), 269)
    one = {"custom_field_options][0][option_name": "Only"}
    assert refused(run(call, cmd, None, custom_field_identifier="fine", custom_field_type="radio_button", **one), 273)
    empty = {"custom_field_options][0][option_name": "A", "custom_field_options][1][option_name": " "}
    assert refused(run(call, cmd, None, custom_field_identifier="fine", custom_field_type="checkbox", **empty), 272)
    assert not account.custom_fields.filter(identifier="fine").exists()


# ---------------------------------------------------------------------------------------------
# Chained calls


def test_chained_actions_answer_in_order_and_a_failure_neither_undoes_nor_stops(call, account):
    TagFactory(account=account, name="Customer")
    LeadListFactory(account=account, name="News")
    fields = fields_for(
        {"email": "new@example.com", "first_name": "Nia"},
        [
            ("create_lead", {}),
            ("assign_tag", {"tag_name": "Customer"}),
            ("assign_tag", {"tag_name": "Nope"}),
            ("subscribe_lead_to_list", {"list_name": "News"}),
        ],
    )
    body = call(fields).json()
    assert body["status"] == "Success"
    assert [next(iter(action)) for action in body["actions"]] == [
        "create_lead", "assign_tag", "assign_tag", "subscribe_lead_to_list",
    ]  # fmt: skip
    assert [next(iter(action.values()))["status"] for action in body["actions"]] == [
        "Success", "Success", "Error", "Success",
    ]  # fmt: skip
    assert body["actions"][2]["assign_tag"]["type"] == "212"
    created = Lead.objects.get(account=account, email="new@example.com")
    assert LeadTag.objects.filter(lead=created, tag__name="Customer").exists()
    assert created.list_subscriptions.filter(status="active").exists()


def test_a_failed_create_lead_lets_the_later_actions_run_on_the_existing_lead(call, account, lead):
    TagFactory(account=account, name="Customer")
    body = call(fields_for({"email": lead.email}, [("create_lead", {}), ("assign_tag", {"tag_name": "Customer"})]))
    actions = body.json()["actions"]
    assert actions[0]["create_lead"]["type"] == "244"
    assert actions[1]["assign_tag"]["type"] == "103"


# ---------------------------------------------------------------------------------------------
# Test mode


def test_test_mode_creates_a_test_lead_at_the_test_domain_that_is_never_emailed(call, account, test_app):
    SequenceFactory(account=account, name="Onboarding", steps=1)
    fields = fields_for(
        {"email": "ann@gmail.com"},
        [("create_lead", {}), ("subscribe_lead_to_sequence_at_step", {"sequence_name": "Onboarding", "step": "1"})],
    )
    actions = call(fields, app=test_app).json()["actions"]
    assert [next(iter(action.values()))["status"] for action in actions] == ["Success", "Success"]
    created = Lead.objects.get(account=account)
    assert (created.email, created.source) == ("ann@kartra.com", LeadSource.API_TEST)
    assert not lead_can_receive_email(created)
    subscription = SequenceSubscription.objects.get(lead=created)
    subscription.next_step_due_at = timezone.now() - timedelta(minutes=1)
    subscription.save(update_fields=["next_step_due_at"])
    mail.outbox.clear()
    sequence_engine_run()
    assert mail.outbox == []
    assert subscription.step_deliveries.get().reason == StepDelivery.Reason.TEST_LEAD


def test_test_mode_writes_do_not_reach_a_lead_test_mode_did_not_create(call, account, test_app):
    real = LeadFactory(account=account, email="bob@kartra.com")
    TagFactory(account=account, name="Customer")
    answer = call(fields_for({"id": real.pk}, [("assign_tag", {"tag_name": "Customer"})]), app=test_app).json()
    assert refused(answer["actions"][0]["assign_tag"], 243)
    assert not LeadTag.objects.filter(lead=real).exists()


# ---------------------------------------------------------------------------------------------
# The other encodings of the same call


def _chain(account) -> dict:
    TagFactory(account=account, name="Customer")
    CustomFieldFactory(account=account, identifier="colour")
    return {
        "lead": {
            "email": "new@example.com",
            "custom_fields": [{"field_identifier": "colour", "field_value": "blue"}],
        },
        "actions": [{"cmd": "create_lead"}, {"cmd": "assign_tag", "tag_name": "Customer"}],
    }


def _assert_created_and_tagged(body: dict, account) -> None:
    assert [next(iter(action.values()))["status"] for action in body["actions"]] == ["Success", "Success"]
    created = Lead.objects.get(account=account, email="new@example.com")
    assert LeadTag.objects.filter(lead=created, tag__name="Customer").exists()
    assert LeadCustomFieldValue.objects.get(lead=created).value == "blue"


def test_a_json_body_of_the_same_nested_shape_runs_the_chain(account, live_app):
    payload = {**credentials(live_app, account), **_chain(account)}
    body = Client().post("/api/", data=json.dumps(payload), content_type="application/json").json()
    _assert_created_and_tagged(body, account)


def test_a_multipart_body_with_bracket_keys_runs_the_chain(account, live_app):
    _chain(account)
    fields = {
        **credentials(live_app, account),
        "lead[email]": "new@example.com",
        "lead[custom_fields][0][field_identifier]": "colour",
        "lead[custom_fields][0][field_value]": "blue",
        "actions[0][cmd]": "create_lead",
        "actions[1][cmd]": "assign_tag",
        "actions[1][tag_name]": "Customer",
    }
    body = Client().post("/api", data=fields).json()  # multipart/form-data
    _assert_created_and_tagged(body, account)
