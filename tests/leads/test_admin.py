import pytest
from django.contrib import admin
from django.urls import reverse

from leads import models
from leads.services import lead_tag_assign
from tests.accounts.factories import UserFactory
from tests.leads.factories import TagFactory


def test_every_leads_model_is_registered():
    from django.apps import apps

    assert {m for m in apps.get_app_config("leads").get_models() if not m._meta.auto_created} <= set(
        admin.site._registry
    )


@pytest.mark.parametrize("model", [models.Lead, models.LeadEvent, models.Tag, models.Product, models.PointsChange])
def test_admin_changelist_lists_rows(client, account, lead, model):
    lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse(f"admin:leads_{model._meta.model_name}_changelist"))
    assert response.status_code == 200


def test_lead_events_are_read_only_in_admin(rf):
    request = rf.get("/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True)
    event_admin = admin.site._registry[models.LeadEvent]
    assert not event_admin.has_change_permission(request) and not event_admin.has_delete_permission(request)
