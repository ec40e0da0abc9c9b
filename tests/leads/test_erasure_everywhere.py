"""Erasure that erases: after a lead is erased, no stored row of any app, and no Redis key,
holds its email, name, phone, street address or IP.

The lead goes through everything that copies personal data: API actions with Idempotency-Key, the
hosted opt-in form and checkout (verified IP, consent), a platform event, a sequence step email,
hook deliveries (delivered with an echoing answer, retrying, in flight, never attempted), an owner's
consent withdrawal and an admin log entry. It is then erased through the owner's page, and every
text, varchar, char, json, jsonb, bytea and inet column of every table (the installed apps' models
and whatever else the database holds) is searched. The same search run before the erasure must
find the values in the places they were copied to, so an empty result means something.
"""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from leads.models import ConsentPurpose, ConsentRecord, Lead, LeadEvent, StepDelivery
from leads.services import consent_withdraw
from leads.services.data_rights import consent_evidence_for_email
from leads.services.sequence_engine import sequence_engine_run, sequence_subscription_step_process
from tests.accounts.factories import UserFactory
from tests.conftest import api_client_for, platform_api_client_for
from tests.leads.factories import FormFactory, LeadListFactory, PricePointFactory, SequenceFactory, TagFactory
from tests.zaphooks.factories import EndpointFactory, SubscriptionFactory
from zaphooks import services as hooks
from zaphooks.models import Delivery, DeliveryAttempt, DeliveryState, HookEvent

pytestmark = pytest.mark.postgres

EMAIL = "Zelda.Quux-7731@Example.org"
FIRST_NAME = "Zeldaquux"
LAST_NAME = "Xyloberg"
PHONE = "+44 7700 900417"
ADDRESS = "17 Quillfeather Lane"
IP = "81.2.69.142"  # United Kingdom: inside the GDPR area, so the hosted pages ask for consent
NEEDLES = {
    "email": EMAIL.lower(),
    "first name": FIRST_NAME.lower(),
    "last name": LAST_NAME.lower(),
    "phone": PHONE.lower(),
    "address": ADDRESS.lower(),
    "ip": IP,
}


@pytest.fixture(autouse=True)
def _postgres_and_redis(db):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the schema-wide search runs on PostgreSQL, with Redis (REDIS_URL)")


SEARCHED_TYPES = {"text", "character varying", "character", "json", "jsonb", "bytea", "inet", "cidr"}


def _searchable_columns() -> dict[str, list[tuple[str, str]]]:
    """Every table of every installed app (and any other table in the schema) with its searchable columns."""
    model_tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        assert model_tables <= tables, f"tables missing from the database: {model_tables - tables}"
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        columns: dict[str, list[tuple[str, str]]] = {table: [] for table in tables}
        for table, column, data_type in cursor.fetchall():
            if table in columns and data_type in SEARCHED_TYPES:
                columns[table].append((column, data_type))
    assert sum(map(len, columns.values())) > 100  # the scan really covers the schema
    return columns


def _as_text(column: str, data_type: str) -> str:
    quoted = connection.ops.quote_name(column)
    if data_type == "bytea":
        return f"lower(encode({quoted}, 'escape'))"
    return f"lower({quoted}::text)"


def _tables_holding(needle: str) -> set[str]:
    """The tables with at least one row whose searchable column contains `needle` (lower case)."""
    found = set()
    with connection.cursor() as cursor:
        for table, columns in _searchable_columns().items():
            if not columns:
                continue
            condition = " OR ".join(f"strpos({_as_text(column, kind)}, %s) > 0" for column, kind in columns)
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)} WHERE {condition})",  # noqa: S608
                [needle] * len(columns),
            )
            if cursor.fetchone()[0]:
                found.add(table)
    return found


def _redis_keys_holding(needle: str) -> list[str]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    found = []
    for key in client.scan_iter(count=500):
        kind = client.type(key).decode()
        if kind == "string":
            values = [client.get(key) or b""]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "hash":
            values = [*client.hgetall(key).keys(), *client.hgetall(key).values()]
        elif kind in ("set", "zset"):
            values = list(client.smembers(key)) if kind == "set" else client.zrange(key, 0, -1)
        else:
            values = []
        if any(needle.encode() in (key + value).lower() for value in values):
            found.append(key.decode(errors="replace"))
    return found


