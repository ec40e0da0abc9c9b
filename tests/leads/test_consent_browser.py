"""A visitor fills the hosted opt-in form and checkout in headless Chromium, as an EU and a US visitor.

The live server sits behind a "proxy" on loopback: TRUSTED_PROXIES holds 127.0.0.1 and the
browser sends X-Forwarded-For with the visitor address we want to simulate.
"""

import pytest

from leads.models import ConsentRecord, GdprStatus, Lead, LeadEvent, Transaction
from tests.accounts.factories import ActivatedAccountFactory
from tests.leads.factories import (
    FormFactory,
    LeadListFactory,
    MembershipLevelFactory,
    PricePointFactory,
    ProductFactory,
    TagFactory,
)

EU_DE = "88.198.0.1"
US = "8.8.8.8"

pytestmark = pytest.mark.browser


@pytest.fixture
def visitor_page(browser_page, live_server, settings):
    """Opens the browser as a visitor from `ip`, as a trusted proxy on loopback would report it."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    def open_as(ip: str):
        browser_page.set_extra_http_headers({"X-Forwarded-For": ip})
        return browser_page

    return open_as


@pytest.fixture
def shop(transactional_db):
    account = ActivatedAccountFactory(name="Acme Academy")
    form = FormFactory(account=account, name="Lead magnet")
    form.lists.add(LeadListFactory(account=account, name="Newsletter"))
    form.tags.add(TagFactory(account=account, name="VIP"))
    product = ProductFactory(account=account, name="Course")
    level = MembershipLevelFactory(membership__account=account, membership__name="Academy", name="Basic")
    PricePointFactory(product=product, number=1, membership_level=level)
    return form, product


def test_eu_visitor_opts_in_with_consent(shop, visitor_page, live_server):
    form, _ = shop
    page = visitor_page(EU_DE)
    page.goto(f"{live_server.url}/f/{form.public_id}/")
    assert page.get_by_role("heading", name="Lead magnet").is_visible()
    page.get_by_label("Email", exact=True).fill("eva@example.eu")
    page.get_by_label("First name").fill("Eva")
    page.get_by_label("I agree that Acme Academy stores").check()
    page.get_by_label("I would like to receive emails").check()
    page.get_by_role("button", name="Subscribe").click()

    assert page.get_by_role("heading", name="Thank you!").is_visible()
    lead = Lead.objects.with_email("eva@example.eu").get()
    assert lead.gdpr_status == GdprStatus.ACCEPTED
    assert lead.gdpr_status_ip == EU_DE
    assert ConsentRecord.objects.filter(lead=lead).count() == 2
    assert set(LeadEvent.objects.filter(lead=lead).values_list("action", flat=True)) == {
        "filled_form",
        "list_subscription",
        "assign_tag",
    }


def test_eu_visitor_sees_an_error_for_a_bad_email_and_nothing_is_saved(shop, visitor_page, live_server):
    form, _ = shop
    page = visitor_page(EU_DE)
    page.goto(f"{live_server.url}/f/{form.public_id}/")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_role("button", name="Subscribe").click()
    assert page.get_by_text("Enter a valid email address.").is_visible()
    assert not Lead.objects.exists()


def test_us_visitor_opts_in_without_consent_boxes(shop, visitor_page, live_server):
    form, _ = shop
    page = visitor_page(US)
    page.goto(f"{live_server.url}/f/{form.public_id}/")
    assert page.get_by_text("Your consent").count() == 0
    page.get_by_label("Email", exact=True).fill("sam@example.com")
    page.get_by_role("button", name="Subscribe").click()

    assert page.get_by_role("heading", name="Thank you!").is_visible()
    assert Lead.objects.with_email("sam@example.com").get().gdpr_status == GdprStatus.NOT_SUBJECT


def test_eu_visitor_buys_on_the_checkout_without_consent(shop, visitor_page, live_server):
    _, product = shop
    page = visitor_page(EU_DE)
    page.goto(f"{live_server.url}/c/{product.public_id}/")
    assert page.get_by_text("Test mode").is_visible()
    assert page.get_by_text("Your consent").is_visible()
    page.get_by_label("Email", exact=True).fill("emil@example.eu")
    page.get_by_role("button", name="Buy now").click()

    assert page.get_by_role("heading", name="Thank you for your order!").is_visible()
    lead = Lead.objects.with_email("emil@example.eu").get()
    assert lead.gdpr_status == GdprStatus.NOT_ACCEPTED
    assert Transaction.objects.filter(lead=lead, product=product).count() == 1
    assert set(LeadEvent.objects.filter(lead=lead).values_list("action", flat=True)) == {
        "buy_product",
        "membership_granted",
    }


def test_us_visitor_buys_on_the_checkout(shop, visitor_page, live_server):
    _, product = shop
    page = visitor_page(US)
    page.goto(f"{live_server.url}/c/{product.public_id}/")
    assert page.get_by_text("Your consent").count() == 0
    page.get_by_label("Email", exact=True).fill("una@example.com")
    page.get_by_role("button", name="Buy now").click()

    assert page.get_by_role("heading", name="Thank you for your order!").is_visible()
    lead = Lead.objects.with_email("una@example.com").get()
    assert lead.gdpr_status == GdprStatus.NOT_SUBJECT
    assert lead.membership_accesses.get().level.name == "Basic"
