"""POST /api under odd input: bracket keys and values drawn by hypothesis (NUL, lone surrogates,
digits of other scripts, unbalanced and deep brackets, huge indexes), raw form and JSON bodies: the
answer is 200 (the platform's envelope), 400 (not a command API request) or 429, never a 500.
FUZZ_MAX_EXAMPLES (as for `make fuzz`) runs a longer pass."""

import json
import os
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.leads.command_api.conftest import credentials
from tests.leads.factories import LeadFactory, TagFactory

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
ODD_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=20) | st.sampled_from(
    ["\x00", "\ud800", "١٢", "²", "9" * 40, "[", "]", "][", "[[]]", "a[b", "-1", "1e9", ""]
)
KEY = st.lists(
    st.sampled_from(
        [
            "lead",
            "actions",
            "get_lead",
            "0",
            "99999",
            "cmd",
            "email",
            "id",
            "[]",
            "custom_fields",
            "field_value",
            "tag_name",
        ]
    )
    | ODD_TEXT,
    min_size=1,
    max_size=8,
).map(lambda parts: parts[0] + "".join(f"[{part}]" for part in parts[1:]))
CMD = st.sampled_from(
    ["create_lead", "assign_tag", "retrieve_account_tags", "retrieve_custom_fields", "get_lead", "nope"]
)

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def fuzz_setup(account, live_app, settings):
    settings.COMMAND_API_RATE_PER_APP = 10**6
    LeadFactory(account=account, email="ada@example.com")
    TagFactory(account=account, name="Customer")
    return credentials(live_app, account)


def _assert_answered(response) -> None:
    assert response.status_code in (200, 400), response.content[:300]
    body = response.json()
    assert body["status"] in ("Success", "Error")


@FUZZ
@given(pairs=st.lists(st.tuples(KEY, ODD_TEXT | CMD), max_size=12))
@example(pairs=[("get_lead[email]", "ada@example.com")])
@example(pairs=[("actions[0][cmd]", "retrieve_account_tags"), ("lead[email]", "\x00")])
@example(pairs=[("actions[9999999999999999][cmd]", "assign_tag")])
@example(pairs=[("get_lead[id]", "99999999999999999999999")])
def test_no_server_error_on_any_form_body(fuzz_setup, pairs):
    body = "&".join(
        f"{quote(key, safe='[]', errors='surrogatepass')}={quote(value, errors='surrogatepass')}"
        for key, value in [*fuzz_setup.items(), *pairs]
    )
    response = Client().post("/api", data=body, content_type="application/x-www-form-urlencoded")
    _assert_answered(response)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ODD_TEXT | CMD,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ODD_TEXT | CMD, children, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={"lead": JSON_VALUE, "actions": JSON_VALUE, "get_lead": JSON_VALUE, "api_key": JSON_VALUE},
    )
)
@example(body={"actions": [{"cmd": "retrieve_account_tags"}], "lead": {"email": ["a"]}})
@example(body={"get_lead": {"id": 2**70}})
def test_no_server_error_on_any_json_body(fuzz_setup, body):
    payload = {**fuzz_setup, **body}
    raw = json.dumps(payload).encode("utf-8", errors="surrogatepass")
    response = Client().post("/api", data=raw, content_type="application/json")
    _assert_answered(response)


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00", b"a=%", b"%%%%", b"=" * 1000, b"&" * 5000, b"a[" * 2000 + b"=1", b"a" + b"[b]" * 2000 + b"=1"],
)
def test_no_server_error_on_raw_garbage(fuzz_setup, raw):
    response = Client().post("/api", data=raw, content_type="application/x-www-form-urlencoded")
    _assert_answered(response)
