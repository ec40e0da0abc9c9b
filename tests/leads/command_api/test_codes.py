"""The code registry (reference section 3) and the reply envelopes."""

from leads.command_api import codes


def test_every_error_is_a_2xx_code_and_every_success_a_1xx_code():
    assert all(200 <= number < 300 for number in codes.ERRORS)
    assert all(100 <= reply.type < 200 for reply in codes.SUCCESSES)


def test_the_texts_clients_match_on_are_exact():
    assert codes.ERRORS[243] == codes.ERRORS[234] == "No lead found"
    assert codes.ERRORS[244] == "Lead already exists"
    assert codes.ERRORS[239] == "App Id is not valid. The app does not exists or is inactive"
    assert codes.LIST_UNSUBSCRIBED == (101, "Lead unsubscribed from list")
    assert codes.CUSTOM_FIELD_CREATED == (114, "Custom Field created")


def test_a_single_reply_has_status_message_and_a_numeric_string_type():
    assert codes.failure(codes.error(244)) == {"status": "Error", "message": "Lead already exists", "type": "244"}
    assert codes.success(codes.TAG_ADDED) == {"status": "Success", "message": "Tag added to lead", "type": "103"}


def test_a_chained_reply_keys_each_action_by_its_cmd_in_order():
    reply = codes.chained([("create_lead", {"status": "Success"}), ("assign_tag", codes.success(codes.TAG_ADDED))])
    assert reply["status"] == "Success"
    assert [next(iter(item)) for item in reply["actions"]] == ["create_lead", "assign_tag"]


def test_an_error_no_table_names_keeps_the_services_message_under_262():
    reply = codes.error_for("assign_tag", "something_new", "Something new went wrong")
    assert reply == (262, "Something new went wrong")
