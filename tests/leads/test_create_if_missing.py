"""assign_tag / subscribe_lead_to_list with create_if_missing: a missing tag or list is created with
the change, in one transaction; off by default; never another account's asset."""

import pytest

from leads.models import LeadList, LeadTag, ListSubscription, Tag
from tests.leads import factories as f

pytestmark = pytest.mark.django_db


def post(api, command, body):
    return api.post(f"/api/v1/actions/{command}", body, format="json")


def test_assign_tag_creates_a_missing_tag_when_asked(api, account, lead):
    response = post(api, "assign_tag", {"email": lead.email, "tag": "First buyers", "create_if_missing": True})
    assert response.status_code == 200
    tag = Tag.objects.get(account=account, name="First buyers")
    assert LeadTag.objects.filter(lead=lead, tag=tag).exists()
    assert response.json()["lead"]["tags"] == [{"tag_id": tag.pk, "tag_name": "First buyers"}]


def test_assign_tag_without_create_if_missing_still_refuses_a_missing_tag(api, account, lead):
    response = post(api, "assign_tag", {"email": lead.email, "tag": "First buyers"})
    assert response.status_code == 404 and response.json()["code"] == "tag_not_found"
    assert not Tag.objects.filter(account=account).exists()


def test_create_if_missing_uses_the_existing_tag(api, account, lead):
    tag = f.TagFactory(account=account, name="VIP")
    post(api, "assign_tag", {"email": lead.email, "tag": "VIP", "create_if_missing": True})
    assert list(Tag.objects.filter(account=account)) == [tag]


def test_create_if_missing_creates_its_own_tag_when_only_another_account_has_the_name(
    api, account, other_account, lead
):
    theirs = f.TagFactory(account=other_account, name="VIP")
    post(api, "assign_tag", {"email": lead.email, "tag": "VIP", "create_if_missing": True})
    ours = Tag.objects.get(account=account, name="VIP")
    assert ours.pk != theirs.pk
    assert not LeadTag.objects.filter(tag=theirs).exists()


def test_create_if_missing_never_invents_an_id(api, account, lead):
    response = post(api, "assign_tag", {"email": lead.email, "tag": 987654, "create_if_missing": True})
    assert response.status_code == 404
    assert not Tag.objects.filter(account=account).exists()


def test_no_tag_is_created_when_the_lead_does_not_exist(api, account):
    response = post(api, "assign_tag", {"email": "nobody@example.com", "tag": "New", "create_if_missing": True})
    assert response.status_code == 404
    assert not Tag.objects.filter(account=account).exists()


def test_created_tag_rolls_back_with_a_failed_assignment(account, lead, monkeypatch):
    from leads import services
    from leads.services import engagement

    def refuse(**kwargs):
        raise RuntimeError("the assignment failed")

    monkeypatch.setattr(engagement, "lead_tag_assign", refuse)
    with pytest.raises(RuntimeError):
        services.lead_tag_assign_by_ref(lead=lead, tag="New", create_if_missing=True)
    assert not Tag.objects.filter(account=account).exists()


def test_subscribe_to_list_creates_a_missing_list_when_asked(api, account, lead):
    body = {"email": lead.email, "list": "Launch waitlist", "create_if_missing": True}
    assert post(api, "subscribe_lead_to_list", body).status_code == 200
    lead_list = LeadList.objects.get(account=account, name="Launch waitlist")
    assert ListSubscription.objects.filter(lead=lead, list=lead_list, status="active").exists()


def test_create_if_missing_must_be_a_boolean(api, lead):
    response = post(api, "subscribe_lead_to_list", {"email": lead.email, "list": "X", "create_if_missing": "maybe"})
    assert response.status_code == 400 and "create_if_missing" in response.json()["fields"]
