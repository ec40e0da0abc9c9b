"""The bracket parser of POST /api: PHP http_build_query and Node qs.stringify bodies, JSON, multipart,
query-string credentials, and odd input refused cleanly (ParseFailure, never an exception escaping)."""

import json
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory

from leads.command_api.parsing import (
    BODY_MAX_BYTES,
    BODY_MAX_KEYS,
    LIST_MAX_ITEMS,
    ParseFailure,
    brackets_decode,
    request_data,
)

FORM = "application/x-www-form-urlencoded"

# PHP: http_build_query(['app_id' => 'a1', 'lead' => ['email' => 'ann@example.com', 'custom_fields' => [
#   ['field_identifier' => 'colour', 'field_value' => 'red'], ['field_identifier' => 'hobbies',
#   'field_value' => [3, 4]]]], 'actions' => [['cmd' => 'create_lead'], ['cmd' => 'assign_tag',
#   'tag_name' => 'Customer & VIP']]])
PHP_BODY = (
    "app_id=a1&lead%5Bemail%5D=ann%40example.com"
    "&lead%5Bcustom_fields%5D%5B0%5D%5Bfield_identifier%5D=colour"
    "&lead%5Bcustom_fields%5D%5B0%5D%5Bfield_value%5D=red"
    "&lead%5Bcustom_fields%5D%5B1%5D%5Bfield_identifier%5D=hobbies"
    "&lead%5Bcustom_fields%5D%5B1%5D%5Bfield_value%5D%5B0%5D=3"
    "&lead%5Bcustom_fields%5D%5B1%5D%5Bfield_value%5D%5B1%5D=4"
    "&actions%5B0%5D%5Bcmd%5D=create_lead"
    "&actions%5B1%5D%5Bcmd%5D=assign_tag&actions%5B1%5D%5Btag_name%5D=Customer+%26+VIP"
)
# Node: qs.stringify({app_id: 'a1', lead: {email: 'ann@example.com', custom_fields: [{field_identifier:
#   'colour', field_value: 'red'}, {field_identifier: 'hobbies', field_value: ['3', '4']}]}, actions:
#   [{cmd: 'create_lead'}, {cmd: 'assign_tag', tag_name: 'Customer & VIP'}]}) (qs 6.x defaults)
NODE_QS_BODY = (
    "app_id=a1&lead%5Bemail%5D=ann%40example.com"
    "&lead%5Bcustom_fields%5D%5B0%5D%5Bfield_identifier%5D=colour"
    "&lead%5Bcustom_fields%5D%5B0%5D%5Bfield_value%5D=red"
    "&lead%5Bcustom_fields%5D%5B1%5D%5Bfield_identifier%5D=hobbies"
    "&lead%5Bcustom_fields%5D%5B1%5D%5Bfield_value%5D%5B0%5D=3"
    "&lead%5Bcustom_fields%5D%5B1%5D%5Bfield_value%5D%5B1%5D=4"
    "&actions%5B0%5D%5Bcmd%5D=create_lead"
    "&actions%5B1%5D%5Bcmd%5D=assign_tag&actions%5B1%5D%5Btag_name%5D=Customer%20%26%20VIP"
)
EXPECTED = {
    "app_id": "a1",
    "lead": {
        "email": "ann@example.com",
        "custom_fields": [
            {"field_identifier": "colour", "field_value": "red"},
            {"field_identifier": "hobbies", "field_value": ["3", "4"]},
        ],
    },
    "actions": [{"cmd": "create_lead"}, {"cmd": "assign_tag", "tag_name": "Customer & VIP"}],
}


def _post(body, content_type=FORM, path="/api"):
    return RequestFactory().post(path, data=body, content_type=content_type)


def test_php_http_build_query_body_is_read_as_nested_arrays():
    assert brackets_decode(PHP_BODY) == EXPECTED


def test_node_qs_stringify_body_is_read_as_nested_arrays():
    assert brackets_decode(NODE_QS_BODY) == EXPECTED


def test_unencoded_brackets_and_empty_brackets_make_lists():
    data = brackets_decode("lead[custom_fields][0][field_value][]=3&lead[custom_fields][0][field_value][]=4")
    assert data == {"lead": {"custom_fields": [{"field_value": ["3", "4"]}]}}


def test_a_repeated_plain_key_keeps_its_last_value_as_php_does():
    assert brackets_decode("api_key=one&api_key=two") == {"api_key": "two"}


def test_json_body_of_the_same_shape_is_read_as_is():
    assert request_data(_post(json.dumps(EXPECTED), "application/json")) == EXPECTED


