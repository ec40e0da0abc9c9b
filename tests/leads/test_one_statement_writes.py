"""The tag and list actions and create_lead in one PostgreSQL round trip: finding the lead and the
asset, the write with its event, and the lead document are one statement, and answer exactly what the
services and lead_details answer."""

import pytest

from leads.models import CustomFieldOption, Lead, LeadSource, LeadTag, Tag
from leads.selectors import lead_details
from leads.services import (
    lead_custom_fields_set,
    lead_erase,
    lead_list_subscribe,
    lead_list_unsubscribe,
    lead_tag_assign,
)
from leads.services.commands import command_run
from tests.leads import factories as f

pytestmark = pytest.mark.django_db

NO_LEAD = {"message": "No lead found", "code": "lead_not_found"}


def post(api, command, body):
    return api.post(f"/api/v1/actions/{command}", body, format="json")


@pytest.fixture
def tag(account):
    return f.TagFactory(account=account, name="Customer")


@pytest.fixture
def rich_lead(account, lead):
    """A lead with a tag, a list and custom field values, in an account with option fields."""
    lead_tag_assign(lead=lead, tag=f.TagFactory(account=account, name="Older tag"))
    lead_list_subscribe(lead=lead, lead_list=f.LeadListFactory(account=account, name="Newsletter"))
    f.CustomFieldFactory(account=account, identifier="colour")
    choice = f.CustomFieldFactory(account=account, identifier="plan", type="drop_down")
    option = CustomFieldOption.objects.create(field=choice, value="Gold", position=1)
    CustomFieldOption.objects.create(field=choice, value="Silver", position=2)
    lead_custom_fields_set(lead=lead, values={"colour": "red", "plan": option.pk})
    return lead


# The document answered is the one lead_details reads after the write


def test_assign_tag_answers_the_document_lead_details_reads_after_it(api, rich_lead, tag):
    response = post(api, "assign_tag", {"email": rich_lead.email, "tag": "Customer"})
    assert response.status_code == 200
    assert response.json() == {
        "message": "Tag added to lead",
        "lead": lead_details(Lead.objects.get(pk=rich_lead.pk)),
    }
    assert {"tag_id": tag.pk, "tag_name": "Customer"} in response.json()["lead"]["tags"]


def test_assign_tag_the_lead_has_answers_the_same_document(api, rich_lead, tag):
    first = post(api, "assign_tag", {"lead_id": rich_lead.pk, "tag": tag.pk}).json()
    second = post(api, "assign_tag", {"lead_id": rich_lead.pk, "tag": tag.pk}).json()
    assert first == second


# The rich lead holds "Older tag" and "Newsletter"; it left "Old list"; "Customer" and "Offers" are new to it.
LINK_WRITES = [
    ("unassign_tag", {"tag": "Older tag"}, "Tag removed from lead"),
    ("unassign_tag", {"tag": "Customer"}, "Tag removed from lead"),
    ("subscribe_lead_to_list", {"list": "Offers"}, "Lead subscribed to list"),
    ("subscribe_lead_to_list", {"list": "Old list"}, "Lead subscribed to list"),
    ("subscribe_lead_to_list", {"list": "Newsletter"}, "Lead subscribed to list"),
    ("unsubscribe_lead_from_list", {"list": "Newsletter"}, "Lead unsubscribed from list"),
    ("unsubscribe_lead_from_list", {"list": "Old list"}, "Lead unsubscribed from list"),
]


@pytest.fixture
def lists(account, rich_lead, tag):
    f.LeadListFactory(account=account, name="Offers")
    left = f.LeadListFactory(account=account, name="Old list")
    lead_list_subscribe(lead=rich_lead, lead_list=left)
    lead_list_unsubscribe(lead=rich_lead, lead_list=left)


@pytest.mark.parametrize(("command", "asset", "message"), LINK_WRITES)
def test_tag_and_list_writes_answer_the_document_lead_details_reads_after_them(
    api, rich_lead, lists, command, asset, message
):
    response = post(api, command, {"email": rich_lead.email, **asset})
    assert response.status_code == 200
    assert response.json() == {"message": message, "lead": lead_details(Lead.objects.get(pk=rich_lead.pk))}


@pytest.mark.postgres
@pytest.mark.parametrize(("command", "asset", "message"), LINK_WRITES)
def test_tag_and_list_writes_are_one_statement(
    account, rich_lead, lists, command, asset, message, django_assert_num_queries
):
    with django_assert_num_queries(1):
        result = command_run(name=command, account=account, inputs={"lead_id": rich_lead.pk, **asset})
    assert result.message == message and result.lead_document is not None


