"""A visitor subscribes through a double opt-in form in headless Chromium: the form, the email in the
outbox, the link opened, the Confirm button. The live server sits behind a "proxy" on loopback that
reports the visitor's address in X-Forwarded-For."""

import re

import pytest
from django.core import mail

from kartra_integrations.celery import app as celery_app
from leads.models import ConsentRecord, GdprStatus, Lead, LeadEvent
from tests.accounts.factories import ActivatedAccountFactory
from tests.leads.factories import FormFactory, TagFactory

EU_DE = "88.198.0.1"

pytestmark = pytest.mark.browser


@pytest.fixture
def visitor(browser_page, live_server, settings, monkeypatch):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)  # the email task runs at commit
    browser_page.set_extra_http_headers({"X-Forwarded-For": EU_DE})
    return browser_page


@pytest.fixture
def form(transactional_db):
    account = ActivatedAccountFactory(name="Acme Academy")
    form = FormFactory(account=account, name="Lead magnet", double_opt_in=True)
    form.tags.add(TagFactory(account=account, name="VIP"))
    return form


def test_eu_visitor_confirms_a_double_opt_in_from_the_emailed_link(form, visitor, live_server):
    visitor.goto(f"{live_server.url}/f/{form.public_id}/")
    visitor.get_by_label("Email", exact=True).fill("eva@example.eu")
    visitor.get_by_label("First name").fill("Eva")
    visitor.get_by_label("I agree that Acme Academy stores").check()
    visitor.get_by_label("I would like to receive emails").check()
    visitor.get_by_role("button", name="Subscribe").click()

    assert visitor.get_by_role("heading", name="Check your inbox").is_visible()
    assert not Lead.objects.exists()
    (message,) = mail.outbox
    assert message.to == ["eva@example.eu"]
    link = re.search(r"http://\S+/f/confirm/\S+/", message.body).group(0)
    assert link.startswith(live_server.url)

    visitor.goto(link)
    assert visitor.get_by_text("eva@example.eu").is_visible()
    visitor.get_by_role("button", name="Confirm my subscription").click()

    assert visitor.get_by_role("heading", name="Subscription confirmed").is_visible()
    lead = Lead.objects.with_email("eva@example.eu").get()
    assert (lead.first_name, lead.gdpr_status, lead.gdpr_status_ip) == ("Eva", GdprStatus.ACCEPTED, EU_DE)
    assert ConsentRecord.objects.filter(lead=lead).count() == 2
    assert set(LeadEvent.objects.filter(lead=lead).values_list("action", flat=True)) == {"filled_form", "assign_tag"}

    visitor.goto(link)
    assert visitor.get_by_role("heading", name="Already confirmed").is_visible()
