"""Query budget: any single action at most 10 queries, whatever the lead and the account hold.
Authentication costs none: the credential was verified by earlier requests of the process and is served
while the account's credential epoch in Redis is unchanged (accounts.credential_cache)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import CustomFieldOption, MembershipLevel
from leads.services import (
    lead_calendar_subscribe,
    lead_custom_fields_set,
    lead_list_subscribe,
    lead_list_unsubscribe,
    lead_membership_grant,
    lead_sequence_subscribe,
    lead_tag_assign,
    transaction_sale_record,
)
from tests.conftest import api_client_for
from tests.leads import factories as f

# The budgets count PostgreSQL's statements (one-statement writes and reads) with credentials served
# from the process under a Redis epoch, as deployed.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]

BUDGET = 10
MANY = 15


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.API_RATE_PER_ACCOUNT = "10000/s"


def _client(account):
    """A client whose credential this process has verified: its first request reads it from PostgreSQL
    before the epoch is known, the second under the epoch, and later ones are served from the process."""
    client = api_client_for(account)
    for _ in range(2):
        assert client.get("/api/v1/me").status_code == 200
    return client


def _busy_lead(account, lead, count):
    """A lead with `count` tags, lists, sequences, memberships and custom field values."""
    for n in range(count):
        lead_tag_assign(lead=lead, tag=f.TagFactory(account=account))
        lead_list_subscribe(lead=lead, lead_list=f.LeadListFactory(account=account))
        lead_sequence_subscribe(lead=lead, sequence=f.SequenceFactory(account=account, steps=1))
        membership = f.MembershipFactory(account=account)
        lead_membership_grant(lead=lead, level=MembershipLevel.objects.create(membership=membership, name="Basic"))
        text_field = f.CustomFieldFactory(account=account, identifier=f"text_{n}")
        choice_field = f.CustomFieldFactory(account=account, identifier=f"choice_{n}", type="drop_down")
        option = CustomFieldOption.objects.create(field=choice_field, value="A", position=1)
        CustomFieldOption.objects.create(field=choice_field, value="B", position=2)
        lead_custom_fields_set(lead=lead, values={text_field.identifier: "x", choice_field.identifier: option.id})


@pytest.fixture
def busy(account, lead):
    _busy_lead(account, lead, MANY)
    f.TagFactory(account=account, name="Fresh tag")
    f.LeadListFactory(account=account, name="Fresh list")
    sequence = f.SequenceFactory(account=account, name="Fresh sequence", steps=2)
    calendar = f.CalendarFactory(account=account, name="Coaching")
    f.CalendarClassFactory(calendar=calendar, name="Call")
    booked_class = f.CalendarClassFactory(calendar=calendar, name="Booked")
    recurring = f.PricePointFactory(product=f.ProductFactory(account=account), recurring=True)
    sale = transaction_sale_record(lead=lead, price_point=recurring)
    lead_sequence_subscribe(lead=lead, sequence=sequence)
    lead_calendar_subscribe(lead=lead, calendar_class=booked_class, starts_at=timezone.now() + timedelta(days=2))
    return {"lead": lead, "sale": sale}


def _actions(busy):
    lead, sale = busy["lead"], busy["sale"]
    who = {"email": lead.email}
    starts_at = (timezone.now() + timedelta(days=3)).isoformat()
    return [
        ("create_lead", {"email": "new@example.com", "first_name": "Ann", "country": "US"}),
        ("create_lead", {"email": "new2@example.com", "custom_fields": {"text_1": "y", "choice_2": None}}),
        ("edit_lead", {**who, "first_name": "Grace", "custom_fields": {"text_0": "z", "text_3": ""}}),
        ("assign_tag", {**who, "tag": "Fresh tag"}),
        ("unassign_tag", {**who, "tag": "Fresh tag"}),
        ("subscribe_lead_to_list", {**who, "list": "Fresh list"}),
        ("unsubscribe_lead_from_list", {**who, "list": "Fresh list"}),
        ("give_points_to_lead", {**who, "points": 5, "expiration_days": 3}),
        ("remove_points_from_lead", {**who, "points": 2}),
        ("subscribe_lead_to_sequence_at_step", {**who, "sequence": "Fresh sequence", "step": 2}),
        ("unsubscribe_lead_from_sequence", {**who, "sequence": "Fresh sequence"}),
        ("calendar_subscribe", {**who, "calendar": "Coaching", "class": "Call", "starts_at": starts_at}),
        ("calendar_cancel", {**who, "calendar": "Coaching", "class": "Call"}),
        ("refund_transaction", {"transaction_id": sale.id, "amount": "10.00"}),
        ("cancel_transaction", {"subscription_id": sale.recurring_subscription.id}),
        ("create_custom_field", {"identifier": "plan", "type": "checkbox", "options": ["A", "B", "C"]}),
    ]


def test_every_action_of_a_busy_lead_stays_within_the_budget(account, busy):
    for command, body in _actions(busy):
        client = _client(account)
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/api/v1/actions/{command}", body, format="json")
        assert response.status_code in (200, 201), (command, response.json())
        assert len(queries) <= BUDGET, (command, len(queries), [q["sql"][:80] for q in queries])


@pytest.mark.parametrize("index", range(16))
def test_each_action_within_budget_with_django_assert(account, busy, django_assert_max_num_queries, index):
    command, body = _actions(busy)[index]
    client = _client(account)
    with django_assert_max_num_queries(BUDGET):
        response = client.post(f"/api/v1/actions/{command}", body, format="json")
    assert response.status_code in (200, 201)


@pytest.mark.parametrize(
    ("command", "body"),
    [
        ("assign_tag", {"tag": "Fresh tag"}),
        ("unassign_tag", {"tag": "Fresh tag"}),
        ("unassign_tag", {"tag": "Held tag"}),
        ("subscribe_lead_to_list", {"list": "Fresh list"}),
        ("subscribe_lead_to_list", {"list": "Held list"}),
        ("subscribe_lead_to_list", {"list": "Left list"}),
        ("unsubscribe_lead_from_list", {"list": "Held list"}),
        ("unsubscribe_lead_from_list", {"list": "Fresh list"}),
        ("create_lead", {"email": "new@example.com", "first_name": "Ann"}),
    ],
)
def test_tag_and_list_actions_and_create_lead_are_one_query_after_authentication(account, busy, command, body):
    """Finding the lead and the asset, the write with its event and the lead document: one statement
    (the busy lead holds "Held tag" and "Held list", has left "Left list", and lacks the fresh ones)."""
    lead = busy["lead"]
    lead_tag_assign(lead=lead, tag=f.TagFactory(account=account, name="Held tag"))
    lead_list_subscribe(lead=lead, lead_list=f.LeadListFactory(account=account, name="Held list"))
    left = f.LeadListFactory(account=account, name="Left list")
    lead_list_subscribe(lead=lead, lead_list=left)
    lead_list_unsubscribe(lead=lead, lead_list=left)
    client = _client(account)

    def count(path: str, data: dict) -> int:
        with CaptureQueriesContext(connection) as queries:
            client.post(path, data, format="json")
        return len(queries)

    count("/api/v1/actions/no_such_command", {})  # the once-a-minute last_used_at stamp, out of the way
    authentication = count("/api/v1/actions/no_such_command", {})
    assert count(f"/api/v1/actions/{command}", {"email": busy["lead"].email, **body}) == authentication + 1


def test_lead_details_cost_the_same_for_an_empty_and_a_busy_lead(account, django_assert_num_queries):
    quiet, busy = f.LeadFactory(account=account), f.LeadFactory(account=account)
    _busy_lead(account, busy, 5)

    def count(lead):
        client = _client(account)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/leads/{lead.id}").status_code == 200
        return len(queries)

    assert count(quiet) == count(busy) == 1  # the lead and its document: one statement


@pytest.mark.parametrize("found", [True, False])
def test_search_lead_is_one_query_found_or_not(account, busy, found, django_assert_num_queries):
    client = _client(account)
    email = busy["lead"].email if found else "nobody@example.com"
    with django_assert_num_queries(1):
        response = client.get("/api/v1/leads/search", {"email": email})
    assert (response.json()["lead"] is not None) is found


@pytest.mark.parametrize(
    "path", ["tags", "sequences", "custom-fields", "calendars", "memberships", "products", "forms"]
)
def test_asset_lists_cost_the_same_whatever_their_size(account, path, django_assert_max_num_queries):
    _busy_lead(account, f.LeadFactory(account=account), 10)
    for _ in range(10):
        f.CalendarClassFactory(calendar=f.CalendarFactory(account=account))
        f.PricePointFactory(product=f.ProductFactory(account=account))
        f.FormFactory(account=account)
    client = _client(account)
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/{path}").status_code == 200