@pytest.mark.parametrize(
    ("command", "asset"), [(command, asset) for command, asset, _ in LINK_WRITES if command != "unassign_tag"]
)
def test_list_writes_find_an_erased_lead_no_more(api, rich_lead, lists, owner, command, asset):
    email = rich_lead.email
    lead_erase(lead=rich_lead, actor=owner)
    assert post(api, command, {"email": email, **asset}).json() == NO_LEAD


def test_unassign_tag_finds_an_erased_lead_no_more(api, rich_lead, owner):
    email = rich_lead.email
    lead_erase(lead=rich_lead, actor=owner)
    assert post(api, "unassign_tag", {"email": email, "tag": "Older tag"}).json() == NO_LEAD


def test_list_writes_in_test_mode_find_only_a_lead_test_mode_created(account, rich_lead, lists):
    inputs = {"list": "Offers", "test_mode": True}
    with pytest.raises(Exception, match="No lead found"):
        command_run(name="subscribe_lead_to_list", account=account, inputs={**inputs, "lead_id": rich_lead.pk})
    assert not rich_lead.list_subscriptions.filter(list__name="Offers").exists()


def test_a_list_name_that_needs_escaping_is_written_as_is_in_the_event(api, account, lead):
    name = 'Say "hi" \\ ünïcode'
    f.LeadListFactory(account=account, name=name)
    assert post(api, "subscribe_lead_to_list", {"email": lead.email, "list": name}).status_code == 200
    assert lead.events.get().details["list"]["list_name"] == name


def test_create_lead_answers_the_document_lead_details_reads_after_it(api, rich_lead):
    response = post(api, "create_lead", {"email": "new@example.com", "first_name": "Ann", "country": "US"})
    assert response.status_code == 201
    created = Lead.objects.get(email="new@example.com")
    assert response.json() == {"message": "Lead created", "lead": lead_details(created)}
    assert [field["field_identifier"] for field in response.json()["lead"]["custom_fields"]] == ["colour", "plan"]


# One round trip


