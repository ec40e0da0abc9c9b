"""get_lead[email|id] (the lead_details document of reference section 4) and the account-level
retrieve_* commands, answered from the selectors; tenant isolation."""

from datetime import UTC, datetime

import pytest

from leads.models import CustomFieldOption, CustomFieldType, LeadCustomFieldValue, LeadTag, MembershipAccess
from tests.leads.factories import (
    CustomFieldFactory,
    LeadFactory,
    LeadListFactory,
    MembershipLevelFactory,
    PageFactory,
    SequenceFactory,
    TagFactory,
)


@pytest.fixture
def rich_lead(account):
    lead = LeadFactory(
        account=account, email="ann@example.com", date_joined=datetime(2026, 1, 15, 17, 4, 5, tzinfo=UTC)
    )
    text = CustomFieldFactory(account=account, identifier="nickname")
    CustomFieldFactory(account=account, identifier="empty_note", type=CustomFieldType.TEXT_AREA)
    colours = CustomFieldFactory(account=account, identifier="colours", type=CustomFieldType.CHECKBOX)
    red = CustomFieldOption.objects.create(field=colours, value="Red", position=1)
    CustomFieldOption.objects.create(field=colours, value="Blue", position=2)
    LeadCustomFieldValue.objects.create(lead=lead, field=text, value="Annie")
    LeadCustomFieldValue.objects.create(lead=lead, field=colours, value=[red.pk])
    LeadTag.objects.create(lead=lead, tag=TagFactory(account=account, name="Customer"))
    gold = MembershipLevelFactory(membership__account=account, membership__name="Academy", name="Gold")
    MembershipAccess.objects.create(lead=lead, membership=gold.membership, level=gold)
    silver = MembershipLevelFactory(membership__account=account, membership__name="Club", name="Silver")
    MembershipAccess.objects.create(
        lead=lead, membership=silver.membership, level=silver, status=MembershipAccess.Status.REVOKED
    )
    return lead


def test_get_lead_by_email_answers_the_platform_lead_document(call, rich_lead):
    body = call({"get_lead[email]": "ANN@example.com"}).json()
    assert body["status"] == "Success"
    details = body["lead_details"]
    assert details["id"] == str(rich_lead.pk)
    assert details["email"] == "ann@example.com"
    assert details["date_joined"] == "2026-01-15 12:04:05"  # Eastern time, no offset
    assert details["gdpr_lead_status"] == "4"
    assert details["tags"] == [{"tag_id": str(LeadTag.objects.get().tag_id), "tag_name": "Customer"}]
    fields = {field["field_identifier"]: field for field in details["custom_fields"]}
    assert set(fields["nickname"]) == {"field_id", "field_identifier", "field_type", "field_value"}
    assert fields["nickname"]["field_value"] == "Annie"
    assert fields["empty_note"]["field_value"] == ""  # every field, even when empty
    assert [option["option_value"] for option in fields["colours"]["field_value"]] == ["Red"]
    memberships = {item["name"]: item for item in details["memberships"]}
    assert memberships["Academy"]["level_name"] == "Gold"
    assert memberships["Academy"]["active"] == "1"
    assert memberships["Club"]["active"] == "0"


def test_get_lead_by_id_wins_over_email(call, account, rich_lead):
    other = LeadFactory(account=account)
    body = call({"get_lead[id]": str(rich_lead.pk), "get_lead[email]": other.email}).json()
    assert body["lead_details"]["email"] == "ann@example.com"


@pytest.mark.parametrize("ref", [{"get_lead[email]": "nobody@example.com"}, {"get_lead[id]": "99999999999999999999"}])
def test_get_lead_for_no_lead_is_234_no_lead_found(call, ref):
    body = call(ref).json()
    assert body == {"status": "Error", "message": "No lead found", "type": "234"}


def test_get_lead_never_answers_another_accounts_lead(call, other_account):
    lead = LeadFactory(account=other_account)
    assert call({"get_lead[id]": str(lead.pk)}).json()["type"] == "234"
    assert call({"get_lead[email]": lead.email}).json()["type"] == "234"


