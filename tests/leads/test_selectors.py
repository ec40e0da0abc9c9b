import pytest
from django.utils import timezone

from kartra_integrations.errors import NotFound
from leads import selectors, services
from leads.models import CustomFieldType, GdprStatus, LeadEvent, LeadList, Tag
from tests.leads.factories import (
    LeadFactory,
    LeadListFactory,
    MembershipLevelFactory,
    SequenceFactory,
    TagFactory,
)

# lead_get


def test_lead_get_by_id(account, lead):
    assert selectors.lead_get(account=account, id=lead.pk) == lead


def test_lead_get_by_email_ignores_case(account):
    lead = LeadFactory(account=account, email="Ada@Example.com")
    assert selectors.lead_get(account=account, email="ada@example.COM") == lead


def test_lead_get_never_returns_another_accounts_lead_by_id(other_account, lead):
    with pytest.raises(NotFound) as missing:
        selectors.lead_get(account=other_account, id=lead.pk)
    assert (missing.value.message, missing.value.code) == ("No lead found", "lead_not_found")


def test_lead_get_never_returns_another_accounts_lead_by_email(other_account, lead):
    with pytest.raises(NotFound):
        selectors.lead_get(account=other_account, email=lead.email)


def test_lead_get_with_a_non_numeric_id_is_not_found(account):
    with pytest.raises(NotFound):
        selectors.lead_get(account=account, id="abc")


# asset_resolve


def test_asset_resolve_by_id_and_by_name(account):
    tag = TagFactory(account=account, name="VIP")
    assert selectors.asset_resolve(account=account, model=Tag, ref=tag.pk) == tag
    assert selectors.asset_resolve(account=account, model=Tag, ref=str(tag.pk)) == tag
    assert selectors.asset_resolve(account=account, model=Tag, ref="VIP") == tag


def test_asset_resolve_takes_a_numeric_name_when_no_id_matches(account):
    tag = TagFactory(account=account, name="2024")
    assert selectors.asset_resolve(account=account, model=Tag, ref="2024") == tag


def test_asset_resolve_missing_names_the_asset(account):
    with pytest.raises(NotFound) as missing:
        selectors.asset_resolve(account=account, model=Tag, ref="X")
    assert (missing.value.message, missing.value.code) == ('Tag "X" does not exist', "tag_not_found")


def test_asset_resolve_hides_another_accounts_asset_by_name(account, other_account):
    TagFactory(account=other_account, name="Theirs")
    with pytest.raises(NotFound) as missing:
        selectors.asset_resolve(account=account, model=Tag, ref="Theirs")
    assert missing.value.message == 'Tag "Theirs" does not exist'


def test_asset_resolve_hides_another_accounts_asset_by_id(account, other_account):
    theirs = LeadListFactory(account=other_account)
    with pytest.raises(NotFound) as missing:
        selectors.asset_resolve(account=account, model=LeadList, ref=theirs.pk)
    assert (missing.value.message, missing.value.code) == (f'List "{theirs.pk}" does not exist', "list_not_found")


# lead_details


def test_lead_details_lists_every_custom_field_empty_ones_too(account, lead):
    services.custom_field_create(account=account, identifier="color", type=CustomFieldType.INPUT_FIELD)
    plan = services.custom_field_create(
        account=account, identifier="plan", type=CustomFieldType.DROP_DOWN, options=["Free", "Paid"]
    )
    paid = plan.options.get(value="Paid")
    services.lead_custom_fields_set(lead=lead, values={"plan": paid.pk})
    fields = {f["field_identifier"]: f for f in selectors.lead_details(lead)["custom_fields"]}
    assert fields["color"]["field_value"] == ""
    assert fields["plan"] == {
        "field_id": plan.pk,
        "field_identifier": "plan",
        "field_type": "drop_down",
        "field_value": [{"option_id": paid.pk, "option_value": "Paid"}],
    }