def test_multipart_body_with_brackets_is_read_like_a_form():
    request = RequestFactory().post(
        "/api", data={"lead[email]": "ann@example.com", "actions[0][cmd]": "create_lead", "tags[]": ["a", "b"]}
    )
    assert request.content_type == "multipart/form-data"
    assert request_data(request) == {
        "lead": {"email": "ann@example.com"},
        "actions": [{"cmd": "create_lead"}],
        "tags": ["a", "b"],
    }


def test_credentials_in_the_query_string_fill_what_the_body_lacks():
    request = _post(
        "actions[0][cmd]=retrieve_account_tags&api_key=body-key", path="/api?app_id=q1&api_key=q2&api_password=q3"
    )
    data = request_data(request)
    assert (data["app_id"], data["api_key"], data["api_password"]) == ("q1", "body-key", "q3")


def test_a_lead_sent_as_a_list_of_one_object_is_read_as_the_lead():
    data = request_data(_post(json.dumps({"lead": [{"email": "ann@example.com"}]}), "application/json"))
    assert data["lead"] == {"email": "ann@example.com"}


def test_urlencode_over_bracket_keys_round_trips():
    body = urlencode({"lead[email]": "a+b@example.com", "actions[0][cmd]": "search_lead"})
    assert request_data(_post(body)) == {"lead": {"email": "a+b@example.com"}, "actions": [{"cmd": "search_lead"}]}


@pytest.mark.parametrize(
    "body, field",
    [
        ("lead[email=a@b.com", "lead"),
        ("lead[email]]=a@b.com", "lead"),
        ("a]b=1", "a]b"),
    ],
)
def test_unbalanced_brackets_are_refused_naming_the_key(body, field):
    with pytest.raises(ParseFailure) as failure:
        request_data(_post(body))
    assert failure.value.field == field
    assert "Unbalanced brackets" in failure.value.message


def test_a_huge_list_index_is_refused_not_allocated():
    with pytest.raises(ParseFailure, match="list index"):
        brackets_decode("actions[99999999999][cmd]=create_lead")


def test_the_highest_allowed_list_index_is_read():
    data = brackets_decode(f"actions[{LIST_MAX_ITEMS - 1}][cmd]=assign_tag")
    assert data["actions"] == [{"cmd": "assign_tag"}]


def test_deep_nesting_is_refused():
    with pytest.raises(ParseFailure, match="nested more than"):
        brackets_decode("a" + "[b]" * 50 + "=1")


def test_too_many_keys_are_refused():
    with pytest.raises(ParseFailure, match="keys"):
        brackets_decode("&".join(f"k{i}=1" for i in range(BODY_MAX_KEYS + 1)))


def test_a_body_past_the_size_limit_is_refused():
    with pytest.raises(ParseFailure, match="larger than"):
        request_data(_post("a=" + "x" * BODY_MAX_BYTES))


@pytest.mark.parametrize(
    "body, content_type, field",
    [
        ("lead[email]=a%00b@example.com", FORM, "lead"),
        ("lead[fir%00st]=x", FORM, "lead"),
        ('{"lead": {"email": "a\\ud800b@example.com"}}', "application/json", "lead"),
        ('{"api_key": "k\\u0000"}', "application/json", "api_key"),
    ],
)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(body, content_type, field):
    with pytest.raises(ParseFailure) as failure:
        request_data(_post(body, content_type))
    assert failure.value.field == field


def test_invalid_utf8_in_a_form_is_read_as_replacement_characters():
    assert brackets_decode("lead[first_name]=%ED%A0%80")["lead"]["first_name"] == "\ufffd\ufffd\ufffd"


@pytest.mark.parametrize(
    "body",
    ["{", "[1, 2]", '"text"', "[" * 100_000 + "]" * 100_000, '{"a":' * 40 + "1" + "}" * 40],
)
def test_malformed_or_deep_json_is_refused(body):
    with pytest.raises(ParseFailure):
        request_data(_post(body, "application/json"))


@pytest.mark.parametrize(
    "body",
    [
        {"actions": [{"cmd": "retrieve_account_tags"}] * (LIST_MAX_ITEMS + 1)},
        {"actions": {str(i): {"cmd": "retrieve_account_tags"} for i in range(LIST_MAX_ITEMS + 1)}},
        {f"k{i}": [1, 2, 3, 4, 5] for i in range(BODY_MAX_KEYS // 5 + 1)},
    ],
)
def test_a_json_body_has_the_forms_limits(body):
    with pytest.raises(ParseFailure):
        request_data(_post(json.dumps(body), "application/json"))
