"""Double opt-in forms: a submission stores a pending confirmation and emails a signed,
expiring link; only opening it (and pressing Confirm) writes the lead, its profile, consent and IP."""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.utils import timezone

from kartra_integrations.celery import app as celery_app
from leads.models import ConsentPurpose, ConsentRecord, ConsentSource, GdprStatus, Lead, LeadEvent, PendingOptIn
from leads.selectors import lead_can_receive_email
from leads.services import (
    OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR,
    consent_withdraw,
    lead_create,
    opt_in_confirmation_send,
    pending_opt_ins_purge,
)
from leads.services import opt_in as opt_in_services
from tests.leads.factories import FormFactory, LeadListFactory, TagFactory

EU_DE = "88.198.0.1"
UK = "212.58.244.22"
US = "8.8.8.8"
BOTH = {"gdpr_terms": "on", "commercial_email": "on"}
EMAIL = "visitor@example.com"


@pytest.fixture
def opt_in(account):
    form = FormFactory(account=account, name="Lead magnet", double_opt_in=True)
    form.lists.add(LeadListFactory(account=account, name="Newsletter"))
    form.tags.add(TagFactory(account=account, name="VIP"))
    return form


@pytest.fixture
def submit(client, opt_in, monkeypatch, django_capture_on_commit_callbacks):
    """Submit the form as a visitor from `ip`; the after-commit email task runs at once."""
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)

    def post(ip, email=EMAIL, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/f/{opt_in.public_id}/",
                {"email": email, "first_name": "Vera", **fields},
                REMOTE_ADDR=ip,
                HTTP_USER_AGENT="TestAgent/1",
            )

    return post


def _link() -> str:
    """The path of the confirmation link in the latest email."""
    return re.search(r"https?://[^/\s]+(/f/confirm/\S+/)", mail.outbox[-1].body).group(1)


def _confirm(client, path, ip):
    return client.post(path, REMOTE_ADDR=ip, HTTP_USER_AGENT="Clicker/2")


# --- The submission ----------------------------------------------------------------------------


def test_submission_writes_no_lead_and_no_event_and_asks_to_check_the_inbox(client, submit):
    response = submit(EU_DE, **BOTH)
    assert response.status_code == 302
    page = client.get(response["Location"], REMOTE_ADDR=EU_DE).content.decode()
    assert "Check your inbox" in page
    assert not Lead.objects.exists()
    assert not LeadEvent.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert PendingOptIn.objects.get().email == EMAIL


def test_submission_emails_a_link_to_the_address_typed(submit, opt_in):
    submit(EU_DE, **BOTH)
    (message,) = mail.outbox
    assert message.to == [EMAIL]
    assert opt_in.account.name in message.subject
    assert "http://testserver/f/confirm/" in message.body
    assert PendingOptIn.objects.get().email_sent_at is not None


def test_the_email_does_not_carry_what_the_visitor_typed_as_a_name(submit):
    submit(US, first_name="Win a prize at https://phish.example")
    assert "phish" not in mail.outbox[0].body


