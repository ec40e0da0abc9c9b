"""Idempotency-Key after erasure: a repeat answers 410 lead_erased, never the stored lead document."""

import pytest
from rest_framework.response import Response

from accounts.models import IdempotencyKey
from kartra_integrations.idempotency import ERASED_STATUS, idempotency_key_reserve, idempotency_key_store
from leads.models import Lead
from leads.selectors import lead_details
from leads.services.data_rights import lead_erase
from tests.leads.factories import LeadFactory, TagFactory

EMAIL = "ida.repeat@example.org"


def post(api, command, body, key):
    return api.post(f"/api/v1/actions/{command}", body, format="json", headers={"Idempotency-Key": key})


@pytest.fixture
def created(api, account):
    response = post(api, "create_lead", {"email": EMAIL, "first_name": "Ida"}, "create-ida")
    assert response.status_code == 201
    return Lead.objects.get(pk=response.json()["lead"]["id"])


def test_repeated_create_lead_after_erasure_answers_lead_erased_not_the_stored_body(api, created, owner):
    lead_erase(lead=created, actor=owner)

    repeat = post(api, "create_lead", {"email": EMAIL, "first_name": "Ida"}, "create-ida")

    assert repeat.status_code == 410
    assert repeat.json() == {
        "message": "The lead this request concerned has been erased; its response is no longer kept.",
        "code": "lead_erased",
    }
    assert not Lead.objects.with_email(EMAIL).exists()  # the work was not done again


def test_erasure_leaves_no_fingerprint_or_body_in_the_leads_keys(api, created, owner, account):
    TagFactory(account=account, name="VIP")
    assert post(api, "assign_tag", {"lead_id": created.pk, "tag": "VIP"}, "tag-ida").status_code == 200

    lead_erase(lead=created, actor=owner)

    assert set(IdempotencyKey.objects.values_list("key", "fingerprint", "response_status", "response_body")) == {
        ("create-ida", "", ERASED_STATUS, None),
        ("tag-ida", "", ERASED_STATUS, None),
    }


def test_another_leads_stored_response_still_replays_after_an_erasure(api, created, owner):
    post(api, "create_lead", {"email": "kept@example.org"}, "create-kept")

    lead_erase(lead=created, actor=owner)
    repeat = post(api, "create_lead", {"email": "kept@example.org"}, "create-kept")

    assert repeat.status_code == 201 and repeat["Idempotent-Replayed"] == "true"
    assert repeat.json()["lead"]["email"] == "kept@example.org"


def test_a_response_stored_after_its_lead_was_erased_is_the_erased_marker(account, owner):
    """The request ran while the lead was being erased: its answer arrives after the erasure."""
    lead = LeadFactory(account=account, email=EMAIL)
    response = Response({"message": "Tag added to lead", "lead": lead_details(lead)}, status=200)
    record = idempotency_key_reserve(account=account, key="late", fingerprint="f" * 64)
    lead_erase(lead=lead, actor=owner)

    idempotency_key_store(record_id=record.id, response=response)

    record.refresh_from_db()
    assert (record.fingerprint, record.response_status, record.response_body) == ("", ERASED_STATUS, None)
