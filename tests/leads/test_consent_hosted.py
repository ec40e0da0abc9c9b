"""Hosted opt-in form and checkout: the GDPR matrix, the events they write, and bad input."""

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import (
    ConsentAction,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    GdprStatus,
    Lead,
    LeadEvent,
    LeadSource,
    Transaction,
)
from leads.selectors import lead_can_receive_email
from leads.services import consent_withdraw, lead_create
from tests.leads.factories import (
    FormFactory,
    LeadListFactory,
    MembershipLevelFactory,
    PricePointFactory,
    ProductFactory,
    TagFactory,
)

EU_DE = "88.198.0.1"
UK = "212.58.244.22"
EEA_NO = "129.240.0.1"
EEA_IS = "130.208.0.1"
US = "8.8.8.8"
PRIVATE = "10.1.2.3"
BOTH = {"gdpr_terms": "on", "commercial_email": "on"}


@pytest.fixture
def opt_in(account):
    form = FormFactory(account=account, name="Lead magnet")
    form.lists.add(LeadListFactory(account=account, name="Newsletter"))
    form.tags.add(TagFactory(account=account, name="VIP"))
    return form


@pytest.fixture
def product(account):
    product = ProductFactory(account=account, name="Course")
    level = MembershipLevelFactory(membership__account=account, membership__name="Academy", name="Basic")
    PricePointFactory(product=product, number=1, membership_level=level)
    return product


def _form_url(form):
    return reverse("hosted:form", kwargs={"public_id": form.public_id})


def _checkout_url(product):
    return reverse("hosted:checkout", kwargs={"public_id": product.public_id})


def _submit(client, form, ip, email="visitor@example.com", **fields):
    return client.post(
        _form_url(form), {"email": email, "first_name": "Vera", **fields}, REMOTE_ADDR=ip, HTTP_USER_AGENT="TestAgent/1"
    )


def _lead(email="visitor@example.com"):
    return Lead.objects.with_email(email).get()


# --- What the visitor sees -------------------------------------------------------------------


@pytest.mark.parametrize("ip", [EU_DE, UK, EEA_NO, EEA_IS, PRIVATE])
def test_opt_in_form_shows_consent_checkboxes_in_the_gdpr_area_or_when_location_is_unknown(client, opt_in, ip):
    page = client.get(_form_url(opt_in), REMOTE_ADDR=ip).content.decode()
    assert 'name="gdpr_terms"' in page and 'name="commercial_email"' in page


def test_opt_in_form_shows_no_checkboxes_to_a_us_visitor(client, opt_in):
    page = client.get(_form_url(opt_in), REMOTE_ADDR=US).content.decode()
    assert 'name="email"' in page
    assert 'name="gdpr_terms"' not in page


def test_opt_in_form_shows_no_checkboxes_when_account_gdpr_is_off(client, account, opt_in):
    account.gdpr_enabled = False
    account.save()
    page = client.get(_form_url(opt_in), REMOTE_ADDR=EU_DE).content.decode()
    assert 'name="gdpr_terms"' not in page


# --- The GDPR matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("ip", [EU_DE, UK, EEA_NO, EEA_IS])
def test_gdpr_area_visitor_with_both_consents_is_accepted_and_may_be_emailed(client, opt_in, ip):
    response = _submit(client, opt_in, ip, **BOTH)
    assert response.status_code == 302
    lead = _lead()
    assert lead.gdpr_status == GdprStatus.ACCEPTED
    assert lead.gdpr_status_ip == ip
    assert lead.source == LeadSource.OPT_IN_FORM
    assert lead_can_receive_email(lead)


def test_consent_records_keep_purpose_source_ip_agent_and_notice(client, opt_in):
    _submit(client, opt_in, EU_DE, **BOTH)
    records = ConsentRecord.objects.filter(lead=_lead()).order_by("purpose")
    assert [(r.purpose, r.action, r.source) for r in records] == [
        (ConsentPurpose.COMMERCIAL_EMAIL, ConsentAction.GRANTED, ConsentSource.OPT_IN_FORM),
        (ConsentPurpose.GDPR_TERMS, ConsentAction.GRANTED, ConsentSource.OPT_IN_FORM),
    ]
    assert {(r.ip, r.ip_country, r.user_agent) for r in records} == {(EU_DE, "DE", "TestAgent/1")}
    assert all(r.notice_version and opt_in.account.name in r.notice_text for r in records)


