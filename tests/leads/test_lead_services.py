import pytest
from django.db import transaction

from kartra_integrations.errors import ApplicationError
from leads import services
from leads.models import CustomFieldType, GdprEvidence, GdprStatus, Lead, LeadCustomFieldValue, LeadSource
from tests.leads.factories import LeadFactory


def test_lead_create_defaults_to_api_source(account):
    lead = services.lead_create(account=account, email="ada@example.com", first_name="Ada")
    assert lead.source == LeadSource.API
    assert Lead.objects.get(pk=lead.pk).first_name == "Ada"


def test_api_lead_with_us_address_is_gdpr_unknown(account):
    lead = services.lead_create(
        account=account, email="joe@example.com", country="United States", state="Ohio", ip="8.8.8.8"
    )
    assert lead.gdpr_status == GdprStatus.UNKNOWN
    assert lead.gdpr_status_date is not None


def test_api_lead_of_account_without_gdpr_is_gdpr_off(account):
    account.gdpr_enabled = False
    account.save()
    lead = services.lead_create(account=account, email="joe@example.com")
    assert lead.gdpr_status == GdprStatus.OFF


@pytest.mark.parametrize("field", ["gdpr_status", "gdpr_lead_status", "gdpr_status_ip", "gdpr_lead_status_date"])
def test_lead_create_refuses_gdpr_fields(account, field):
    with pytest.raises(ApplicationError) as refused:
        services.lead_create(account=account, email="joe@example.com", **{field: "accepted"})
    assert refused.value.code == "gdpr_not_settable"
    assert refused.value.status_code == 400
    assert "only given by the lead through a hosted opt-in or checkout form" in refused.value.message
    assert not Lead.objects.exists()


def test_lead_update_refuses_gdpr_status(lead):
    with pytest.raises(ApplicationError) as refused:
        services.lead_update(lead=lead, gdpr_lead_status=2)
    assert refused.value.code == "gdpr_not_settable"
    lead.refresh_from_db()
    assert lead.gdpr_status == GdprStatus.UNKNOWN


def test_lead_custom_fields_refuse_gdpr_key(lead):
    with pytest.raises(ApplicationError) as refused:
        services.lead_custom_fields_set(lead=lead, values={"gdpr_status": "accepted"})
    assert refused.value.code == "gdpr_not_settable"


def test_api_edit_with_us_address_keeps_gdpr_status(lead):
    services.lead_update(lead=lead, country="United States", ip="8.8.8.8")
    lead.refresh_from_db()
    assert lead.gdpr_status == GdprStatus.UNKNOWN
    assert lead.country == "United States"


def test_lead_create_rejects_invalid_email(account):
    with pytest.raises(ApplicationError) as refused:
        services.lead_create(account=account, email="not-an-email")
    assert refused.value.fields == {"email": ["Enter a valid email address."]}


def test_lead_create_rejects_existing_email_in_other_case(account):
    LeadFactory(account=account, email="ada@example.com")
    with pytest.raises(ApplicationError) as refused:
        services.lead_create(account=account, email="ADA@example.com")
    assert refused.value.code == "lead_exists"
    assert "email" in refused.value.fields


def test_lead_create_rejects_unknown_field(account):
    with pytest.raises(ApplicationError) as refused:
        services.lead_create(account=account, email="ada@example.com", nickname="Ada")
    assert refused.value.code == "unknown_field"


def test_lead_create_rejects_bad_profile_value_with_field_error(account):
    with pytest.raises(ApplicationError) as refused:
        services.lead_create(account=account, email="ada@example.com", website="not a url")
    assert "website" in refused.value.fields
    assert not Lead.objects.exists()


def test_lead_update_changes_email(lead):
    services.lead_update(lead=lead, new_email="new@example.com")
    assert Lead.objects.get(pk=lead.pk).email == "new@example.com"


def test_lead_update_refuses_email_of_another_lead(account, lead):
    LeadFactory(account=account, email="taken@example.com")
    with pytest.raises(ApplicationError) as refused:
        services.lead_update(lead=lead, new_email="Taken@example.com")
    assert refused.value.code == "lead_exists"
    assert "new_email" in refused.value.fields


def test_lead_update_may_change_only_the_case_of_its_email(account):
    lead = LeadFactory(account=account, email="ada@example.com")
    services.lead_update(lead=lead, new_email="Ada@Example.com")
    assert Lead.objects.get(pk=lead.pk).email == "Ada@Example.com"


def test_lead_create_with_custom_fields_is_all_or_nothing(account):
    services.custom_field_create(account=account, identifier="color", type=CustomFieldType.INPUT_FIELD)
    with pytest.raises(ApplicationError):
        services.lead_create(account=account, email="ada@example.com", custom_fields={"unknown": "x"})
    assert not Lead.objects.exists()


# Custom fields


@pytest.fixture
def plan(account):
    return services.custom_field_create(
        account=account, identifier="plan", type=CustomFieldType.DROP_DOWN, options=["Free", "Paid"]
    )


@pytest.fixture
def interests(account):
    return services.custom_field_create(
        account=account, identifier="interests", type=CustomFieldType.CHECKBOX, options=["A", "B", "C"]
    )


