import pytest
from django.contrib import admin

from accounts.models import User
from approvals.models import ActivationPolicy, ActivationPolicyChange, ActivationRequest, AuditEntry, SupportNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    return client


@pytest.mark.parametrize(
    "model", [ActivationRequest, AuditEntry, SupportNote, ActivationPolicy, ActivationPolicyChange]
)
def test_every_model_has_an_admin_list(admin_client_logged_in, model, submitted):
    assert admin.site.is_registered(model)
    opts = model._meta
    assert admin_client_logged_in.get(f"/admin/{opts.app_label}/{opts.model_name}/").status_code == 200


def test_audit_rows_cannot_be_added_changed_or_deleted_in_admin(admin_client_logged_in, submitted):
    entry = AuditEntry.objects.get(activation_request=submitted)
    base = "/admin/approvals/auditentry/"
    assert admin_client_logged_in.get(f"{base}add/").status_code == 403
    assert admin_client_logged_in.post(f"{base}{entry.pk}/change/", {"note": "edited"}).status_code == 403
    assert admin_client_logged_in.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.note == ""