def test_eu_visitor_without_consent_is_not_accepted_and_blocked(client, opt_in):
    _submit(client, opt_in, EU_DE)
    lead = _lead()
    assert lead.gdpr_status == GdprStatus.NOT_ACCEPTED
    assert not lead_can_receive_email(lead)
    assert not ConsentRecord.objects.exists()


def test_eu_visitor_with_terms_only_is_not_accepted(client, opt_in):
    _submit(client, opt_in, EU_DE, gdpr_terms="on")
    assert _lead().gdpr_status == GdprStatus.NOT_ACCEPTED
    assert list(ConsentRecord.objects.values_list("purpose", flat=True)) == [ConsentPurpose.GDPR_TERMS]


def test_us_visitor_is_not_subject_and_consent_fields_posted_anyway_are_ignored(client, opt_in):
    _submit(client, opt_in, US, **BOTH)
    lead = _lead()
    assert lead.gdpr_status == GdprStatus.NOT_SUBJECT
    assert lead.ip_country == "US"
    assert lead_can_receive_email(lead)
    assert not ConsentRecord.objects.exists()


def test_visitor_whose_location_is_unknown_without_consent_stays_unknown(client, opt_in):
    _submit(client, opt_in, PRIVATE)
    assert _lead().gdpr_status == GdprStatus.UNKNOWN


def test_visitor_whose_location_is_unknown_with_consent_is_accepted(client, opt_in):
    _submit(client, opt_in, PRIVATE, **BOTH)
    assert _lead().gdpr_status == GdprStatus.ACCEPTED


def test_api_lead_blocked_until_it_fills_a_form_from_the_us(client, account, opt_in):
    lead = lead_create(account=account, email="visitor@example.com", country="United States")
    assert lead.gdpr_status == GdprStatus.UNKNOWN
    assert not lead_can_receive_email(lead)

    _submit(client, opt_in, US)
    lead.refresh_from_db()
    assert lead.gdpr_status == GdprStatus.NOT_SUBJECT
    assert lead.source == LeadSource.API  # where it came from does not change
    assert lead_can_receive_email(lead)


def test_api_lead_accepted_after_an_eu_opt_in_with_consent(client, account, opt_in):
    lead = lead_create(account=account, email="visitor@example.com")
    _submit(client, opt_in, EU_DE, **BOTH)
    lead.refresh_from_db()
    assert lead.gdpr_status == GdprStatus.ACCEPTED
    assert Lead.objects.count() == 1


def test_returning_lead_keeps_its_earlier_consent_when_it_does_not_tick_again(client, opt_in):
    _submit(client, opt_in, EU_DE, **BOTH)
    _submit(client, opt_in, EU_DE)
    assert _lead().gdpr_status == GdprStatus.ACCEPTED
    assert ConsentRecord.objects.count() == 2


def test_owner_recorded_withdrawal_blocks_the_lead_again(client, opt_in, owner):
    _submit(client, opt_in, EU_DE, **BOTH)
    lead = _lead()
    record = consent_withdraw(lead=lead, purpose=ConsentPurpose.COMMERCIAL_EMAIL, actor=owner)
    lead.refresh_from_db()
    assert (record.action, record.source, record.actor) == (ConsentAction.WITHDRAWN, ConsentSource.OWNER, owner)
    assert lead.gdpr_status == GdprStatus.NOT_ACCEPTED
    assert not lead_can_receive_email(lead)


@pytest.mark.parametrize(("ip", "status"), [(EU_DE, GdprStatus.OFF), (US, GdprStatus.NOT_SUBJECT)])
def test_account_with_gdpr_off_records_off_or_not_subject_and_may_email(client, account, opt_in, ip, status):
    account.gdpr_enabled = False
    account.save()
    _submit(client, opt_in, ip, **BOTH)
    lead = _lead()
    assert lead.gdpr_status == status
    assert lead_can_receive_email(lead)
    assert not ConsentRecord.objects.exists()


