"""PreparedQuery and insert_if_absent: the API's hot statements, compiled once per process."""

import json
from datetime import UTC, datetime

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured, MultipleObjectsReturned
from django.db import IntegrityError, connection

from accounts.models import ApiCredential
from accounts.services import api_credentials_issue
from kartra_integrations.prepared import (
    PreparedQuery,
    Sql,
    insert,
    insert_if_absent,
    insert_if_absent_reading,
    json_sql,
    rows_insert,
    statement_rows,
)
from leads.models import Lead, LeadAction, LeadEvent, LeadTag
from tests.leads.factories import LeadFactory, TagFactory
from tests.zaphooks.factories import SubscriptionFactory
from zaphooks.models import Delivery, HookEvent

pytestmark = pytest.mark.django_db

credential_by_key = PreparedQuery(
    lambda api_key: ApiCredential.objects.select_related("account__owner").filter(api_key=api_key),
    api_key="{api_key}",
)
leads_of_account = PreparedQuery(
    lambda account_id: Lead.objects.filter(account_id=account_id).order_by("id"), account_id=-1001
)


def test_get_returns_the_instance_with_its_select_related_objects(account, django_assert_num_queries):
    issued = api_credentials_issue(account=account)
    with django_assert_num_queries(1):
        found = credential_by_key.get(api_key=issued.api_key)
        assert found.api_key == issued.api_key
        assert found.account == account
        assert found.account.owner == account.owner


def test_get_converts_column_values_to_python():
    lead = LeadFactory(date_joined=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    found = PreparedQuery(lambda pk: Lead.objects.filter(pk=pk), pk=-1002).get(pk=lead.pk)
    assert found.date_joined == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert found._state.adding is False


def test_get_returns_none_when_nothing_matches(db):
    assert credential_by_key.get(api_key="ki_missing") is None


def test_get_refuses_more_than_one_match(account):
    LeadFactory.create_batch(2, account=account)
    with pytest.raises(MultipleObjectsReturned):
        leads_of_account.get(account_id=account.pk)


def test_rows_binds_the_parameters_of_each_run(account, other_account):
    mine = LeadFactory(account=account)
    LeadFactory(account=other_account)
    query = PreparedQuery(
        lambda account_id: Lead.objects.filter(account_id=account_id).values_list("id"), account_id=-1003
    )
    assert query.rows(account_id=account.pk) == [(mine.pk,)]


def test_a_parameter_that_does_not_reach_the_sql_unchanged_is_refused(db):
    # Upper-cased on its way into the queryset, the sentinel is not among the SQL's parameters.
    query = PreparedQuery(lambda email: Lead.objects.filter(email=email.upper()), email="{email}")
    with pytest.raises(ImproperlyConfigured):
        query.get(email="ada@example.com")


def test_insert_if_absent_inserts_a_new_row_and_sets_its_pk():
    lead, tag = LeadFactory(), TagFactory()
    lead_tag = LeadTag(lead=lead, tag=tag)
    assert insert_if_absent(lead_tag) is True
    assert lead_tag.pk == LeadTag.objects.get(lead=lead, tag=tag).pk


def test_insert_if_absent_leaves_an_existing_row_alone():
    lead, tag = LeadFactory(), TagFactory()
    first = LeadTag.objects.create(lead=lead, tag=tag)
    again = LeadTag(lead=lead, tag=tag)
    assert insert_if_absent(again) is False
    assert again.pk is None
    assert list(LeadTag.objects.values_list("pk", flat=True)) == [first.pk]


def test_insert_writes_a_row_whose_primary_key_is_made_in_python():
    lead = LeadFactory()
    event = LeadEvent(
        account_id=lead.account_id, lead=lead, action=LeadAction.ASSIGN_TAG, details={"tag": {"tag_id": 1}}
    )
    insert(event)
    stored = LeadEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.details, stored.occurred_at) == (
        LeadAction.ASSIGN_TAG,
        {"tag": {"tag_id": 1}},
        event.occurred_at,
    )


def test_insert_sets_a_primary_key_the_database_generates():
    lead_tag = LeadTag(lead=LeadFactory(), tag=TagFactory())
    insert(lead_tag)
    assert LeadTag.objects.get(pk=lead_tag.pk).tag_id == lead_tag.tag_id


def _event(lead, action=LeadAction.ASSIGN_TAG):
    return LeadEvent(account_id=lead.account_id, lead=lead, action=action, details={"tag": {"tag_id": 1}})