def test_lead_details_has_profile_score_and_gdpr_fields(lead):
    lead.country, lead.score, lead.gdpr_status_date = "Ireland", 12, timezone.now()
    lead.save()
    details = selectors.lead_details(lead)
    assert details["id"] == lead.pk
    assert details["email"] == lead.email
    assert details["country"] == "Ireland"
    assert details["score"] == 12
    assert (details["gdpr_lead_status"], details["gdpr_lead_status_name"]) == (4, "unknown")
    assert details["date_joined"].endswith("Z")
    assert details["gdpr_lead_status_date"].endswith("Z")


def test_lead_details_lists_relations(account, lead):
    tag = TagFactory(account=account, name="VIP")
    lead_list = LeadListFactory(account=account, name="Newsletter")
    sequence = SequenceFactory(account=account, name="Onboarding")
    level = MembershipLevelFactory(membership__account=account, membership__name="Academy", name="Basic")
    services.lead_tag_assign(lead=lead, tag=tag)
    services.lead_list_subscribe(lead=lead, lead_list=lead_list)
    services.lead_list_unsubscribe(lead=lead, lead_list=lead_list)
    services.lead_sequence_subscribe(lead=lead, sequence=sequence, step=2)
    services.lead_membership_grant(lead=lead, level=level)
    details = selectors.lead_details(lead)
    assert details["tags"] == [{"tag_id": tag.pk, "tag_name": "VIP"}]
    assert details["lists"] == [{"list_id": lead_list.pk, "list_name": "Newsletter", "active": False}]
    assert details["sequences"] == [
        {"sequence_id": sequence.pk, "sequence_name": "Onboarding", "step": 2, "status": "active"}
    ]
    assert details["memberships"] == [
        {
            "membership_id": level.membership_id,
            "membership_name": "Academy",
            "level_id": level.pk,
            "level_name": "Basic",
            "active": True,
        }
    ]


def test_lead_details_costs_a_constant_number_of_queries(account, lead, django_assert_max_num_queries):
    for n in range(5):
        field = services.custom_field_create(
            account=account, identifier=f"choice_{n}", type=CustomFieldType.CHECKBOX, options=["a", "b", "c"]
        )
        services.lead_custom_fields_set(lead=lead, values={field.identifier: [o.pk for o in field.options.all()]})
        services.lead_tag_assign(lead=lead, tag=TagFactory(account=account))
        services.lead_list_subscribe(lead=lead, lead_list=LeadListFactory(account=account))
        services.lead_sequence_subscribe(lead=lead, sequence=SequenceFactory(account=account))
        services.lead_membership_grant(lead=lead, level=MembershipLevelFactory(membership__account=account))
    with django_assert_max_num_queries(7):
        details = selectors.lead_details(lead)
    assert (len(details["custom_fields"]), len(details["tags"]), len(details["memberships"])) == (5, 5, 5)


def test_lead_details_shows_only_the_accounts_custom_fields(other_account, lead):
    services.custom_field_create(account=other_account, identifier="theirs", type=CustomFieldType.INPUT_FIELD)
    assert selectors.lead_details(lead)["custom_fields"] == []


def _busy_lead(account, n: int):
    """A lead with a custom field value, a tag, a list, a sequence and a membership of its own."""
    lead = LeadFactory(account=account)
    field = services.custom_field_create(
        account=account, identifier=f"pick_{n}", type=CustomFieldType.CHECKBOX, options=["a", "b"]
    )
    services.custom_field_create(account=account, identifier=f"note_{n}", type=CustomFieldType.INPUT_FIELD)
    services.lead_custom_fields_set(lead=lead, values={field.identifier: [field.options.first().pk], f"note_{n}": "hi"})
    services.lead_tag_assign(lead=lead, tag=TagFactory(account=account))
    services.lead_list_subscribe(lead=lead, lead_list=LeadListFactory(account=account))
    services.lead_sequence_subscribe(lead=lead, sequence=SequenceFactory(account=account), step=1 + n % 2)
    services.lead_membership_grant(lead=lead, level=MembershipLevelFactory(membership__account=account))
    return lead


