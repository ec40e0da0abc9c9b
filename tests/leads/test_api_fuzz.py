"""Property-based fuzzing of every /api/v1 operation from its OpenAPI schema (schemathesis over the
WSGI app), and of the odd input it does not make (lone surrogates, NUL, digits of other scripts,
deep nesting, huge numbers; the Basic header and the hosted pages): whatever the input, no 500.
A quick pass runs in the suite; `make fuzz` runs a long one (FUZZ_MAX_EXAMPLES), on PostgreSQL
with DATABASE_URL (NUL and integer ranges fail there, not on SQLite)."""

import base64
import json
import os
from urllib.parse import quote

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error

from kartra_integrations.wsgi import application
from leads.api.actions import ACTIONS
from leads.api.event_inputs import EVENT_PARAMS
from leads.demo import demo_assets_create
from leads.hosted import views as hosted_views
from leads.models import Form, Product
from tests.conftest import basic_auth
from tests.leads.factories import LeadFactory

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))


@pytest.fixture
def api_schema(db):
    # Like Django's test client: keep the test's connection (and transaction) open across requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def fuzz_account(account, settings, monkeypatch):
    # Every request comes from one address: the throttles would answer 429 long before a long run ends.
    settings.API_RATE_PER_ACCOUNT = "100000/s"
    monkeypatch.setattr(hosted_views, "HOSTED_REQUESTS_PER_WINDOW", 10**9)
    demo_assets_create(account=account)
    LeadFactory(account=account, email="ada@example.com")
    return account


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_error_on_any_input(case, fuzz_account):
    issued = _credential_for(case.path, fuzz_account)
    response = case.call(headers={"Authorization": basic_auth(issued.api_key, issued.api_password)})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500


# ---------------------------------------------------------------------------------------------
# Odd input schemathesis does not make: it writes bodies as UTF-8 (no lone surrogates), rarely
# picks digits of other scripts, never nests deeply, and leaves the Basic header and the hosted
# pages alone. Each of these answered 500 once. Every field of a body gets an
# odd value here, so a few examples per operation try many of them.

# Decimal digits of other scripts ("١", "৩", "１") read as ids by int(); "²" passes isdigit()
# but not int().
UNICODE_DIGITS = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=4)
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
ODD_TEXT = st.one_of(
    UNICODE_DIGITS,
    st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=5), st.text(max_size=5)),
    st.builds(lambda a, s: a + s, st.text(max_size=5), SURROGATE),
    st.text(st.characters(exclude_categories=()), max_size=8),  # any code point, surrogates included
    st.integers(min_value=0, max_value=10**40).map(str),
)
HUGE_NUMBERS = st.one_of(
    st.sampled_from([2**31 - 1, 2**31, 2**32 + 1, 2**53, 2**63 - 1, 2**63, 2**64 + 1, -(2**63) - 1]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.floats(allow_nan=False, allow_infinity=False),
)
DEEP = "\x00deep\x00"  # replaced by deep nesting in the JSON text
ODD_LEAF = st.one_of(ODD_TEXT, HUGE_NUMBERS, st.booleans(), st.none(), st.just(DEEP))
ODD_VALUE = st.recursive(
    ODD_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3), max_leaves=6
)


def odd_json(body, depth: int) -> str:
    """JSON text as a client could send it: \\u escapes keep lone surrogates; DEEP nests `depth` deep."""
    text = json.dumps(body, ensure_ascii=True)
    return text.replace(json.dumps(DEEP), "[" * depth + "]" * depth)


