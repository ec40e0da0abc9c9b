import pytest

from accounts.models import ApiAppChange, User
from accounts.services import api_app_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    return client


def test_apps_and_their_history_are_listed_read_only_in_the_admin(admin_client_logged_in, account):
    app = api_app_register(actor=account.owner, account=account, name="WP Fusion")
    change = ApiAppChange.objects.get(api_app=app)
    assert app.app_id in admin_client_logged_in.get("/admin/accounts/apiapp/").content.decode()
    assert admin_client_logged_in.get("/admin/accounts/apiappchange/").status_code == 200
    assert admin_client_logged_in.post(f"/admin/accounts/apiapp/{app.pk}/change/", {"name": "X"}).status_code == 403
    assert (
        admin_client_logged_in.post(f"/admin/accounts/apiappchange/{change.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
