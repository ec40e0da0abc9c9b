"""Sign-up proposes the browser's time zone: a static script preselects it, the server's
default (UTC) stands without JavaScript, and a form shown again keeps the visitor's own choice."""

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from accounts.models import Account
from tests.accounts.factories import PASSWORD

SCRIPT = "js/timezone-propose.js"


@pytest.mark.django_db
def test_signup_page_loads_the_time_zone_script_from_a_static_file(client):
    page = client.get("/signup/").content.decode()
    assert f'<script src="{static(SCRIPT)}" defer></script>' in page
    assert finders.find(SCRIPT) is not None
    assert "<script>" not in page  # nothing inline: the Content-Security-Policy allows no inline script


@pytest.mark.django_db
def test_signup_form_without_javascript_offers_utc_marked_for_the_proposal(client):
    field = client.get("/signup/").context["form"]["timezone"]
    assert field.value() == "UTC"
    assert "data-propose-browser-zone" in str(field)


@pytest.mark.django_db
def test_signup_form_shown_again_after_an_error_keeps_the_chosen_zone_unmarked(client):
    response = client.post(
        "/signup/", {"email": "not-an-email", "account_name": "Shop", "timezone": "Europe/Berlin", "password": PASSWORD}
    )
    field = response.context["form"]["timezone"]
    assert field.value() == "Europe/Berlin"
    assert "data-propose-browser-zone" not in str(field)


@pytest.mark.django_db
def test_signup_with_an_unknown_time_zone_is_a_field_error(client):
    response = client.post(
        "/signup/",
        {"email": "new@shop.example", "account_name": "Shop", "timezone": "Mars/Olympus", "password": PASSWORD},
    )
    assert "timezone" in response.context["form"].errors
    assert not Account.objects.filter(name="Shop").exists()