def test_lead_details_many_gives_each_lead_its_lead_details_document(account, other_account):
    leads = [_busy_lead(account, 0), _busy_lead(account, 1), _busy_lead(other_account, 2), LeadFactory(account=account)]
    documents = selectors.lead_details_many(leads)
    assert documents == {lead.pk: selectors.lead_details(lead) for lead in leads}


def test_lead_details_many_costs_one_query_for_any_number_of_leads(account, django_assert_num_queries):
    leads = [_busy_lead(account, n) for n in range(6)]
    with django_assert_num_queries(1):
        documents = selectors.lead_details_many(leads)
    assert [len(documents[lead.pk]["custom_fields"]) for lead in leads] == [12] * 6


# Who may be emailed


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (GdprStatus.NOT_SUBJECT, True),
        (GdprStatus.ACCEPTED, True),
        (GdprStatus.UNKNOWN, False),
        (GdprStatus.PENDING, False),
        (GdprStatus.NOT_ACCEPTED, False),
        (GdprStatus.OFF, False),
    ],
)
def test_email_gate_with_gdpr_on_follows_status(account, status, allowed):
    lead = LeadFactory(account=account, gdpr_status=status)
    assert selectors.lead_can_receive_email(lead) is allowed


def test_email_gate_with_gdpr_off_lets_unknown_lead_through(account):
    account.gdpr_enabled = False
    account.save()
    assert selectors.lead_can_receive_email(LeadFactory(account=account, gdpr_status=GdprStatus.UNKNOWN)) is True


def test_email_gate_blocks_blacklisted_lead(account):
    account.gdpr_enabled = False
    account.save()
    lead = LeadFactory(account=account, gdpr_status=GdprStatus.ACCEPTED, blacklisted=True)
    assert selectors.lead_can_receive_email(lead) is False


def test_api_lead_is_blocked_from_email_when_account_has_gdpr_on(account):
    lead = services.lead_create(account=account, email="joe@example.com", country="United States")
    assert selectors.lead_can_receive_email(lead) is False


# reaches_score and the event payload


def test_reaches_score_fires_once_per_threshold(lead):
    services.lead_points_give(lead=lead, points=30)
    services.lead_points_remove(lead=lead, points=25)
    services.lead_points_give(lead=lead, points=25)
    services.lead_points_give(lead=lead, points=30)
    fired = {
        score: sum(selectors.reaches_score_matches(event.details, score) for event in LeadEvent.objects.all())
        for score in (10, 30, 31, 60, 61)
    }
    assert fired == {10: 1, 30: 1, 31: 1, 60: 1, 61: 0}


def test_reaches_score_matches_ignores_details_of_other_shapes():
    assert selectors.reaches_score_matches({"tag": {}}, 10) is False


def test_event_payload_carries_lead_details_and_action_details(account, lead):
    services.lead_tag_assign(lead=lead, tag=TagFactory(account=account, name="VIP"))
    event = LeadEvent.objects.get()
    payload = selectors.event_payload(event)
    assert payload["id"] == str(event.id)
    assert payload["action"] == "assign_tag"
    assert payload["occurred_at"].endswith("Z")
    assert payload["lead"]["tags"] == [{"tag_id": event.details["tag"]["tag_id"], "tag_name": "VIP"}]
    assert payload["action_details"] == event.details


def test_event_payload_with_a_document_read_already_reads_nothing(lead, django_assert_num_queries):
    services.lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account))
    event = LeadEvent.objects.get(lead=lead)
    document = {"id": lead.pk, "email": lead.email}
    with django_assert_num_queries(0):
        payload = selectors.event_payload(event, lead_document=document)
    assert payload == selectors.event_payload_build(
        event_id=str(event.id),
        action=event.action,
        occurred_at=event.occurred_at,
        lead_document=document,
        action_details=event.details,
    )
