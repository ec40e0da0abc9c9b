"""The one command registry: a front door asks for a command by name with a plain dict of inputs and
gets a result (message, lead, what was written) or an ApplicationError with a code."""

import pytest

from kartra_integrations.errors import ApplicationError, NotFound
from leads.api.actions import ACTIONS
from leads.models import ASSET_KINDS_BY_KEY, LeadTag
from leads.services import transaction_sale_record
from leads.services.commands import COMMANDS, ReferenceNotFound, command_run
from leads.services.platform_events import EVENT_COMMANDS
from tests.leads.factories import (
    CalendarClassFactory,
    CalendarFactory,
    LeadFactory,
    PricePointFactory,
    ProductFactory,
    TagFactory,
)

PARTS = {kind.part.key for kind in ASSET_KINDS_BY_KEY.values() if kind.part} | {"transaction_id", "subscription_id"}


def test_a_command_runs_by_name_with_a_plain_dict_of_inputs(account, lead):
    TagFactory(account=account, name="VIP")
    result = command_run(name="assign_tag", account=account, inputs={"email": lead.email, "tag": "VIP"})
    assert result.message == "Tag added to lead"
    assert result.lead == lead
    assert [tag["tag_name"] for tag in result.lead_document["tags"]] == ["VIP"]
    assert LeadTag.objects.filter(lead=lead, tag__name="VIP").exists()


def test_an_unknown_command_is_refused_with_a_code(account):
    with pytest.raises(NotFound) as refused:
        command_run(name="launch_rocket", account=account, inputs={})
    assert refused.value.code == "unknown_command"


def test_an_asset_reference_that_names_nothing_says_which_input_it_was(account, lead):
    with pytest.raises(ReferenceNotFound) as refused:
        command_run(name="unassign_tag", account=account, inputs={"lead_id": lead.pk, "tag": "Nope"})
    assert (refused.value.code, refused.value.reference, refused.value.status_code) == ("tag_not_found", "tag", 404)


def test_a_class_is_resolved_within_its_calendar(account, lead):
    CalendarClassFactory(calendar=CalendarFactory(account=account, name="Other"), name="Yoga")
    calendar = CalendarFactory(account=account, name="Coaching")
    inputs = {"lead": lead, "calendar": calendar.name, "class": "Yoga"}
    with pytest.raises(ReferenceNotFound) as refused:
        command_run(name="calendar_cancel", account=account, inputs=inputs)
    assert refused.value.reference == "class"


def test_a_sale_of_another_lead_is_not_found_for_this_lead(account, lead):
    point = PricePointFactory(product=ProductFactory(account=account))
    sale = transaction_sale_record(lead=LeadFactory(account=account), price_point=point)
    with pytest.raises(ReferenceNotFound) as refused:
        command_run(name="refund_transaction", account=account, inputs={"lead": lead, "transaction_id": sale.pk})
    assert (refused.value.code, refused.value.reference) == ("transaction_not_found", "transaction_id")


def test_without_a_lead_a_refund_names_the_sale_alone(account, lead):
    point = PricePointFactory(product=ProductFactory(account=account))
    sale = transaction_sale_record(lead=lead, price_point=point)
    result = command_run(name="refund_transaction", account=account, inputs={"transaction_id": sale.pk})
    assert result.message == "Transaction refunded"
    assert result.objects["transaction"].parent_id == sale.pk


def test_another_accounts_lead_given_as_an_object_is_not_found(account, other_account):
    stranger = LeadFactory(account=other_account)
    TagFactory(account=account, name="VIP")
    with pytest.raises(ApplicationError) as refused:
        command_run(name="assign_tag", account=account, inputs={"lead": stranger, "tag": "VIP"})
    assert refused.value.code == "lead_not_found"
    assert not LeadTag.objects.exists()


def test_both_front_doors_run_registered_commands():
    assert set(ACTIONS) <= set(COMMANDS)
    assert set(EVENT_COMMANDS.values()) <= set(COMMANDS)


def test_the_v1_action_answers_the_registrys_message(api, lead):
    TagFactory(account=lead.account, name="VIP")
    response = api.post("/api/v1/actions/assign_tag", {"email": lead.email, "tag": "VIP"}, format="json")
    assert response.json()["message"] == COMMANDS["assign_tag"].message == ACTIONS["assign_tag"].message


def test_every_command_names_its_asset_inputs_by_kind_or_part():
    for command in COMMANDS.values():
        for key in command.assets:
            assert key in ASSET_KINDS_BY_KEY or key in PARTS, (command.name, key)
