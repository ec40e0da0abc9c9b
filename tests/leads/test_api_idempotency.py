"""Idempotency-Key on POST /api/v1/actions/{command}."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import IdempotencyKey
from kartra_integrations.idempotency import idempotency_keys_expire
from leads.models import Lead, LeadEvent
from tests.conftest import api_client_for
from tests.leads import factories as f

pytestmark = pytest.mark.django_db


def post(api, command, body, key):
    return api.post(f"/api/v1/actions/{command}", body, format="json", headers={"Idempotency-Key": key})


def test_same_key_and_body_replays_the_first_response_without_redoing_it(api, account):
    first = post(api, "create_lead", {"email": "once@example.com"}, "key-1")
    second = post(api, "create_lead", {"email": "once@example.com"}, "key-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Lead.objects.filter(account=account).count() == 1


def test_replay_does_not_assign_the_tag_again(api, account, lead):
    tag = f.TagFactory(account=account, name="Customer")
    body = {"email": lead.email, "tag": "Customer"}
    first = post(api, "assign_tag", body, "tag-1")
    api.post("/api/v1/actions/unassign_tag", body, format="json")
    replay = post(api, "assign_tag", body, "tag-1")
    assert replay.json() == first.json()
    assert replay.json()["lead"]["tags"] == [{"tag_id": tag.id, "tag_name": "Customer"}]
    assert LeadEvent.objects.filter(lead=lead, action="assign_tag").count() == 1
    assert not lead.lead_tags.exists()


def test_body_key_order_does_not_change_the_request(api, account):
    post(api, "create_lead", {"email": "a@example.com", "first_name": "Ann"}, "k")
    replay = api.post(
        "/api/v1/actions/create_lead",
        '{"first_name": "Ann",   "email": "a@example.com"}',
        content_type="application/json",
        headers={"Idempotency-Key": "k"},
    )
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"


def test_same_key_with_different_body_is_422(api, account):
    post(api, "create_lead", {"email": "a@example.com"}, "key-1")
    response = post(api, "create_lead", {"email": "b@example.com"}, "key-1")
    assert response.status_code == 422
    assert response.json() == {
        "message": "This Idempotency-Key was already used with a different request",
        "code": "idempotency_key_reused",
    }
    assert not Lead.objects.filter(email="b@example.com").exists()


def test_same_key_on_another_command_is_422(api, account, lead):
    post(api, "give_points_to_lead", {"email": lead.email, "points": 1}, "key-1")
    response = post(api, "remove_points_from_lead", {"email": lead.email, "points": 1}, "key-1")
    assert response.status_code == 422


def test_keys_are_per_account(api, account, other_account):
    post(api, "create_lead", {"email": "a@example.com"}, "shared")
    response = post(api_client_for(other_account), "create_lead", {"email": "a@example.com"}, "shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Lead.objects.filter(email="a@example.com").count() == 2


def test_a_refused_request_frees_its_key(api, account):
    missing = post(api, "give_points_to_lead", {"email": "later@example.com", "points": 3}, "k")
    assert missing.status_code == 404
    f.LeadFactory(account=account, email="later@example.com")
    retried = post(api, "give_points_to_lead", {"email": "later@example.com", "points": 3}, "k")
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried


def test_key_past_24_hours_runs_the_request_again(api, account, lead):
    post(api, "give_points_to_lead", {"email": lead.email, "points": 2}, "k")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = post(api, "give_points_to_lead", {"email": lead.email, "points": 2}, "k")
    assert "Idempotent-Replayed" not in again
    assert again.json()["lead"]["score"] == 4


def test_key_in_progress_is_409(api, account, lead):
    # A reservation without a response is what a concurrent first request leaves while it runs.
    body = {"email": lead.email, "points": 2}
    post(api, "give_points_to_lead", body, "fresh")
    fingerprint = IdempotencyKey.objects.get(key="fresh").fingerprint
    IdempotencyKey.objects.create(account=account, key="k", fingerprint=fingerprint, created_at=timezone.now())
    response = post(api, "give_points_to_lead", body, "k")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_progress"


def test_abandoned_key_is_taken_over_after_the_lock_timeout(api, account, lead):
    body = {"email": lead.email, "points": 2}
    post(api, "give_points_to_lead", body, "fresh")
    fingerprint = IdempotencyKey.objects.get(key="fresh").fingerprint
    IdempotencyKey.objects.create(
        account=account, key="k", fingerprint=fingerprint, created_at=timezone.now() - timedelta(minutes=6)
    )
    response = post(api, "give_points_to_lead", body, "k")
    assert response.status_code == 200
    assert IdempotencyKey.objects.get(key="k").response_status == 200


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_malformed_key_is_400(api, lead, key):
    response = post(api, "give_points_to_lead", {"email": lead.email, "points": 1}, key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"


def test_expiry_task_deletes_keys_older_than_24_hours(account):
    now = timezone.now()
    IdempotencyKey.objects.create(account=account, key="old", fingerprint="a", created_at=now - timedelta(hours=25))
    IdempotencyKey.objects.create(account=account, key="new", fingerprint="a", created_at=now - timedelta(hours=1))
    assert idempotency_keys_expire(now=now) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    from tests.accounts.factories import ActivatedAccountFactory

    account = ActivatedAccountFactory()
    lead = f.LeadFactory(account=account)
    barrier = threading.Barrier(4)
    statuses = []

    def call():
        client = api_client_for(account)
        barrier.wait()
        response = post(client, "give_points_to_lead", {"email": lead.email, "points": 5}, "race")
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lead.refresh_from_db()
    assert lead.score == 5
    assert statuses.count(200) >= 1
    assert set(statuses) <= {200, 409}
