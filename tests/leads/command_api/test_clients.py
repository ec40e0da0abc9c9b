"""POST /api called the way the public clients call it: a PHP-style form body built with
urllib.parse.urlencode over bracket keys, and a body produced by Node's qs.stringify (run with node
when it is installed: a minimal qs.stringify with qs's defaults, indices and RFC 3986 encoding;
otherwise the same body vendored), both read the way those clients read the reply."""

import json
import shutil
import subprocess
from urllib.parse import urlencode

import pytest
from django.test import Client

from leads.models import CustomFieldOption, CustomFieldType, Lead
from tests.leads.command_api.conftest import credentials
from tests.leads.command_api.test_parsing import NODE_QS_BODY
from tests.leads.factories import CustomFieldFactory, TagFactory

# qs.stringify(obj) with qs 6's defaults: brackets with indices, encodeURIComponent plus !'()* escaped.
QS_STRINGIFY_JS = r"""
const enc = s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function walk(value, prefix, out) {
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) walk(value[key], prefix ? prefix + '[' + key + ']' : key, out);
  } else out.push(enc(prefix) + '=' + enc(String(value)));
  return out;
}
process.stdout.write(walk(JSON.parse(process.argv[1]), '', []).join('&'));
"""


def qs_stringify(value: dict) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return subprocess.run(
        [node, "-e", QS_STRINGIFY_JS, json.dumps(value)], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def test_the_inline_qs_stringify_matches_the_vendored_node_body():
    value = {
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
    assert qs_stringify(value) == NODE_QS_BODY


def test_php_style_client_creates_a_lead_and_tags_it_in_one_chained_call(account, live_app):
    TagFactory(account=account, name="Customer & VIP")
    colour = CustomFieldFactory(account=account, identifier="colour")
    fields = {
        **credentials(live_app, account),
        "lead[email]": "ann@example.com",
        "lead[first_name]": "Ann",
        "lead[custom_fields][0][field_identifier]": colour.identifier,
        "lead[custom_fields][0][field_value]": "red",
        "actions[0][cmd]": "create_lead",
        "actions[1][cmd]": "assign_tag",
        "actions[1][tag_name]": "Customer & VIP",
    }
    reply = Client().post("/api", data=urlencode(fields), content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 200
    server_json = reply.json()  # PHP: json_decode($response)
    lead_id = server_json["actions"][0]["create_lead"]["lead_details"]["id"]  # WP Fusion's read
    assert lead_id == str(Lead.objects.get(account=account, email="ann@example.com").pk)
    assert server_json["actions"][1]["assign_tag"]["status"] == "Success"
    assert server_json["actions"][1]["assign_tag"]["message"] == "Tag added to lead"

    probe = urlencode({**credentials(live_app, account), "get_lead[id]": lead_id})
    details = Client().post("/api", data=probe, content_type="application/x-www-form-urlencoded").json()
    assert details["status"] == "Success"
    assert details["lead_details"]["first_name"] == "Ann"
    assert [tag["tag_name"] for tag in details["lead_details"]["tags"]] == ["Customer & VIP"]
    assert details["lead_details"]["custom_fields"][0]["field_value"] == "red"


def test_node_qs_client_creates_a_lead_and_tags_it_in_one_chained_call(account, live_app):
    TagFactory(account=account, name="Lead (hot)")
    hobbies = CustomFieldFactory(account=account, identifier="hobbies", type=CustomFieldType.CHECKBOX)
    chess = CustomFieldOption.objects.create(field=hobbies, value="Chess", position=1)
    golf = CustomFieldOption.objects.create(field=hobbies, value="Golf", position=2)
    body = qs_stringify(
        {
            **credentials(live_app, account),
            "lead": {
                "email": "bob@example.com",
                "custom_fields": [{"field_identifier": "hobbies", "field_value": [str(chess.pk), str(golf.pk)]}],
            },
            "actions": [
                {"cmd": "create_lead"},
                {"cmd": "assign_tag", "tag_name": "Lead (hot)"},
                {"cmd": "retrieve_account_tags"},
            ],
        }
    )
    result = Client().post("/api", data=body, content_type="application/x-www-form-urlencoded").json()
    created = result["actions"][0]["create_lead"]  # result.data.actions[0].create_lead
    assert created["status"] == "Success"
    assert result["actions"][1]["assign_tag"]["status"] == "Success"
    assert result["actions"][2]["retrieve_account_tags"]["account_tags"] == ["Lead (hot)"]

    probe = qs_stringify({**credentials(live_app, account), "get_lead": {"id": created["lead_details"]["id"]}})
    details = Client().post("/api", data=probe, content_type="application/x-www-form-urlencoded").json()
    assert details["lead_details"]["email"] == "bob@example.com"
    assert details["lead_details"]["tags"][0]["tag_name"] == "Lead (hot)"
    checked = details["lead_details"]["custom_fields"][0]["field_value"]
    assert [option["option_value"] for option in checked] == ["Chess", "Golf"]
