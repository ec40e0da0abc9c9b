"""create_account and load_demo_data print both API credentials, each working where it belongs."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db

EVENT = {"event": "video_play", "email": "nobody@example.com", "video": "Welcome"}


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def client_for(key: str, password: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(key, password))
    return client


def test_create_account_prints_a_working_platform_events_credential():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "Biz", "--zapier-approved"))
    platform = client_for(printed["platform_api_key"], printed["platform_api_password"])
    # Authenticated and allowed: the unknown lead is the only complaint.
    assert platform.post("/api/v1/events", EVENT, format="json").json()["code"] == "lead_not_found"
    assert platform.get("/api/v1/me").json()["code"] == "wrong_credential_kind"


def test_create_account_zapier_credential_is_refused_by_the_events_endpoint():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "Biz", "--zapier-approved"))
    zapier = client_for(printed["api_key"], printed["api_password"])
    assert zapier.get("/api/v1/me").status_code == 200
    response = zapier.post("/api/v1/events", EVENT, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")


def test_create_account_keys_tell_their_kind():
    printed = json.loads(run("create_account", "--email", "new@example.com", "--name", "Biz"))
    assert printed["api_key"].startswith("ki_")
    assert printed["platform_api_key"].startswith("kp_")


def test_load_demo_data_prints_a_working_platform_events_credential():
    output = run("load_demo_data")
    lines = dict(line.strip().split(":", 1) for line in output.splitlines() if line.strip().startswith("Platform "))
    key, password = lines["Platform events key"].strip(), lines["Platform events password"].strip()
    response = client_for(key, password).post("/api/v1/events", EVENT, format="json")
    assert response.json()["code"] == "lead_not_found"
