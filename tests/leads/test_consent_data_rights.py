"""Data rights: the owner's JSON export of a lead and irreversible erasure."""

import json

import pytest
from django.urls import reverse

from leads.models import ConsentRecord, GdprStatus, Lead, LeadCustomFieldValue, LeadErasure, LeadEvent
from leads.selectors import lead_can_receive_email
from leads.services import (
    Visitor,
    hosted_checkout_submit,
    lead_custom_fields_set,
    lead_external_page_visit_record,
    lead_points_give,
    lead_tag_assign,
)
from leads.services.data_rights import lead_erase, lead_export
from tests.leads.factories import CustomFieldFactory, PricePointFactory, ProductFactory, TagFactory

EMAIL = "erin@example.com"
IP = "88.198.0.1"


@pytest.fixture
def buyer(account):
    """A lead who bought through the hosted checkout with consent, and has a tag, points and a custom field."""
    price_point = PricePointFactory(product=ProductFactory(account=account, name="Course"), number=1)
    hosted_checkout_submit(
        product=price_point.product,
        price_point=price_point,
        email=EMAIL,
        profile={"first_name": "Erin", "last_name": "Example"},
        visitor=Visitor(ip=IP, user_agent="TestAgent/1"),
        granted={"gdpr_terms", "commercial_email"},
    )
    lead = Lead.objects.with_email(EMAIL).get()
    lead_tag_assign(lead=lead, tag=TagFactory(account=account, name="Customer"))
    lead_points_give(lead=lead, points=5, reason="bought")
    CustomFieldFactory(account=account, identifier="favourite_color")
    lead_custom_fields_set(lead=lead, values={"favourite_color": "blue"})
    lead_external_page_visit_record(lead=lead, url=f"https://example.com/?email={EMAIL}")
    return Lead.objects.select_related("account").get(pk=lead.pk)


def test_export_holds_profile_custom_fields_relations_points_consent_and_purchases(buyer):
    data = lead_export(lead=buyer)
    assert data["profile"]["email"] == EMAIL
    assert data["profile"]["first_name"] == "Erin"
    assert [(f["field_identifier"], f["field_value"]) for f in data["profile"]["custom_fields"]] == [
        ("favourite_color", "blue")
    ]
    assert [t["tag_name"] for t in data["profile"]["tags"]] == ["Customer"]
    assert [(p["delta"], p["reason"]) for p in data["points_log"]] == [(5, "bought")]
    assert {(c["purpose"], c["ip"]) for c in data["consent_records"]} == {("gdpr_terms", IP), ("commercial_email", IP)}
    assert [(p["product"], p["type"]) for p in data["purchases"]] == [("Course", "sale")]
    assert "buy_product" in [e["action"] for e in data["events"]]
    json.dumps(data)  # the document is JSON as it stands


def test_erasure_removes_personal_data_from_the_lead(buyer, owner):
    lead_erase(lead=buyer, actor=owner)
    buyer.refresh_from_db()
    assert buyer.email == f"erased-{buyer.pk}@erased.invalid"
    assert (buyer.first_name, buyer.last_name, buyer.ip, buyer.ip_country, buyer.gdpr_status_ip) == (
        "",
        "",
        None,
        "",
        None,
    )
    assert not LeadCustomFieldValue.objects.filter(lead=buyer).exists()
    assert not Lead.objects.with_email(EMAIL).exists()


def test_erased_lead_is_never_emailed_again(buyer, owner):
    assert lead_can_receive_email(buyer)
    lead_erase(lead=buyer, actor=owner)
    buyer.refresh_from_db()
    assert buyer.gdpr_status == GdprStatus.ACCEPTED
    assert not lead_can_receive_email(buyer)


def test_erasure_keeps_events_but_without_personal_data(buyer, owner):
    event_count = LeadEvent.objects.filter(lead=buyer).count()
    lead_erase(lead=buyer, actor=owner)
    events = LeadEvent.objects.filter(lead=buyer)
    assert events.count() == event_count
    dumped = json.dumps([e.details for e in events]).lower()
    assert EMAIL not in dumped and "erin" not in dumped and IP not in dumped
    sale = events.get(action="buy_product").details["transaction_details"]
    assert sale["product_name"] == "Course"  # what happened is kept


def test_erasure_blanks_consent_ip_and_user_agent_but_keeps_the_record(buyer, owner):
    lead_erase(lead=buyer, actor=owner)
    assert set(ConsentRecord.objects.filter(lead=buyer).values_list("ip", "user_agent", "purpose")) == {
        (None, "", "gdpr_terms"),
        (None, "", "commercial_email"),
    }


