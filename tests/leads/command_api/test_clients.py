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

from leads.command_api import commands
from leads.models import LeadTag, Tag
from tests.leads.command_api.conftest import credentials
from tests.leads.command_api.test_parsing import NODE_QS_BODY
from tests.leads.factories import LeadFactory, TagFactory

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


@pytest.fixture
def registry(monkeypatch, account):
    """Stands in for the command registry's assign_tag until it is wired: assigns the named tag."""

    def run_command(name, inputs, *, account, test_mode):
        assert name == "assign_tag"
        lead = account.leads.get(email=inputs["lead"]["email"])
        LeadTag.objects.create(lead=lead, tag=Tag.objects.get(account=account, name=inputs["tag_name"]))
        return {}

    monkeypatch.setattr(commands, "run_command", run_command)


def test_php_style_client_reads_actions_status_and_lead_details(account, live_app, registry):
    LeadFactory(account=account, email="ann@example.com")
    TagFactory(account=account, name="Customer & VIP")
    fields = {
        **credentials(live_app, account),
        "lead[email]": "ann@example.com",
        "actions[0][cmd]": "assign_tag",
        "actions[0][tag_name]": "Customer & VIP",
    }
    reply = Client().post("/api", data=urlencode(fields), content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 200
    server_json = reply.json()  # PHP: json_decode($response)
    assert server_json["actions"][0]["assign_tag"]["status"] == "Success"
    assert server_json["actions"][0]["assign_tag"]["message"] == "Tag added to lead"

    probe = urlencode({**credentials(live_app, account), "get_lead[email]": "ann@example.com"})
    details = Client().post("/api", data=probe, content_type="application/x-www-form-urlencoded").json()
    assert details["status"] == "Success"
    assert [tag["tag_name"] for tag in details["lead_details"]["tags"]] == ["Customer & VIP"]


def test_node_qs_client_reads_actions_status_and_lead_details(account, live_app, registry):
    lead = LeadFactory(account=account, email="bob@example.com")
    TagFactory(account=account, name="Lead (hot)")
    body = qs_stringify(
        {
            **credentials(live_app, account),
            "lead": {"email": "bob@example.com"},
            "actions": [{"cmd": "assign_tag", "tag_name": "Lead (hot)"}, {"cmd": "retrieve_account_tags"}],
        }
    )
    result = Client().post("/api", data=body, content_type="application/x-www-form-urlencoded").json()
    assert result["actions"][0]["assign_tag"]["status"] == "Success"  # result.data.actions[0].assign_tag
    assert result["actions"][1]["retrieve_account_tags"]["account_tags"] == ["Lead (hot)"]

    probe = qs_stringify({**credentials(live_app, account), "get_lead": {"id": str(lead.pk)}})
    details = Client().post("/api", data=probe, content_type="application/x-www-form-urlencoded").json()
    assert details["lead_details"]["email"] == "bob@example.com"
    assert details["lead_details"]["tags"][0]["tag_name"] == "Lead (hot)"