def test_forwarded_for_from_a_trusted_proxy_decides_the_country(client, opt_in, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    client.post(_form_url(opt_in), {"email": "visitor@example.com"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=US)
    assert _lead().gdpr_status == GdprStatus.NOT_SUBJECT


def test_forwarded_for_from_an_untrusted_peer_cannot_fake_the_country(client, opt_in, settings):
    settings.TRUSTED_PROXIES = []
    client.post(_form_url(opt_in), {"email": "visitor@example.com"}, REMOTE_ADDR=EU_DE, HTTP_X_FORWARDED_FOR=US)
    assert _lead().gdpr_status == GdprStatus.NOT_ACCEPTED


# --- Single opt-in cannot be forged: an existing lead's refusal and profile stand -----------------


def _withdrawn_lead(client, opt_in, owner):
    _submit(client, opt_in, EU_DE, email="victim@example.com", **BOTH)
    lead = _lead("victim@example.com")
    consent_withdraw(lead=lead, purpose=ConsentPurpose.COMMERCIAL_EMAIL, actor=owner)
    lead.refresh_from_db()
    return lead


def test_non_eu_submission_does_not_lift_a_withdrawn_lead(client, opt_in, owner):
    lead = _withdrawn_lead(client, opt_in, owner)
    _submit(client, opt_in, US, email="victim@example.com")
    lead.refresh_from_db()
    assert lead.gdpr_status == GdprStatus.NOT_ACCEPTED
    assert not lead_can_receive_email(lead)


def test_eu_submission_with_consent_does_not_lift_a_withdrawn_lead_nor_record_consent(client, opt_in, owner):
    lead = _withdrawn_lead(client, opt_in, owner)
    records_before = ConsentRecord.objects.count()
    _submit(client, opt_in, UK, email="victim@example.com", **BOTH)
    lead.refresh_from_db()
    assert lead.gdpr_status == GdprStatus.NOT_ACCEPTED
    assert lead.gdpr_status_ip is None  # as the withdrawal left it
    assert ConsentRecord.objects.count() == records_before


def test_non_eu_submission_does_not_lift_a_lead_that_declined(client, opt_in):
    _submit(client, opt_in, EU_DE)
    _submit(client, opt_in, US)
    lead = _lead()
    assert (lead.gdpr_status, lead.gdpr_status_ip) == (GdprStatus.NOT_ACCEPTED, EU_DE)


def test_submission_does_not_overwrite_an_existing_leads_name_or_ip(client, account, opt_in):
    lead_create(account=account, email="victim@example.com", first_name="Vic", last_name="Tim", ip=EU_DE)
    _submit(client, opt_in, US, email="victim@example.com", first_name="Mallory", last_name="Evil")
    lead = _lead("victim@example.com")
    assert (lead.first_name, lead.last_name, lead.ip, lead.ip_country) == ("Vic", "Tim", EU_DE, "")


def test_submission_for_a_refusing_lead_still_records_the_form_fill(client, opt_in, owner, events):
    lead = _withdrawn_lead(client, opt_in, owner)
    filled_before = events(lead).count("filled_form")
    _submit(client, opt_in, US, email="victim@example.com")
    assert events(lead).count("filled_form") == filled_before + 1


def test_submission_does_not_relabel_an_accepted_lead(client, opt_in):
    _submit(client, opt_in, EU_DE, **BOTH)
    _submit(client, opt_in, US)
    lead = _lead()
    assert (lead.gdpr_status, lead.gdpr_status_ip) == (GdprStatus.ACCEPTED, EU_DE)


def test_checkout_does_not_lift_a_withdrawn_lead(client, opt_in, owner, product):
    lead = _withdrawn_lead(client, opt_in, owner)
    response = client.post(
        _checkout_url(product),
        {"email": "victim@example.com", "first_name": "Mallory", "price_point": product.price_points.get().pk},
        REMOTE_ADDR=US,
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.gdpr_status, lead.first_name) == (GdprStatus.NOT_ACCEPTED, "Vera")


# --- Events ----------------------------------------------------------------------------------


def test_opt_in_form_writes_filled_form_list_subscription_and_assign_tag(client, opt_in, events):
    _submit(client, opt_in, US)
    assert events(_lead()) == ["filled_form", "list_subscription", "assign_tag"]
    assert LeadEvent.objects.get(action="filled_form").details["form"]["form_name"] == "Lead magnet"


def test_checkout_records_a_test_sale_and_grants_the_membership(client, product, events):
    response = client.post(
        _checkout_url(product),
        {"email": "buyer@example.com", "price_point": product.price_points.get().pk, **BOTH},
        REMOTE_ADDR=EU_DE,
    )
    assert response.status_code == 302
    lead = _lead("buyer@example.com")
    assert events(lead) == ["buy_product", "membership_granted"]
    sale = Transaction.objects.get(lead=lead)
    assert (sale.kind, sale.amount, sale.product) == (Transaction.Kind.SALE, product.price_points.get().amount, product)
    assert lead.membership_accesses.get().level.name == "Basic"
    assert lead.source == LeadSource.CHECKOUT
    assert lead.gdpr_status == GdprStatus.ACCEPTED
    assert set(lead.consent_records.values_list("source", flat=True)) == {ConsentSource.CHECKOUT}


def test_checkout_from_the_us_is_not_subject(client, product):
    client.post(
        _checkout_url(product),
        {"email": "buyer@example.com", "price_point": product.price_points.get().pk},
        REMOTE_ADDR=US,
    )
    assert _lead("buyer@example.com").gdpr_status == GdprStatus.NOT_SUBJECT


# --- Bad input: a clear error, nothing written, never a 500 -----------------------------------


def _nothing_written():
    return not (Lead.objects.exists() or LeadEvent.objects.exists() or ConsentRecord.objects.exists())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "v@example.com", "first_name": "x" * 5000}, "Ensure this value has at most 100 characters"),
    ],
)
def test_opt_in_form_bad_input_shows_the_error_and_writes_nothing(client, opt_in, data, message):
    response = client.post(_form_url(opt_in), data, REMOTE_ADDR=EU_DE)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _nothing_written()