@pytest.mark.postgres
def test_assign_tag_is_one_statement_with_its_document(account, rich_lead, tag, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = command_run(name="assign_tag", account=account, inputs={"email": rich_lead.email, "tag": "Customer"})
        assert result.lead_document is not None
    assert LeadTag.objects.filter(lead=rich_lead, tag=tag).exists()


@pytest.mark.postgres
def test_assign_tag_the_lead_has_is_one_statement(account, lead, tag, django_assert_num_queries):
    lead_tag_assign(lead=lead, tag=tag)
    with django_assert_num_queries(1):
        result = command_run(name="assign_tag", account=account, inputs={"lead_id": lead.pk, "tag": tag.pk})
        assert result.lead_document is not None


@pytest.mark.postgres
def test_create_lead_is_one_statement_with_its_document(account, rich_lead, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = command_run(name="create_lead", account=account, inputs={"email": "new@example.com"})
        assert result.lead_document is not None


def test_a_missing_lead_costs_one_statement(account, tag, django_assert_num_queries):
    with django_assert_num_queries(1), pytest.raises(Exception, match="No lead found"):
        command_run(name="assign_tag", account=account, inputs={"email": "nobody@example.com", "tag": "Customer"})


# The event: one, with the tag's details, only when the link is new


def test_assign_tag_writes_one_event_with_the_tags_details(api, lead, tag, events):
    post(api, "assign_tag", {"email": lead.email, "tag": "Customer"})
    post(api, "assign_tag", {"email": lead.email, "tag": "Customer"})
    assert events(lead) == ["assign_tag"]
    assert lead.events.get().details == {"tag": {"tag_id": tag.pk, "tag_name": "Customer"}}


def test_a_tag_name_that_needs_escaping_is_written_as_is_in_the_event(api, account, lead):
    name = 'Say "hi" \\ ünïcode'
    f.TagFactory(account=account, name=name)
    assert post(api, "assign_tag", {"email": lead.email, "tag": name}).status_code == 200
    assert lead.events.get().details["tag"]["tag_name"] == name


# Refusals: nothing written


def test_a_missing_lead_is_404_before_a_missing_tag(api, account):
    response = post(api, "assign_tag", {"email": "nobody@example.com", "tag": "Nothing"})
    assert (response.status_code, response.json()) == (404, NO_LEAD)


def test_a_missing_tag_is_404_naming_it_and_writes_nothing(api, lead, events):
    response = post(api, "assign_tag", {"email": lead.email, "tag": "Nothing"})
    assert (response.status_code, response.json()) == (
        404,
        {"message": 'Tag "Nothing" does not exist', "code": "tag_not_found"},
    )
    assert events(lead) == [] and not LeadTag.objects.exists()


def test_another_accounts_tag_id_is_not_found(api, lead, other_account, events):
    theirs = f.TagFactory(account=other_account, name="Customer")
    response = post(api, "assign_tag", {"lead_id": lead.pk, "tag": theirs.pk})
    assert response.json() == {"message": f'Tag "{theirs.pk}" does not exist', "code": "tag_not_found"}
    assert events(lead) == [] and not LeadTag.objects.exists()


def test_another_accounts_lead_id_is_not_found(api, tag, other_account):
    theirs = f.LeadFactory(account=other_account)
    assert post(api, "assign_tag", {"lead_id": theirs.pk, "tag": tag.pk}).json() == NO_LEAD
    assert not LeadTag.objects.exists()


def test_a_numeric_reference_is_an_id_first(api, account, lead):
    by_id = f.TagFactory(account=account, name="By id")
    f.TagFactory(account=account, name=str(by_id.pk))
    post(api, "assign_tag", {"email": lead.email, "tag": str(by_id.pk)})
    assert list(LeadTag.objects.values_list("tag__name", flat=True)) == ["By id"]


def test_a_numeric_reference_no_id_has_is_a_name(api, account, lead):
    f.TagFactory(account=account, name="999999999")
    post(api, "assign_tag", {"email": lead.email, "tag": "999999999"})
    assert list(LeadTag.objects.values_list("tag__name", flat=True)) == ["999999999"]


def test_an_erased_lead_is_not_found_by_its_former_email(api, lead, tag, owner):
    email = lead.email
    lead_erase(lead=lead, actor=owner)
    assert post(api, "assign_tag", {"email": email, "tag": "Customer"}).json() == NO_LEAD
    assert not LeadTag.objects.exists()


# create_if_missing and test mode


def test_create_if_missing_creates_the_tag_and_answers_it_in_the_document(api, lead, events):
    response = post(api, "assign_tag", {"email": lead.email, "tag": "Brand new", "create_if_missing": True})
    created = Tag.objects.get(name="Brand new")
    assert response.json()["lead"]["tags"] == [{"tag_id": created.pk, "tag_name": "Brand new"}]
    assert events(lead) == ["assign_tag"]


def test_create_if_missing_still_refuses_a_missing_lead_and_creates_no_tag(api, account):
    body = {"email": "nobody@example.com", "tag": "Brand new", "create_if_missing": True}
    assert post(api, "assign_tag", body).json() == NO_LEAD
    assert not Tag.objects.filter(account=account).exists()


def test_test_mode_finds_only_a_lead_test_mode_created(account, tag):
    real = f.LeadFactory(account=account)
    test_lead = f.LeadFactory(account=account, source=LeadSource.API_TEST)
    inputs = {"tag": "Customer", "test_mode": True}
    with pytest.raises(Exception, match="No lead found"):
        command_run(name="assign_tag", account=account, inputs={**inputs, "lead_id": real.pk})
    command_run(name="assign_tag", account=account, inputs={**inputs, "email": test_lead.email})
    assert list(LeadTag.objects.values_list("lead_id", flat=True)) == [test_lead.pk]


def test_a_lead_a_front_door_found_is_tagged_by_its_id(account, lead, tag):
    result = command_run(name="assign_tag", account=account, inputs={"lead": lead, "tag": "Customer"})
    assert result.lead_document["tags"] == [{"tag_id": tag.pk, "tag_name": "Customer"}]


def test_create_lead_with_an_email_in_the_account_is_409_and_writes_nothing(api, lead):
    response = post(api, "create_lead", {"email": lead.email.upper()})
    assert response.status_code == 409
    assert Lead.objects.count() == 1


# Reads: the lead and its document in one statement (lead_get_with_details)


def test_lead_details_endpoint_answers_what_lead_details_reads(api, rich_lead):
    response = api.get(f"/api/v1/leads/{rich_lead.pk}")
    assert response.status_code == 200
    assert response.json() == lead_details(Lead.objects.get(pk=rich_lead.pk))


def test_search_by_email_in_other_case_answers_the_same_document(api, rich_lead):
    response = api.get("/api/v1/leads/search", {"email": rich_lead.email.upper()})
    assert response.json() == {"message": "Lead found", "lead": lead_details(Lead.objects.get(pk=rich_lead.pk))}


def test_another_accounts_lead_id_is_not_found_by_the_details_read(api):
    other = f.LeadFactory()
    assert api.get(f"/api/v1/leads/{other.pk}").json() == {"message": "No lead found", "code": "lead_not_found"}
