"""Error 201 "Connection not secure": where https is required (production), plain http to POST /api
answers the platform's error instead of a redirect (which would turn the POST into a GET)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

import kartra_integrations.settings as settings_package


def production_setting(name: str):
    """A literal setting of settings/production.py (importing it needs the production environment)."""
    source = Path(settings_package.__file__).with_name("production.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(name)


@pytest.fixture
def production_https():
    with override_settings(
        SECURE_SSL_REDIRECT=True,
        SECURE_PROXY_SSL_HEADER=production_setting("SECURE_PROXY_SSL_HEADER"),
        SECURE_REDIRECT_EXEMPT=production_setting("SECURE_REDIRECT_EXEMPT"),
    ):
        yield


@pytest.mark.parametrize("path", ["/api", "/api/"])
def test_plain_http_in_production_answers_201_connection_not_secure(production_https, db, path):
    body = "actions[0][cmd]=retrieve_account_tags"
    response = Client().post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.json() == {"status": "Error", "message": "Connection not secure", "type": "201"}


def test_https_behind_the_proxy_header_is_served(call, production_https):
    response = call({"actions[0][cmd]": "retrieve_account_tags"}, HTTP_X_FORWARDED_PROTO="https")
    assert response.json()["status"] == "Success"
    assert "type" not in response.json()


def test_other_paths_are_still_redirected_to_https(production_https, db):
    assert Client().get("/api/v1/schema").status_code == 301


def test_without_the_https_requirement_plain_http_is_served(call):
    assert settings.SECURE_SSL_REDIRECT is False
    assert call({"actions[0][cmd]": "retrieve_account_tags"}).json()["status"] == "Success"