def test_insert_if_absent_then_writes_the_following_row_with_the_new_one():
    lead, tag = LeadFactory(), TagFactory()
    lead_tag, event = LeadTag(lead=lead, tag=tag), _event(lead)
    assert insert_if_absent(lead_tag, then=event) is True
    assert lead_tag.pk == LeadTag.objects.get(lead=lead, tag=tag).pk
    stored = LeadEvent.objects.get(pk=event.pk)
    assert (stored.lead_id, stored.action, stored.details) == (lead.pk, LeadAction.ASSIGN_TAG, {"tag": {"tag_id": 1}})
    assert event._state.adding is False


def test_insert_if_absent_then_writes_neither_row_when_the_first_exists():
    lead, tag = LeadFactory(), TagFactory()
    LeadTag.objects.create(lead=lead, tag=tag)
    assert insert_if_absent(LeadTag(lead=lead, tag=tag), then=_event(lead)) is False
    assert not LeadEvent.objects.exists()


def test_insert_if_absent_then_is_all_or_nothing(transactional_db):
    # The following row fails (its primary key is taken): the first row is not left behind.
    lead, tag = LeadFactory(), TagFactory()
    taken = _event(lead)
    insert(taken)
    clash = _event(lead)
    clash.pk = taken.pk
    with pytest.raises(IntegrityError):
        insert_if_absent(LeadTag(lead=lead, tag=tag), then=clash)
    assert not LeadTag.objects.exists()


def test_insert_if_absent_then_is_one_statement_on_postgresql(django_assert_num_queries):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no INSERT inside WITH: two statements in a transaction there")
    lead, tag = LeadFactory(), TagFactory()
    with django_assert_num_queries(1):
        insert_if_absent(LeadTag(lead=lead, tag=tag), then=_event(lead))


def test_a_following_row_whose_primary_key_the_database_makes_is_refused():
    lead = LeadFactory()
    with pytest.raises(ImproperlyConfigured):
        insert_if_absent(_event(lead), then=LeadTag(lead=lead, tag=TagFactory()))


# Statements composed of pieces (Sql)


@pytest.mark.postgres
def test_a_query_as_a_piece_takes_an_expression_for_a_parameter_and_prefixes_the_others(account):
    mine, theirs = LeadFactory(account=account), LeadFactory()
    by_id = PreparedQuery(
        lambda account_id, pk: Lead.objects.filter(account_id=account_id, pk=pk), account_id=-1, pk=-2
    )
    piece = (
        "WITH wanted AS (SELECT %s::bigint AS id) "  # noqa: S608
        + Sql("SELECT * FROM (")
        + by_id.sql(prefix="lead.", pk="(SELECT id FROM wanted)")
        + ") found"
    )
    statement = Sql(piece.text, (("name", "wanted"), *piece.params))
    assert [row[0] for row in statement_rows(statement, {"wanted": mine.pk, "lead.account_id": account.pk})] == [
        mine.pk
    ]
    assert statement_rows(statement, {"wanted": theirs.pk, "lead.account_id": account.pk}) == []


def test_instance_builds_the_model_from_the_start_of_a_longer_row(account):
    lead = LeadFactory(account=account)
    by_id = PreparedQuery(lambda pk: Lead.objects.filter(pk=pk), pk=-3)
    piece = Sql("SELECT found.*, 42 FROM (") + by_id.sql(pk=str(lead.pk)) + ") found"  # noqa: S608
    row = statement_rows(piece, {})[0]
    assert by_id.instance(row) == lead
    assert by_id.instance((None,) * len(row)) is None


@pytest.mark.postgres
def test_json_sql_swaps_stand_ins_for_columns_and_keeps_every_other_value():
    document = {"tag": {"tag_id": -7, "tag_name": "{name}", "kept": [1, "two"], "flag": True}}
    expression = json_sql(document, {-7: "t.id", "{name}": "t.name"})
    source = Sql(" FROM (SELECT 5 AS id, %s::text AS name) t", (("name", "name"),))
    rows = statement_rows("SELECT " + expression + source, {"name": 'a "quoted" ü'})  # noqa: S608
    assert json.loads(rows[0][0]) == {
        "tag": {"tag_id": 5, "tag_name": 'a "quoted" ü', "kept": [1, "two"], "flag": True}
    }


@pytest.mark.postgres
def test_insert_if_absent_reading_inserts_and_reads_in_one_statement(account, django_assert_num_queries):
    existing = LeadFactory(account=account)
    lead = Lead(account=account, email="new@example.com", date_joined=existing.date_joined)
    others = PreparedQuery(
        lambda account_id: Lead.objects.filter(account_id=account_id).values_list("id"), account_id=-4
    )

    def read(new_id: str) -> Sql:
        return Sql(f"SELECT {new_id} AS new_id, o.* FROM (") + others.sql() + ") o"  # noqa: S608

    with django_assert_num_queries(1):
        rows = insert_if_absent_reading(lead, read, {"account_id": account.pk})
    assert lead.pk is not None
    assert rows == [(lead.pk, existing.pk)]  # the read does not see the row the statement inserts
    duplicate = Lead(account=account, email="NEW@example.com", date_joined=existing.date_joined)
    assert insert_if_absent_reading(duplicate, read, {"account_id": account.pk}) is None