def _post_operations() -> dict[str, list[str]]:
    """path -> the body's field names, from our own schema (and, for events, every event's fields)."""
    from django.test import Client

    schema = Client().get("/api/v1/schema?format=json").json()
    components = schema["components"]["schemas"]
    operations = {}
    for path, methods in schema["paths"].items():
        if "post" not in methods:
            continue
        content = methods["post"].get("requestBody", {}).get("content", {}).get("application/json", {})
        ref = content.get("schema", {}).get("$ref", "")
        fields = list(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
        if path == "/api/v1/events":
            fields += sorted({name for params in EVENT_PARAMS.values() for name in params().fields})
        operations[path] = fields
    return operations


@pytest.fixture(scope="module")
def post_operations(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return _post_operations()


ODD = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def answered_in_the_error_shape(response) -> None:
    """No 500; a refusal from a view is {"message", "code", ...}. (A path no route matches, such as
    /api/v1/hooks/<not digits>, is Django's own 404 page.)"""
    assert response.status_code < 500
    if response.status_code >= 400 and response["Content-Type"] == "application/json":
        assert {"message", "code"} <= set(response.json())


def _credential_for(path: str, account):
    """/api/v1/events takes the platform credential; every other endpoint Zapier's."""
    return account.platform_issued if path == "/api/v1/events" else account.issued


def _api(account, path: str = "") -> APIClient:
    issued = _credential_for(path, account)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(issued.api_key, issued.api_password))
    return client


@pytest.mark.parametrize(
    "path",
    [
        *(f"/api/v1/actions/{command}" for command in ACTIONS),
        "/api/v1/events",
        "/api/v1/hooks",
    ],
)
@ODD
@given(data=st.data(), depth=st.sampled_from([3, 40, 5_000, 50_000]))
def test_no_server_error_on_odd_bodies(path, data, depth, fuzz_account, post_operations):
    fields = post_operations[path]
    base = {"email": "ada@example.com"} if "email" in fields else {}
    if path == "/api/v1/events":
        base["event"] = data.draw(st.sampled_from(sorted(EVENT_PARAMS)), label="event")
    odd = data.draw(st.dictionaries(st.sampled_from(fields), ODD_VALUE, min_size=1), label="odd fields")
    extra = data.draw(st.dictionaries(ODD_TEXT, ODD_VALUE, max_size=2), label="extra keys")
    body = odd_json({**base, **odd, **extra}, depth)
    answered_in_the_error_shape(_api(fuzz_account, path).post(path, body, content_type="application/json"))


def _quoted(text: str) -> str:
    """Percent-encoded as sent: a lone surrogate becomes the bytes UTF-8 would have (invalid UTF-8)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@ODD
@given(value=ODD_TEXT)
def test_no_server_error_on_odd_path_and_query_values(value, fuzz_account):
    api = _api(fuzz_account)
    quoted = _quoted(value)
    for response in (
        api.get(f"/api/v1/leads/{quoted}"),
        api.get(f"/api/v1/leads/search?email={quoted}"),
        api.get(f"/api/v1/hooks/samples/{quoted}"),
        api.delete(f"/api/v1/hooks/{quoted}"),
        api.get(f"/api/v1/tags?search={quoted}&page={quoted}&page_size={quoted}"),
    ):
        answered_in_the_error_shape(response)


@ODD
@example(user="ki_\x00", password="x")
@given(user=ODD_TEXT, password=ODD_TEXT)
def test_no_server_error_on_odd_basic_credentials(user, password, fuzz_account):
    credentials = f"{user}:{password}".encode("utf-8", "surrogatepass")
    header = "Basic " + base64.b64encode(credentials).decode()
    response = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


@ODD
@example(public_id="\x00", fields={"email": "\x00", "first_name": "\ud800"})
@given(public_id=ODD_TEXT, fields=st.dictionaries(st.sampled_from(["email", "first_name", "last_name"]), ODD_TEXT))
def test_no_server_error_on_the_hosted_pages(public_id, fields, fuzz_account):
    from django.test import Client

    client = Client()
    posted = {name: value.encode("utf-8", "surrogatepass") for name, value in fields.items()}
    form = Form.objects.filter(account=fuzz_account).first()
    product = Product.objects.filter(account=fuzz_account).first()
    for path in (f"/f/{_quoted(public_id)}/", f"/c/{_quoted(public_id)}/thanks/"):
        assert client.get(path).status_code == 404
        assert client.post(path, posted).status_code == 404
    for path in (form.get_absolute_url(), product.get_absolute_url()):
        assert client.post(path, posted).status_code < 500