def test_opt_in_form_without_csrf_token_is_refused_and_writes_nothing(opt_in):
    client = Client(enforce_csrf_checks=True)
    response = client.post(_form_url(opt_in), {"email": "v@example.com"}, REMOTE_ADDR=US)
    assert response.status_code == 403
    assert "could not be verified" in response.content.decode()
    assert _nothing_written()


def test_opt_in_form_with_forged_csrf_token_is_refused(opt_in):
    client = Client(enforce_csrf_checks=True)
    client.get(_form_url(opt_in), REMOTE_ADDR=US)
    response = client.post(
        _form_url(opt_in), {"email": "v@example.com", "csrfmiddlewaretoken": "forged" * 8}, REMOTE_ADDR=US
    )
    assert response.status_code == 403
    assert _nothing_written()


def test_opt_in_form_with_csrf_token_from_the_page_is_accepted(opt_in):
    client = Client(enforce_csrf_checks=True)
    client.get(_form_url(opt_in), REMOTE_ADDR=US)
    token = client.cookies["csrftoken"].value
    response = client.post(_form_url(opt_in), {"email": "v@example.com", "csrfmiddlewaretoken": token}, REMOTE_ADDR=US)
    assert response.status_code == 302


def test_unknown_form_and_product_are_a_404_page(client, db):
    assert client.get("/f/doesnotexist/", REMOTE_ADDR=US).status_code == 404
    response = client.post("/c/doesnotexist/", {"email": "v@example.com"}, REMOTE_ADDR=US)
    assert response.status_code == 404
    assert "This product does not exist." in response.content.decode()
    assert _nothing_written()


def test_checkout_with_another_products_price_point_is_refused(client, product, other_account):
    foreign = PricePointFactory(product=ProductFactory(account=other_account))
    response = client.post(
        _checkout_url(product), {"email": "buyer@example.com", "price_point": foreign.pk}, REMOTE_ADDR=US
    )
    assert response.status_code == 400
    assert "Choose one of this product&#x27;s prices." in response.content.decode()
    assert _nothing_written() and not Transaction.objects.exists()


@pytest.mark.parametrize("header", ["not-an-ip", "88.198.0.1, ", "1.2.3.4;5.6.7.8"])
def test_malformed_forwarded_for_from_a_trusted_proxy_is_an_error_page(client, opt_in, settings, header):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    response = client.post(
        _form_url(opt_in), {"email": "v@example.com"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=header
    )
    assert response.status_code == 400
    assert "X-Forwarded-For header is malformed" in response.content.decode()
    assert _nothing_written()
