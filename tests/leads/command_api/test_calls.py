"""The shape of a call (lead, actions) and of its reply: errors 223/224/254/206/262, actions in order,
each answering for itself, write commands routed through run_command with the call's inputs, account
and test mode, and the services' errors given the platform's numbers."""

import pytest

from kartra_integrations.errors import ApplicationError, NotFound
from leads.command_api import commands
from tests.leads.factories import LeadFactory


@pytest.fixture
def ran(monkeypatch):
    """Replace the registry entry with a recorder: each call's (name, inputs, account, test_mode);
    `ran.answers[name]` is what that command returns (a dict) or raises (an exception)."""

    calls = []

    def run_command(name, inputs, *, account, test_mode):
        calls.append((name, inputs, account, test_mode))
        answer = run_command.answers.get(name, {})
        if isinstance(answer, Exception):
            raise answer
        return answer

    run_command.calls = calls
    run_command.answers = {}
    monkeypatch.setattr(commands, "run_command", run_command)
    return run_command


def test_chained_create_lead_and_assign_tag_answer_in_order_keyed_by_cmd(call, account, ran):
    lead = LeadFactory(account=account, email="ann@example.com")
    ran.answers["create_lead"] = {"lead": lead}
    body = call(
        {
            "lead[email]": "ann@example.com",
            "lead[first_name]": "Ann",
            "actions[0][cmd]": "create_lead",
            "actions[1][cmd]": "assign_tag",
            "actions[1][tag_name]": "Customer",
        }
    ).json()
    assert body["status"] == "Success"
    create, assign = body["actions"]
    assert create["create_lead"]["status"] == "Success"
    assert create["create_lead"]["lead_details"]["id"] == str(lead.pk)
    assert assign == {"assign_tag": {"status": "Success", "message": "Tag added to lead", "type": "103"}}
    (name0, inputs0, account0, test0), (name1, inputs1, _, _) = ran.calls
    assert (name0, account0, test0) == ("create_lead", account, False)
    assert inputs0 == {"lead": {"email": "ann@example.com", "first_name": "Ann"}}
    assert (name1, inputs1) == (
        "assign_tag",
        {"tag_name": "Customer", "lead": {"email": "ann@example.com", "first_name": "Ann"}},
    )


def test_a_failing_action_does_not_stop_the_ones_after_it(call, ran):
    ran.answers["assign_tag"] = NotFound('Tag "Nope" does not exist', code="tag_not_found")
    body = call(
        {
            "lead[email]": "ann@example.com",
            "actions[0][cmd]": "assign_tag",
            "actions[0][tag_name]": "Nope",
            "actions[1][cmd]": "subscribe_lead_to_list",
            "actions[1][list_name]": "News",
        }
    ).json()
    assert body["actions"][0]["assign_tag"] == {"status": "Error", "message": "Tag does not exist", "type": "212"}
    assert body["actions"][1]["subscribe_lead_to_list"]["type"] == "101"
    assert [name for name, *_ in ran.calls] == ["assign_tag", "subscribe_lead_to_list"]


@pytest.mark.parametrize(
    "cmd, code, fields, expected",
    [
        ("unassign_tag", "tag_not_found", None, "214"),
        ("subscribe_lead_to_list", "list_not_found", None, "231"),
        ("unsubscribe_lead_from_list", "list_not_found", None, "209"),
        ("give_points_to_lead", "invalid", {"points": ["A number."]}, "227"),
        ("remove_points_from_lead", "invalid", {"points": ["A number."]}, "228"),
        ("give_points_to_lead", "invalid", {"points": ["This field is required."]}, "215"),
        ("remove_points_from_lead", "invalid", {"points": ["This field may not be blank."]}, "217"),
        ("assign_tag", "invalid", {"tag_name": ["This field is required."]}, "211"),
        ("unassign_tag", "invalid", {"tag_name": ["This field is required."]}, "213"),
        ("subscribe_lead_to_sequence_at_step", "invalid", {"step": ["This field is required."]}, "225"),
        ("create_lead", "lead_exists", None, "244"),
        ("edit_lead", "lead_not_found", None, "243"),
        ("create_lead", "invalid_custom_field", None, "271"),
        ("refund_transaction", "already_refunded", None, "251"),
        ("calendar_subscribe", "starts_at_in_past", None, "261"),
    ],
)
def test_service_errors_get_the_platforms_numbers(call, ran, cmd, code, fields, expected):
    ran.answers[cmd] = ApplicationError("refused", code=code, fields=fields)
    body = call({"lead[email]": "ann@example.com", "lead[id]": "5", "actions[0][cmd]": cmd}).json()
    assert body["actions"][0][cmd]["type"] == expected


