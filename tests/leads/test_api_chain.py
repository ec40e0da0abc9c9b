"""The seed's Filter recipe, end to end through the API: search, create when missing, tag, search."""

import pytest

from tests.leads import factories as f

pytestmark = pytest.mark.django_db


def test_search_create_tag_search_chain(api, account):
    f.TagFactory(account=account, name="Customer")

    search = api.get("/api/v1/leads/search", {"email": "new.buyer@example.com"})
    assert search.status_code == 200
    assert search.json() == {"message": "No lead found", "lead": None}

    created = api.post("/api/v1/actions/create_lead", {"email": "new.buyer@example.com"}, format="json")
    assert created.status_code == 201
    assert created.json()["message"] == "Lead created"

    tagged = api.post(
        "/api/v1/actions/assign_tag", {"email": "new.buyer@example.com", "tag": "Customer"}, format="json"
    )
    assert tagged.status_code == 200
    assert tagged.json()["message"] == "Tag added to lead"

    found = api.get("/api/v1/leads/search", {"email": "new.buyer@example.com"}).json()
    assert found["message"] == "Lead found"
    assert found["lead"]["id"] == created.json()["lead"]["id"]
    assert [tag["tag_name"] for tag in found["lead"]["tags"]] == ["Customer"]


def test_action_on_new_email_before_create_is_no_lead_found(api, account):
    f.TagFactory(account=account, name="Customer")
    response = api.post("/api/v1/actions/assign_tag", {"email": "new@example.com", "tag": "Customer"}, format="json")
    assert response.status_code == 404
    assert response.json()["message"] == "No lead found"