def test_get_lead_that_is_not_an_array_is_236(call):
    assert call({"get_lead": "ann@example.com"}).json() == {
        "status": "Error",
        "message": "'get_lead' not an array",
        "type": "236",
    }


def test_get_lead_without_email_or_id_is_206(call):
    assert call({"get_lead[name]": "Ann"}).json()["type"] == "206"


def test_retrieve_commands_answer_the_accounts_names_at_the_top_level_and_in_actions(call, account, other_account):
    TagFactory(account=account, name="B tag")
    TagFactory(account=account, name="A tag")
    TagFactory(account=other_account, name="Not mine")
    LeadListFactory(account=account, name="Newsletter")
    SequenceFactory(account=account, name="Welcome")
    PageFactory(account=account, name="Landing")
    body = call(
        {
            "actions[0][cmd]": "retrieve_account_tags",
            "actions[1][cmd]": "retrieve_account_lists",
            "actions[2][cmd]": "retrieve_account_sequences",
            "actions[3][cmd]": "retrieve_account_pages",
        }
    ).json()
    assert body["status"] == "Success"
    assert body["account_tags"] == ["A tag", "B tag"]
    assert body["account_lists"] == ["Newsletter"]
    assert body["account_sequences"] == ["Welcome"]
    assert body["account_pages"] == ["Landing"]
    assert body["actions"][0] == {"retrieve_account_tags": {"status": "Success", "account_tags": ["A tag", "B tag"]}}


def test_retrieve_custom_fields_gives_options_only_for_option_types(call, account):
    CustomFieldFactory(account=account, identifier="nickname")
    size = CustomFieldFactory(account=account, identifier="size", type=CustomFieldType.DROP_DOWN)
    small = CustomFieldOption.objects.create(field=size, value="S", position=1)
    large = CustomFieldOption.objects.create(field=size, value="L", position=2)
    body = call({"actions[0][cmd]": "retrieve_custom_fields"}).json()
    nickname, size_field = body["custom_fields"]
    assert "field_value" not in nickname
    assert nickname["field_identifier"] == "nickname"
    assert size_field["field_value"] == [
        {"option_id": str(small.pk), "option_value": "S"},
        {"option_id": str(large.pk), "option_value": "L"},
    ]


def test_test_mode_reads_the_lead_email_at_the_test_domain(call, account, test_app):
    lead = LeadFactory(account=account, email="ann@kartra.com")
    body = call({"get_lead[email]": "ann@gmail.com"}, app=test_app).json()
    assert body["lead_details"]["id"] == str(lead.pk)


def test_get_lead_outside_the_apps_command_allow_list_is_262(call, live_app, rich_lead):
    live_app.allowed_commands = ["assign_tag"]
    live_app.save()
    assert call({"get_lead[email]": "ann@example.com"}).json()["type"] == "262"
    live_app.allowed_commands = ["get_lead"]
    live_app.save()
    assert call({"get_lead[email]": "ann@example.com"}).json()["status"] == "Success"


@pytest.mark.postgres
@pytest.mark.redis
def test_get_lead_costs_the_same_few_queries_whatever_the_lead_holds(
    call, account, rich_lead, django_assert_max_num_queries
):
    for index in range(30):
        LeadTag.objects.create(lead=rich_lead, tag=TagFactory(account=account, name=f"Bulk {index}"))
        CustomFieldFactory(account=account, identifier=f"bulk_{index}")
    for _ in range(2):  # the credential verified (accounts.credential_cache), its last_used_at written
        call({"get_lead[email]": "ann@example.com"})
    # the app, then the lead with its document (one statement); the rate-limit counter and credential
    # epoch are in Redis.
    with django_assert_max_num_queries(2):
        body = call({"get_lead[email]": "ann@example.com"}).json()
    assert len(body["lead_details"]["tags"]) == 31
    assert len(body["lead_details"]["custom_fields"]) == 33