@pytest.mark.postgres
def test_any_matches_the_listed_values_with_one_statement_whatever_their_number(account):
    first, second, third = (LeadFactory(account=account) for _ in range(3))
    some = Lead.objects.filter(pk__any=[first.pk, third.pk])
    assert set(some) == {first, third}
    assert not Lead.objects.filter(pk__any=[]).exists()
    one_sql, one_params = Lead.objects.filter(pk__any=[second.pk]).query.sql_with_params()
    some_sql, some_params = some.query.sql_with_params()
    assert one_sql == some_sql
    assert (one_params, some_params) == (([second.pk],), ([first.pk, third.pk],))


@pytest.mark.postgres
def test_a_list_sentinel_binds_an_any_lookups_array_at_each_run(account):
    first, second, third = (LeadFactory(account=account) for _ in range(3))
    by_ids = PreparedQuery(lambda ids: Lead.objects.filter(pk__any=ids).values_list("pk"), ids=[-424242999])
    assert sorted(row[0] for row in by_ids.rows(ids=[first.pk, third.pk])) == sorted([first.pk, third.pk])
    assert by_ids.rows(ids=[second.pk]) == [(second.pk,)]


leads_by_ids = PreparedQuery(lambda ids: Lead.objects.filter(pk__any=ids).order_by("email"), ids=[-424242998])


def test_instances_returns_every_match_as_a_model_in_the_querys_order(account):
    second, first = (
        LeadFactory(account=account, email="b@example.com"),
        LeadFactory(account=account, email="a@example.com"),
    )
    found = leads_by_ids.instances(ids=[second.pk, first.pk])
    assert found == [first, second]
    assert [lead.email for lead in found] == ["a@example.com", "b@example.com"]


def test_instances_binds_a_list_of_any_length_on_every_database(account):
    leads = LeadFactory.create_batch(3, account=account)
    assert {lead.pk for lead in leads_by_ids.instances(ids=[lead.pk for lead in leads])} == {lead.pk for lead in leads}
    assert leads_by_ids.instances(ids=[leads[0].pk]) == [leads[0]]
    assert leads_by_ids.instances(ids=[]) == []


@pytest.mark.postgres
def test_instances_binds_the_list_as_one_array_in_one_statement(account, django_assert_num_queries):
    lead = LeadFactory(account=account)
    leads_by_ids.instances(ids=[lead.pk])
    with django_assert_num_queries(1) as queries:
        leads_by_ids.instances(ids=[lead.pk, lead.pk])
    assert "= ANY(" in queries.captured_queries[0]["sql"]


def test_rows_insert_writes_batches_of_several_models_and_sets_the_keys_the_database_makes(account):
    subscription = SubscriptionFactory(account=account)
    occurred_at = datetime(2026, 1, 2, tzinfo=UTC)
    hook_events = [
        HookEvent(account=account, action="assign_tag", occurred_at=occurred_at, body="{}") for _ in range(2)
    ]
    deliveries = [Delivery(event_id=event.pk, subscription=subscription) for event in hook_events]
    rows_insert(hook_events, deliveries)
    assert set(HookEvent.objects.values_list("pk", flat=True)) == {event.pk for event in hook_events}
    stored = dict(Delivery.objects.values_list("pk", "event_id"))
    assert stored == {delivery.pk: delivery.event_id for delivery in deliveries}


@pytest.mark.postgres
def test_rows_insert_of_several_batches_is_one_statement(account, monkeypatch):
    subscription = SubscriptionFactory(account=account)
    hook_event = HookEvent(
        account=account, action="assign_tag", occurred_at=datetime(2026, 1, 2, tzinfo=UTC), body="{}"
    )
    sent = []  # rows_insert runs on a psycopg cursor of its own, which Django's query log does not see
    execute = psycopg.Cursor.execute
    monkeypatch.setattr(
        psycopg.Cursor,
        "execute",
        lambda cursor, query, *args, **kw: sent.append(query) or execute(cursor, query, *args, **kw),
    )
    rows_insert([hook_event], [Delivery(event_id=hook_event.pk, subscription=subscription)])
    monkeypatch.undo()
    assert len(sent) == 1
    assert sent[0].startswith("WITH batch0 AS (INSERT INTO")
    assert Delivery.objects.get().event_id == hook_event.pk