def test_custom_field_text_value_is_stored(account, lead):
    field = services.custom_field_create(account=account, identifier="color", type=CustomFieldType.INPUT_FIELD)
    services.lead_custom_fields_set(lead=lead, values={"color": "blue"})
    assert LeadCustomFieldValue.objects.get(lead=lead, field=field).value == "blue"


def test_drop_down_takes_an_option_id(lead, plan):
    paid = plan.options.get(value="Paid")
    services.lead_custom_fields_set(lead=lead, values={"plan": str(paid.pk)})
    assert LeadCustomFieldValue.objects.get(lead=lead, field=plan).value == [paid.pk]


def test_drop_down_refuses_an_option_of_another_field(lead, plan, interests):
    with pytest.raises(ApplicationError) as refused:
        services.lead_custom_fields_set(lead=lead, values={"plan": interests.options.first().pk})
    assert refused.value.fields == {"custom_fields.plan": ["Unknown option id."]}


def test_drop_down_refuses_a_list(lead, plan):
    with pytest.raises(ApplicationError) as refused:
        services.lead_custom_fields_set(lead=lead, values={"plan": [plan.options.first().pk]})
    assert "custom_fields.plan" in refused.value.fields


def test_checkbox_takes_a_list_of_option_ids(lead, interests):
    a, _, c = interests.options.all()
    services.lead_custom_fields_set(lead=lead, values={"interests": [c.pk, a.pk]})
    assert LeadCustomFieldValue.objects.get(lead=lead, field=interests).value == sorted([a.pk, c.pk])


def test_checkbox_refuses_a_single_id(lead, interests):
    with pytest.raises(ApplicationError):
        services.lead_custom_fields_set(lead=lead, values={"interests": interests.options.first().pk})


def test_text_field_refuses_a_list(account, lead):
    services.custom_field_create(account=account, identifier="color", type=CustomFieldType.TEXT_AREA)
    with pytest.raises(ApplicationError) as refused:
        services.lead_custom_fields_set(lead=lead, values={"color": ["blue"]})
    assert refused.value.fields == {"custom_fields.color": ["Enter text."]}


def test_unknown_custom_field_identifier_is_a_field_error(lead):
    with pytest.raises(ApplicationError) as refused:
        services.lead_custom_fields_set(lead=lead, values={"shoe_size": "42"})
    assert refused.value.fields == {"custom_fields.shoe_size": ['Custom field "shoe_size" does not exist.']}


def test_custom_field_of_another_account_is_unknown(other_account, lead):
    services.custom_field_create(account=other_account, identifier="color", type=CustomFieldType.INPUT_FIELD)
    with pytest.raises(ApplicationError):
        services.lead_custom_fields_set(lead=lead, values={"color": "blue"})


def test_empty_value_clears_a_custom_field(lead, plan):
    services.lead_custom_fields_set(lead=lead, values={"plan": plan.options.first().pk})
    services.lead_custom_fields_set(lead=lead, values={"plan": ""})
    assert not LeadCustomFieldValue.objects.filter(lead=lead).exists()


def test_one_bad_custom_field_writes_none(account, lead, plan):
    services.custom_field_create(account=account, identifier="color", type=CustomFieldType.INPUT_FIELD)
    with pytest.raises(ApplicationError):
        services.lead_custom_fields_set(lead=lead, values={"color": "blue", "plan": "999999"})
    assert not LeadCustomFieldValue.objects.filter(lead=lead).exists()


def test_option_field_needs_two_options(account):
    with pytest.raises(ApplicationError) as refused:
        services.custom_field_create(
            account=account, identifier="plan", type=CustomFieldType.RADIO_BUTTON, options=["One"]
        )
    assert "options" in refused.value.fields


def test_text_field_takes_no_options(account):
    with pytest.raises(ApplicationError):
        services.custom_field_create(
            account=account, identifier="c", type=CustomFieldType.INPUT_FIELD, options=["a", "b"]
        )


def test_custom_field_identifier_is_unique_per_account(account, plan):
    with pytest.raises(ApplicationError) as refused:
        services.custom_field_create(account=account, identifier="plan", type=CustomFieldType.INPUT_FIELD)
    assert refused.value.code == "name_taken"


def test_custom_field_identifier_is_validated(account):
    with pytest.raises(ApplicationError) as refused:
        services.custom_field_create(account=account, identifier="favourite color", type=CustomFieldType.INPUT_FIELD)
    assert "identifier" in refused.value.fields


# GDPR status setter (consent capture only)


def test_gdpr_status_set_records_status_ip_and_date(lead):
    services.lead_gdpr_status_set(lead=lead, status=GdprStatus.ACCEPTED, ip="81.2.69.160", via=GdprEvidence.VISIT)
    lead.refresh_from_db()
    assert (lead.gdpr_status, lead.gdpr_status_ip) == (GdprStatus.ACCEPTED, "81.2.69.160")
    assert lead.gdpr_status_date is not None


def test_lead_create_rolls_back_with_its_transaction(account):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.lead_create(account=account, email="ada@example.com")
        raise RuntimeError
    assert not Lead.objects.exists()