def _echo(job: hooks.Job, status_code: int) -> hooks.Result:
    """A target that answers with the payload it received (receivers often do)."""
    return hooks.Result(job, timezone.now(), status_code, 15, response_start=job.body[:500])


@pytest.fixture
def journey(account, owner, client, settings):
    """The lead's whole life before its erasure; returns what the test needs afterwards."""
    settings.TRUSTED_PROXIES = []
    account.gdpr_enabled = True
    account.save(update_fields=["gdpr_enabled"])
    api = api_client_for(account)
    zap = SubscriptionFactory(account=account, events=["assign_tag"])
    endpoint = EndpointFactory(
        account=account, events=["filled_form", "list_subscription", "buy_product", "external_page_visit"]
    )
    tag = TagFactory(account=account, name="VIP")
    form = FormFactory(account=account)
    form.lists.add(LeadListFactory(account=account, name="Newsletter"))
    price_point = PricePointFactory(product__account=account, product__name="Course", number=1)
    sequence = SequenceFactory(account=account, steps=2)

    def action(command, body, key=None):
        headers = {"Idempotency-Key": key} if key else {}
        response = api.post(f"/api/v1/actions/{command}", body, format="json", headers=headers)
        assert response.status_code in (200, 201), response.json()
        return response

    profile = {"first_name": FIRST_NAME, "last_name": LAST_NAME, "phone": PHONE, "address": ADDRESS, "ip": IP}
    create_body = {"email": EMAIL, **profile}
    action("create_lead", create_body, key="create-zelda")
    action("assign_tag", {"email": EMAIL, "tag": tag.name}, key="tag-zelda")
    visitor = {"REMOTE_ADDR": IP, "HTTP_USER_AGENT": "ZeldaBrowser/1"}
    consent = {"gdpr_terms": "on", "commercial_email": "on"}
    hosted = {"email": EMAIL, "first_name": FIRST_NAME, "last_name": LAST_NAME, **consent}
    response = client.post(reverse("hosted:form", args=[form.public_id]), hosted, **visitor)
    assert response.status_code == 302
    checkout = {**hosted, "price_point": price_point.pk}
    response = client.post(reverse("hosted:checkout", args=[price_point.product.public_id]), checkout, **visitor)
    assert response.status_code == 302
    url = f"https://shop.example.com/thanks?email={EMAIL}&ip={IP}&name={LAST_NAME}"
    response = platform_api_client_for(account).post(
        "/api/v1/events", {"event": "external_page_visit", "email": EMAIL, "url": url}, format="json"
    )
    assert response.status_code == 200, response.json()
    lead = Lead.objects.with_email(EMAIL).get()
    assert (lead.gdpr_status, str(lead.ip)) == ("accepted", IP)

    # A sequence: step 1 emailed, step 2 queued (not sent yet).
    action("subscribe_lead_to_sequence_at_step", {"email": EMAIL, "sequence": sequence.name, "step": 1})
    now = timezone.now()
    assert sequence_engine_run(now=now + timedelta(days=1)).sent == 1
    subscription = lead.sequence_subscriptions.get()
    assert sequence_subscription_step_process(subscription_id=subscription.pk, now=now + timedelta(days=3))
    assert StepDelivery.objects.filter(to_email__iexact=EMAIL, status="queued").exists()

    consent_withdraw(lead=lead, purpose=ConsentPurpose.COMMERCIAL_EMAIL, actor=owner)
    staff = UserFactory(is_staff=True, is_superuser=True)
    LogEntry.objects.log_actions(staff.pk, [lead], CHANGE, change_message=f"Changed email to {EMAIL}")

    # Hooks: one delivered (the answer echoes the payload), one retrying, one in flight, the rest waiting.
    assert hooks.events_relay(wake=False) >= 4
    claimed = hooks.deliveries_claim(limit=3, room={}, default_room=10).jobs
    assert len(claimed) == 3
    delivered, retrying, in_flight = claimed
    hooks.deliveries_record(results=[_echo(delivered, 200), _echo(retrying, 500)])
    waiting = Delivery.objects.filter(state=DeliveryState.PENDING, attempts=0)
    assert waiting.exists()
    return {
        "lead": lead,
        "api": api,
        "create_body": create_body,
        "in_flight": in_flight,
        "delivered": Delivery.objects.get(pk=delivered.delivery_id),
        "subscriptions": (zap, endpoint),
    }