def test_export_after_erasure_holds_no_personal_data(buyer, owner):
    lead_erase(lead=buyer, actor=owner)
    buyer.refresh_from_db()
    dumped = json.dumps(lead_export(lead=buyer)).lower()
    assert EMAIL not in dumped and "erin" not in dumped and IP not in dumped


def test_erasing_twice_is_refused(buyer, owner):
    lead_erase(lead=buyer, actor=owner)
    with pytest.raises(Exception, match="already been erased"):
        lead_erase(lead=buyer, actor=owner)
    assert LeadErasure.objects.count() == 1


# --- Owner pages ------------------------------------------------------------------------------


def _urls(lead):
    return {name: reverse(f"lead_data:{name}", kwargs={"lead_id": lead.pk}) for name in ("detail", "export", "erase")}


def test_owner_sees_consent_history_and_downloads_the_export(client, buyer, owner):
    client.force_login(owner)
    page = client.get(_urls(buyer)["detail"]).content.decode()
    assert "Consent history" in page and "Commercial email" in page and IP in page
    response = client.get(_urls(buyer)["export"])
    assert response["Content-Disposition"] == f'attachment; filename="lead-{buyer.pk}.json"'
    assert json.loads(response.content)["profile"]["email"] == EMAIL


def test_owner_erases_after_typing_the_confirmation(client, buyer, owner):
    client.force_login(owner)
    response = client.post(_urls(buyer)["erase"], {"confirm": "ERASE"})
    assert response.status_code == 302
    assert LeadErasure.objects.get(lead=buyer).actor == owner


def test_erase_without_confirmation_is_refused_and_changes_nothing(client, buyer, owner):
    client.force_login(owner)
    response = client.post(_urls(buyer)["erase"], {"confirm": "yes"})
    assert response.status_code == 400
    assert "ERASE" in response.content.decode()
    assert Lead.objects.with_email(EMAIL).exists()


def test_erase_by_get_is_not_allowed(client, buyer, owner):
    client.force_login(owner)
    assert client.get(_urls(buyer)["erase"]).status_code == 405


@pytest.mark.parametrize("who", ["other_owner", "support_agent", "moderator"])
def test_other_users_can_neither_export_nor_erase(client, buyer, who, request):
    client.force_login(request.getfixturevalue(who))
    urls = _urls(buyer)
    assert client.get(urls["detail"]).status_code in (403, 404)
    assert client.get(urls["export"]).status_code in (403, 404)
    assert client.post(urls["erase"], {"confirm": "ERASE"}).status_code in (403, 404)
    assert not LeadErasure.objects.exists()