def test_test_mode_is_passed_to_the_registry_and_rewrites_the_leads_email_domain(call, test_app, ran):
    call(
        {"lead[email]": "johnsmith@gmail.com", "lead[new_email]": "john@yahoo.com", "actions[0][cmd]": "edit_lead"},
        app=test_app,
    )
    ((name, inputs, _, test_mode),) = ran.calls
    assert test_mode is True
    assert inputs["lead"] == {"email": "johnsmith@kartra.com", "new_email": "john@kartra.com"}


def test_lead_that_is_not_an_array_is_223(call):
    assert call({"lead": "ann@example.com", "actions[0][cmd]": "assign_tag"}).json() == {
        "status": "Error",
        "message": "'lead' not an array",
        "type": "223",
    }


def test_actions_that_are_not_an_array_is_224(call):
    assert call({"actions": "create_lead"}).json()["type"] == "224"


def test_a_call_without_actions_or_get_lead_is_254(call):
    assert call({"lead[email]": "ann@example.com"}).json() == {
        "status": "Error",
        "message": "'cmd' is required",
        "type": "254",
    }


def test_an_action_without_cmd_is_254_in_its_place(call):
    body = call({"actions[0][tag_name]": "X", "actions[1][cmd]": "retrieve_account_tags"}).json()
    assert body["actions"][0] == {"cmd": {"status": "Error", "message": "'cmd' is required", "type": "254"}}
    assert body["actions"][1]["retrieve_account_tags"]["status"] == "Success"


def test_an_unknown_cmd_is_262(call):
    assert call({"actions[0][cmd]": "delete_everything"}).json()["actions"][0]["delete_everything"]["type"] == "262"


def test_a_cmd_outside_the_apps_command_allow_list_is_262(call, live_app, ran):
    live_app.allowed_commands = ["retrieve_account_tags"]
    live_app.save()
    body = call(
        {"lead[email]": "a@b.com", "actions[0][cmd]": "retrieve_account_tags", "actions[1][cmd]": "assign_tag"}
    ).json()
    assert body["actions"][0]["retrieve_account_tags"]["status"] == "Success"
    assert body["actions"][1]["assign_tag"] == {
        "status": "Error",
        "message": "App does not have permission to execute this CMD",
        "type": "262",
    }
    assert ran.calls == []


@pytest.mark.parametrize("lead", [{}, {"lead[first_name]": "Ann"}, {"lead[email]": ""}])
def test_a_lead_command_without_email_or_id_is_206(call, ran, lead):
    body = call({**lead, "actions[0][cmd]": "assign_tag", "actions[0][tag_name]": "X"}).json()
    assert body["actions"][0]["assign_tag"] == {
        "status": "Error",
        "message": "email or lead id is required. Nothing done",
        "type": "206",
    }
    assert ran.calls == []


def test_create_lead_needs_an_email_even_with_an_id(call, ran):
    body = call({"lead[id]": "5", "actions[0][cmd]": "create_lead"}).json()
    assert body["actions"][0]["create_lead"]["type"] == "206"


def test_create_lead_after_actions_0_is_refused_in_its_place(call, ran):
    body = call({"lead[email]": "a@b.com", "actions[0][cmd]": "assign_tag", "actions[1][cmd]": "create_lead"}).json()
    assert body["actions"][1]["create_lead"]["type"] == "254"
    assert body["actions"][1]["create_lead"]["message"] == "create_lead must be actions[0]"
    assert [name for name, *_ in ran.calls] == ["assign_tag"]


def test_account_level_billing_commands_need_no_lead(call, ran):
    call({"actions[0][cmd]": "refund_transaction", "actions[0][transaction_id]": "7"})
    assert ran.calls[0][:2] == ("refund_transaction", {"transaction_id": "7"})


def test_json_actions_keyed_by_index_run_in_index_order(account, live_app, ran):
    import json

    from django.test import Client

    from tests.leads.command_api.conftest import credentials

    payload = {
        **credentials(live_app, account),
        "lead": {"email": "a@b.com"},
        "actions": {"1": {"cmd": "unassign_tag", "tag_name": "B"}, "0": {"cmd": "assign_tag", "tag_name": "A"}},
    }
    body = Client().post("/api", data=json.dumps(payload), content_type="application/json").json()
    assert [next(iter(item)) for item in body["actions"]] == ["assign_tag", "unassign_tag"]
