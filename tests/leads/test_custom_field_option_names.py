"""Option custom fields take the option's name as well as its id (Zapier's custom field inputs
offer the names)."""

import pytest

from leads.models import CustomFieldType, LeadCustomFieldValue
from leads.services import custom_field_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(account):
    return custom_field_create(
        account=account, identifier="plan", type=CustomFieldType.DROP_DOWN, options=["Free", "Paid"]
    )


@pytest.fixture
def interests(account):
    return custom_field_create(
        account=account, identifier="interests", type=CustomFieldType.CHECKBOX, options=["Yoga", "Golf", "Chess"]
    )


def post(api, command, body):
    return api.post(f"/api/v1/actions/{command}", body, format="json")


def test_drop_down_takes_the_option_name(api, plan):
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"plan": "Paid"}})
    assert response.status_code == 201
    paid = plan.options.get(value="Paid")
    assert LeadCustomFieldValue.objects.get(field=plan).value == [paid.pk]
    value = next(f for f in response.json()["lead"]["custom_fields"] if f["field_identifier"] == "plan")["field_value"]
    assert value == [{"option_id": paid.pk, "option_value": "Paid"}]


def test_option_name_ignores_case_and_spaces(api, plan):
    assert post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"plan": " paid "}}).status_code == 201
    assert LeadCustomFieldValue.objects.get(field=plan).value == [plan.options.get(value="Paid").pk]


def test_checkbox_takes_option_names_and_ids_mixed(api, lead, interests):
    yoga, golf, _ = interests.options.all()
    response = post(api, "edit_lead", {"lead_id": lead.pk, "custom_fields": {"interests": ["Golf", yoga.pk]}})
    assert response.status_code == 200
    assert LeadCustomFieldValue.objects.get(lead=lead, field=interests).value == sorted([yoga.pk, golf.pk])


def test_unknown_option_name_is_a_field_error(api, plan):
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"plan": "Gold"}})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "custom_fields.plan": ['Unknown option "Gold"; give an option id or its exact name.']
    }


def test_option_of_another_accounts_field_is_not_taken_by_name(api, other_account, plan):
    custom_field_create(account=other_account, identifier="tier", type=CustomFieldType.DROP_DOWN, options=["Gold", "X"])
    response = post(api, "create_lead", {"email": "a@example.com", "custom_fields": {"plan": "Gold"}})
    assert response.status_code == 400