def test_anonymous_visitor_is_sent_to_log_in(client, buyer):
    response = client.get(_urls(buyer)["export"])
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_consent_records_are_read_only_in_admin(rf):
    from django.contrib import admin

    from tests.accounts.factories import UserFactory

    request = rf.get("/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True)
    consent_admin = admin.site._registry[ConsentRecord]
    assert not consent_admin.has_change_permission(request) and not consent_admin.has_delete_permission(request)


# --- Erasure that erases -------------------------------------------------------------------------


def test_consent_records_keep_a_keyed_hash_of_the_address_salted_per_account(buyer, other_account):
    import hashlib

    from leads.services import consent_email_digest

    digests = set(ConsentRecord.objects.filter(lead=buyer).values_list("email_digest", flat=True))
    assert digests == {consent_email_digest(account_id=buyer.account_id, email=EMAIL)}
    (digest,) = digests
    assert len(digest) == 64 and EMAIL not in digest
    assert digest != hashlib.sha256(EMAIL.encode()).hexdigest()  # keyed: a guess cannot be tested without it
    assert digest != consent_email_digest(account_id=other_account.pk, email=EMAIL)
    assert digest == consent_email_digest(account_id=buyer.account_id, email=f"  {EMAIL.upper()} ")


def test_a_proof_request_after_erasure_is_matched_by_the_keyed_hash(buyer, owner, other_account):
    from leads.services.data_rights import consent_evidence_for_email

    lead_erase(lead=buyer, actor=owner)

    evidence = consent_evidence_for_email(account=buyer.account, email=EMAIL)
    assert {(record.lead_id, record.purpose) for record in evidence} == {
        (buyer.pk, "gdpr_terms"),
        (buyer.pk, "commercial_email"),
    }
    assert consent_evidence_for_email(account=other_account, email=EMAIL) == []
    assert consent_evidence_for_email(account=buyer.account, email="someone@example.com") == []


def test_erasure_drops_queued_sequence_emails_and_blanks_sent_ones(buyer, owner):
    from datetime import timedelta

    from django.utils import timezone

    from leads.models import StepDelivery
    from leads.services import lead_sequence_subscribe
    from leads.services.sequence_engine import sequence_engine_run, sequence_subscription_step_process
    from tests.leads.factories import SequenceFactory

    subscription = lead_sequence_subscribe(lead=buyer, sequence=SequenceFactory(account=buyer.account, steps=2))
    now = timezone.now()
    assert sequence_engine_run(now=now + timedelta(days=1)).sent == 1
    assert sequence_subscription_step_process(subscription_id=subscription.pk, now=now + timedelta(days=3))

    lead_erase(lead=buyer, actor=owner)

    assert list(StepDelivery.objects.filter(subscription=subscription).values_list("status", "to_email")) == [
        ("sent", "")
    ]


def test_erasure_renames_the_leads_admin_history(buyer, owner):
    from django.contrib.admin.models import CHANGE, LogEntry

    from tests.accounts.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    LogEntry.objects.log_actions(staff.pk, [buyer], CHANGE, change_message=f"Changed email to {EMAIL}")

    lead_erase(lead=buyer, actor=owner)

    entry = LogEntry.objects.get()
    assert (entry.object_repr, entry.change_message) == (f"erased lead {buyer.pk}", "")


def test_erasure_runs_the_same_statements_whatever_the_leads_history(account, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.leads.factories import LeadFactory

    def erase_after(visits: int) -> int:
        lead = LeadFactory(account=account, ip=IP)
        for n in range(visits):
            lead_external_page_visit_record(lead=lead, url=f"https://example.com/{n}?email={lead.email}")
        with CaptureQueriesContext(connection) as queries:
            lead_erase(lead=lead, actor=owner)
        assert {event.details["external_page"]["url"] for event in LeadEvent.objects.filter(lead=lead)} == {""}
        return len(queries)

    erase_after(1)  # warms the per-process caches (content types, prepared statements)
    assert erase_after(2) == erase_after(40)


def test_event_scrub_in_the_database_matches_the_python_twin(buyer):
    """PostgreSQL scrubs with leads_jsonb_scrub, SQLite with the Python function: one result."""
    from django.db import connection

    from leads.services.data_rights import PERSONAL_DETAIL_KEYS, _scrub

    if connection.vendor != "postgresql":
        pytest.skip("the SQL function lives in PostgreSQL")
    document = {
        "transaction_details": {"lead_email": EMAIL, "lead_first_name": "Erin", "product_name": "Course", "x": None},
        "hosts": [{"note": f"booked from {IP}"}, {"note": "kept"}, 3, True],
        "external_page": {"url": "https://example.com/"},
        "empty": {},
        "list": [],
    }
    needles = [EMAIL, IP]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT leads_jsonb_scrub(%s::jsonb, %s::text[], %s::text[])",
            [json.dumps(document), sorted(PERSONAL_DETAIL_KEYS), needles],
        )
        in_sql = cursor.fetchone()[0]
    in_sql = json.loads(in_sql) if isinstance(in_sql, str) else in_sql
    assert in_sql == _scrub(document, set(needles))
    assert in_sql["transaction_details"] == {
        "lead_email": "",
        "lead_first_name": "",
        "product_name": "Course",
        "x": None,
    }
    assert in_sql["hosts"] == [{"note": ""}, {"note": "kept"}, 3, True]


def test_erasure_blanks_any_event_string_holding_the_leads_name_phone_or_ip(buyer, owner):
    from django.db import transaction

    from leads.models import LeadAction
    from leads.services import lead_event_write

    buyer.phone = "+49 30 1234567"
    buyer.save(update_fields=["phone"])
    notes = {"by_name": "Call Erin Example back", "by_phone": "rang +49 30 1234567", "by_ip": f"seen at {IP}"}
    with transaction.atomic():
        event = lead_event_write(
            lead=buyer, action=LeadAction.ASSIGN_TAG, details={"tag": {"tag_name": "VIP"}, **notes}
        )

    lead_erase(lead=buyer, actor=owner)

    event.refresh_from_db()
    assert event.details == {"tag": {"tag_name": "VIP"}, "by_name": "", "by_phone": "", "by_ip": ""}
