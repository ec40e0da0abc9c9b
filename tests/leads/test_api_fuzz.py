"""Property-based fuzzing of every /api/v1 operation from its OpenAPI schema (schemathesis over the
WSGI app): whatever the input, no 500. A quick pass runs in the suite; `make fuzz` runs a long one
(FUZZ_MAX_EXAMPLES)."""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kartra_integrations.wsgi import application
from leads.demo import demo_assets_create
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
def fuzz_account(account, settings):
    settings.API_RATE_PER_ACCOUNT = "100000/s"
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
    auth = basic_auth(fuzz_account.issued.api_key, fuzz_account.issued.api_password)
    response = case.call(headers={"Authorization": auth})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500