def test_the_email_is_sent_only_after_the_submission_commits(client, opt_in, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    client.post(f"/f/{opt_in.public_id}/", {"email": EMAIL}, REMOTE_ADDR=EU_DE)  # the test's transaction never commits
    assert mail.outbox == []


def test_one_address_gets_a_limited_number_of_links_an_hour(submit):
    for _ in range(OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR + 2):
        assert submit(US, email="Victim@Example.com").status_code == 302
    assert len(mail.outbox) == OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR


def test_confirmation_email_is_sent_once_however_often_the_task_runs(submit):
    submit(US)
    pending = PendingOptIn.objects.get()
    assert not opt_in_confirmation_send(pending_id=str(pending.pk))
    assert len(mail.outbox) == 1


def test_a_failed_send_releases_the_claim_for_the_retry(opt_in, monkeypatch, submit):
    monkeypatch.setattr(opt_in_services, "_opt_in_confirmation_enqueue", lambda pending_id: None)
    submit(US)
    pending = PendingOptIn.objects.get()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(opt_in_services, "send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        opt_in_confirmation_send(pending_id=str(pending.pk))
    pending.refresh_from_db()
    assert pending.email_sent_at is None
    monkeypatch.undo()
    assert opt_in_confirmation_send(pending_id=str(pending.pk))
    assert len(mail.outbox) == 1


# --- The link ----------------------------------------------------------------------------------


def test_opening_the_link_shows_a_confirm_button_and_changes_nothing(client, submit):
    submit(EU_DE, **BOTH)
    response = client.get(_link(), REMOTE_ADDR=EU_DE)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Confirm my subscription" in page and EMAIL in page
    assert not Lead.objects.exists()
    assert PendingOptIn.objects.get().confirmed_at is None


def test_confirming_creates_the_lead_with_its_consent_profile_and_events(client, submit, events):
    submit(EU_DE, **BOTH)
    response = _confirm(client, _link(), UK)
    assert response.status_code == 200
    assert "Subscription confirmed" in response.content.decode()
    lead = Lead.objects.with_email(EMAIL).get()
    assert (lead.first_name, lead.ip, lead.ip_country) == ("Vera", UK, "GB")
    assert (lead.gdpr_status, lead.gdpr_status_ip) == (GdprStatus.ACCEPTED, UK)
    assert lead_can_receive_email(lead)
    records = ConsentRecord.objects.filter(lead=lead)
    assert {(r.purpose, r.source, r.ip, r.user_agent) for r in records} == {
        (ConsentPurpose.GDPR_TERMS, ConsentSource.CONFIRMED_OPT_IN, UK, "Clicker/2"),
        (ConsentPurpose.COMMERCIAL_EMAIL, ConsentSource.CONFIRMED_OPT_IN, UK, "Clicker/2"),
    }
    assert events(lead) == ["filled_form", "list_subscription", "assign_tag"]


def test_ip_verification_is_the_clicks(client, submit):
    submit(EU_DE, **BOTH)
    _confirm(client, _link(), US)
    lead = Lead.objects.with_email(EMAIL).get()
    assert (lead.gdpr_status, lead.gdpr_status_ip, lead.ip_country) == (GdprStatus.NOT_SUBJECT, US, "US")


def test_confirmed_eu_visitor_without_consent_is_not_accepted(client, submit):
    submit(EU_DE)
    _confirm(client, _link(), EU_DE)
    assert Lead.objects.with_email(EMAIL).get().gdpr_status == GdprStatus.NOT_ACCEPTED


def test_confirming_lifts_the_leads_own_withdrawal_and_updates_its_profile(client, account, owner, submit):
    lead = lead_create(account=account, email=EMAIL, first_name="Old")
    consent_withdraw(lead=lead, purpose=ConsentPurpose.COMMERCIAL_EMAIL, actor=owner)
    submit(EU_DE, first_name="New", **BOTH)
    lead.refresh_from_db()
    assert (lead.first_name, lead.gdpr_status) == ("Old", GdprStatus.UNKNOWN)  # nothing before the click

    _confirm(client, _link(), EU_DE)
    lead.refresh_from_db()
    assert (lead.first_name, lead.gdpr_status) == ("New", GdprStatus.ACCEPTED)


def test_confirming_twice_changes_nothing_the_second_time(client, submit, events):
    submit(EU_DE, **BOTH)
    link = _link()
    _confirm(client, link, EU_DE)
    lead = Lead.objects.with_email(EMAIL).get()
    before = (events(lead), ConsentRecord.objects.count(), lead.gdpr_status_date)

    response = _confirm(client, link, US)
    lead.refresh_from_db()
    assert response.status_code == 200
    assert "already confirmed" in response.content.decode()
    assert (events(lead), ConsentRecord.objects.count(), lead.gdpr_status_date) == before
    assert lead.gdpr_status == GdprStatus.ACCEPTED


def test_a_confirmed_opt_in_keeps_no_copy_of_what_the_visitor_typed(client, submit):
    submit(EU_DE, **BOTH)
    _confirm(client, _link(), EU_DE)
    pending = PendingOptIn.objects.get()
    assert (pending.email, pending.first_name, pending.granted) == ("", "", {})
    assert pending.lead == Lead.objects.get()


def test_expired_link_is_a_clear_page_and_writes_nothing(client, submit, settings):
    submit(EU_DE, **BOTH)
    link = _link()
    settings.OPT_IN_CONFIRMATION_MAX_AGE_HOURS = 0
    for response in (client.get(link, REMOTE_ADDR=EU_DE), _confirm(client, link, EU_DE)):
        assert response.status_code == 410
        assert "This confirmation link has expired" in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.parametrize("tamper", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t])
def test_tampered_link_is_a_clear_page_and_writes_nothing(client, submit, tamper):
    submit(EU_DE, **BOTH)
    token = _link().split("/")[-2]
    response = _confirm(client, f"/f/confirm/{tamper(token)}/", EU_DE)
    assert response.status_code == 400
    assert "This confirmation link is not valid" in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.parametrize("token", ["garbage", "%00", "a:b:c", signing.TimestampSigner(salt="other").sign("1")])
def test_made_up_links_are_a_clear_page(client, db, token):
    response = client.get(f"/f/confirm/{token}/", REMOTE_ADDR=US)
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_link_to_a_deleted_form_is_a_clear_page(client, submit, opt_in):
    submit(EU_DE)
    link = _link()
    opt_in.delete()
    response = client.get(link, REMOTE_ADDR=EU_DE)
    assert response.status_code == 410
    assert "no longer valid" in response.content.decode()


def test_a_signed_token_names_its_pending_opt_in(submit):
    submit(US)
    pending = PendingOptIn.objects.get()
    token = _link().removeprefix("/f/confirm/").removesuffix("/")
    # The token is the pending opt-in's id, signed with a timestamp (so not compared to a token signed now).
    assert opt_in_services.opt_in_pending_get(token=token) == pending
    assert token.startswith(f"{pending.pk.hex}:")


def test_purge_deletes_only_opt_ins_whose_link_expired(submit, settings):
    submit(US, email="old@example.com")
    submit(US, email="new@example.com")
    PendingOptIn.objects.filter(email="old@example.com").update(
        created_at=timezone.now() - timedelta(hours=settings.OPT_IN_CONFIRMATION_MAX_AGE_HOURS, minutes=1)
    )
    assert pending_opt_ins_purge() == 1
    assert list(PendingOptIn.objects.values_list("email", flat=True)) == ["new@example.com"]


# --- The owner's switch ------------------------------------------------------------------------


def test_owner_turns_double_opt_in_on_from_the_form_asset_page(client, owner, account):
    form = FormFactory(account=account, name="Webinar")
    client.force_login(owner)
    assert "Double opt-in" in client.get(f"/assets/forms/{form.pk}/").content.decode()
    response = client.post(f"/assets/forms/{form.pk}/", {"name": "Webinar", "double_opt_in": "on"})
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.double_opt_in


def test_single_opt_in_form_still_writes_the_lead_at_once(client, account):
    form = FormFactory(account=account)
    client.post(f"/f/{form.public_id}/", {"email": EMAIL}, REMOTE_ADDR=US)
    assert Lead.objects.with_email(EMAIL).get().gdpr_status == GdprStatus.NOT_SUBJECT
    assert not PendingOptIn.objects.exists()