def test_the_scan_finds_the_lead_wherever_it_was_copied_before_erasure(journey):
    found = _tables_holding(NEEDLES["email"])
    assert {
        "leads_lead",
        "leads_leadevent",
        "leads_stepdelivery",
        "zaphooks_hookevent",
        "zaphooks_deliveryattempt",
        "accounts_idempotencykey",
        "django_admin_log",
    } <= found
    assert {"leads_lead", "leads_consentrecord"} <= _tables_holding(NEEDLES["ip"])
    assert "zaphooks_hookevent" in _tables_holding(NEEDLES["phone"])


def test_after_erasure_no_table_and_no_redis_key_holds_the_leads_personal_data(journey, client, owner):
    lead, in_flight = journey["lead"], journey["in_flight"]
    client.force_login(owner)
    response = client.post(reverse("lead_data:erase", kwargs={"lead_id": lead.pk}), {"confirm": "ERASE"})
    assert response.status_code == 302
    # The request that was on the wire when the lead was erased comes back, echoing the payload.
    hooks.deliveries_record(results=[_echo(in_flight, 200)])

    leftovers = {label: _tables_holding(needle) for label, needle in NEEDLES.items()}
    assert leftovers == dict.fromkeys(NEEDLES, set())
    assert {label: _redis_keys_holding(needle) for label, needle in NEEDLES.items()} == dict.fromkeys(NEEDLES, [])
    # What is kept is kept: the tombstone, its events, its consent evidence (matched by keyed hash).
    assert Lead.objects.filter(pk=lead.pk, blacklisted=True).exists()
    assert LeadEvent.objects.filter(lead=lead).count() >= 6
    assert {record.lead_id for record in consent_evidence_for_email(account=lead.account, email=EMAIL)} == {lead.pk}


def test_after_erasure_nothing_of_the_lead_is_sent_or_answered_again(journey, client, owner):
    lead = journey["lead"]
    client.force_login(owner)
    client.post(reverse("lead_data:erase", kwargs={"lead_id": lead.pk}), {"confirm": "ERASE"})
    hooks.deliveries_record(results=[_echo(journey["in_flight"], 200)])

    # No delivery of its events is due or can be claimed; the in-flight one is not retried.
    assert not Delivery.objects.filter(state__in=[DeliveryState.PENDING, DeliveryState.SENDING]).exists()
    assert hooks.deliveries_claim(limit=100, room={}, default_room=100).jobs == []
    assert set(HookEvent.objects.values_list("body", flat=True)) == {""}
    # Replaying the delivered one from the log sends nothing and says why.
    delivered = journey["delivered"]
    page = client.post(
        reverse("zaphooks:replay", args=[delivered.subscription_id]), {"delivery_id": delivered.pk}, follow=True
    ).content.decode()
    assert "Lead erased: its personal data is gone, so this delivery is not sent." in page
    assert Delivery.objects.get(pk=delivered.pk).state == DeliveryState.SUCCEEDED
    # The idempotent create_lead repeated answers the erased marker, not the stored lead document.
    repeat = journey["api"].post(
        "/api/v1/actions/create_lead",
        journey["create_body"],
        format="json",
        headers={"Idempotency-Key": "create-zelda"},
    )
    assert repeat.status_code == 410
    assert repeat.json()["code"] == "lead_erased"
    assert EMAIL.lower() not in json.dumps(repeat.json()).lower()
    assert not Lead.objects.with_email(EMAIL).exists()
    assert DeliveryAttempt.objects.exclude(response_start="").count() == 0
    assert ConsentRecord.objects.filter(lead=lead, ip__isnull=False).count() == 0
