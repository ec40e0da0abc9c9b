"""The account's GDPR setting keeps an append-only record of who changed it, when, from what to what."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from leads import services
from leads.models import GdprSettingChange
from tests.accounts.factories import UserFactory

GDPR_PAGE = "/leads/settings/gdpr/"


def test_turning_gdpr_off_records_who_and_from_what_to_what(account, owner):
    services.account_gdpr_enabled_set(account=account, enabled=False, actor=owner)
    change = GdprSettingChange.objects.get(account=account)
    assert (change.actor, change.from_enabled, change.to_enabled) == (owner, True, False)
    account.refresh_from_db()
    assert account.gdpr_enabled is False


def test_saving_the_setting_unchanged_records_nothing(account, owner):
    services.account_gdpr_enabled_set(account=account, enabled=True, actor=owner)
    assert not GdprSettingChange.objects.exists()


def test_the_recorded_from_value_is_the_stored_one_not_the_callers_copy(account, owner):
    stale = type(account).objects.get(pk=account.pk)
    services.account_gdpr_enabled_set(account=account, enabled=False, actor=owner)
    services.account_gdpr_enabled_set(account=stale, enabled=True, actor=owner)  # stale still says "on"
    assert list(GdprSettingChange.objects.order_by("id").values_list("from_enabled", "to_enabled")) == [
        (True, False),
        (False, True),
    ]


def test_a_recorded_change_cannot_be_edited_or_deleted(account, owner):
    services.account_gdpr_enabled_set(account=account, enabled=False, actor=owner)
    change = GdprSettingChange.objects.get()
    change.to_enabled = True
    with pytest.raises(ValueError, match="append-only"):
        change.save()
    with pytest.raises(ValueError, match="append-only"):
        change.delete()


def test_a_record_that_changes_nothing_is_refused_by_the_database(account, owner):
    with pytest.raises(IntegrityError):
        GdprSettingChange.objects.create(account=account, actor=owner, from_enabled=True, to_enabled=True)


def test_the_page_records_the_logged_in_owner_as_the_actor(client, account, owner):
    client.force_login(owner)
    client.post(GDPR_PAGE, {})
    assert GdprSettingChange.objects.get(account=account).actor == owner


def test_the_page_lists_changes_newest_first_with_who_and_what(client, account, owner):
    earlier = timezone.now() - timedelta(days=2)
    GdprSettingChange.objects.create(
        account=account, actor=owner, from_enabled=True, to_enabled=False, changed_at=earlier
    )
    GdprSettingChange.objects.create(account=account, actor=None, from_enabled=False, to_enabled=True)
    client.force_login(owner)
    history = client.get(GDPR_PAGE).content.decode().split('id="gdpr-history"')[1]
    assert history.index("an operator") < history.index(owner.email)
    assert "off → on" in history and "on → off" in history
    assert f"{earlier:%Y-%m-%d %H:%M}" in history


def test_the_page_without_changes_says_the_setting_is_as_created(client, owner):
    client.force_login(owner)
    assert "No changes yet: GDPR has been on since the account was created." in client.get(GDPR_PAGE).content.decode()


def test_the_page_shows_only_the_accounts_own_changes(client, owner, other_account, other_owner):
    services.account_gdpr_enabled_set(account=other_account, enabled=False, actor=other_owner)
    client.force_login(owner)
    page = client.get(GDPR_PAGE).content.decode()
    assert other_owner.email not in page and "No changes yet" in page


def test_admin_lists_changes(client, account, owner):
    services.account_gdpr_enabled_set(account=account, enabled=False, actor=owner)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:leads_gdprsettingchange_changelist"))
    assert response.status_code == 200 and owner.email in response.content.decode()


def test_changes_are_read_only_in_admin(rf):
    request = rf.get("/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True)
    change_admin = admin.site._registry[GdprSettingChange]
    assert not change_admin.has_add_permission(request)
    assert not change_admin.has_change_permission(request)
    assert not change_admin.has_delete_permission(request)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_owner_turns_gdpr_off_in_the_browser_and_sees_the_change_listed(log_in, account):
    page = log_in(account.owner.email)
    page.get_by_role("link", name="GDPR").click()
    page.get_by_label("GDPR on for this account").uncheck()
    page.get_by_role("button", name="Save").click()

    page.get_by_text("GDPR is now off for this account.").wait_for()
    changes = page.locator("#gdpr-history tbody tr")
    assert changes.count() == 1
    assert changes.first.locator("td").all_inner_texts()[1:] == [account.owner.email, "on → off"]
