import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from leads.models import GDPR_STATUS_CODES, CustomField, GdprStatus, Lead, LeadAction, Tag
from tests.leads.factories import LeadFactory, TagFactory

THE_26_ACTIONS = {
    "assign_tag",
    "unassign_tag",
    "list_subscription",
    "list_unsubscription",
    "filled_form",
    "sequence_subscription",
    "sequence_unsubscription",
    "sequence_completion",
    "tracking_link_click",
    "video_play",
    "video_complete",
    "reaches_score",
    "affiliate_signup",
    "jv_signup",
    "membership_granted",
    "membership_revoked",
    "buy_product",
    "refund_product",
    "cancel_subscription",
    "calendar_subscribe",
    "calendar_complete",
    "calendar_cancel",
    "kartra_page_visit",
    "external_page_visit",
    "click_page_split_test_link",
    "partial_refund_product",
}


def test_lead_actions_are_the_platforms_26_names():
    assert set(LeadAction.values) == THE_26_ACTIONS
    assert len(LeadAction.values) == 26


def test_gdpr_status_codes_follow_the_platform():
    assert GDPR_STATUS_CODES == {
        GdprStatus.OFF: 0,
        GdprStatus.NOT_SUBJECT: 1,
        GdprStatus.ACCEPTED: 2,
        GdprStatus.NOT_ACCEPTED: 3,
        GdprStatus.UNKNOWN: 4,
        GdprStatus.PENDING: 5,
    }


def test_lead_email_is_unique_per_account_whatever_its_case(account):
    LeadFactory(account=account, email="Ada@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(account=account, email="ada@example.COM")


def test_same_email_may_be_a_lead_of_two_accounts(account, other_account):
    LeadFactory(account=account, email="ada@example.com")
    LeadFactory(account=other_account, email="ada@example.com")
    assert Lead.objects.with_email("ADA@example.com").count() == 2


def test_lead_lookup_by_email_ignores_case(account):
    lead = LeadFactory(account=account, email="Ada@Example.com")
    assert Lead.objects.filter(account=account).with_email(" ada@EXAMPLE.com ").get() == lead


def test_asset_name_is_unique_per_account_and_kind(account):
    TagFactory(account=account, name="VIP")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(account=account, name="VIP")


def test_asset_name_may_repeat_across_accounts_and_kinds(account, other_account):
    from leads.models import LeadList

    TagFactory(account=account, name="VIP")
    Tag.objects.create(account=other_account, name="VIP")
    LeadList.objects.create(account=account, name="VIP")
    assert Tag.objects.filter(name="VIP").count() == 2


@pytest.mark.parametrize("identifier", ["favourite color", "plan!", "é", ""])
def test_custom_field_identifier_rejects_other_characters(account, identifier):
    field = CustomField(account=account, identifier=identifier, type="input_field")
    with pytest.raises(ValidationError):
        field.full_clean()


def test_custom_field_identifier_accepts_letters_digits_dash_underscore(account):
    CustomField(account=account, identifier="Plan_2-b", type="input_field").full_clean()


@pytest.mark.postgres
def test_lookup_by_email_is_served_by_the_unique_index(account):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    LeadFactory(account=account, email="ada@example.com")
    # Enough leads, analyzed, that the planner weighs the indexes instead of breaking a tie between
    # equal costs on an empty table (how the tie falls changes with the parameters' types).
    Lead.objects.bulk_create(Lead(account=account, email=f"lead{n}@example.com") for n in range(500))
    queryset = Lead.objects.filter(account=account).with_email("Ada@example.com")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    # The unique index, or the starts-with index of the leads list (account_id, lower(email)), which the
    # planner may equally pick for an equality on a small table.
    assert "lead_account_email_ci_unique" in plan or "lead_email_prefix_idx" in plan
    assert "lower((email)::text) = 'ada@example.com'" in plan
