"""An owner asks for Zapier activation, a moderator claims and approves it, the owner gets credentials."""

import pytest

from tests.accounts.factories import PASSWORD, ModeratorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWNER_EMAIL = "owner@shop.example"


def log_out(page):
    page.click("button:has-text('Log out')")


def test_owner_request_is_claimed_and_approved_then_owner_sees_credentials(live_server, browser_page, log_in):
    page, base = browser_page, live_server.url
    moderator = ModeratorFactory()

    # The owner signs up and asks for activation.
    page.goto(f"{base}/signup/")
    page.fill("input[name=email]", OWNER_EMAIL)
    page.fill("input[name=account_name]", "Corner Shop")
    page.select_option("select[name=timezone]", "Europe/Berlin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign up')")
    page.wait_for_url(f"{base}/integrations/")
    page.fill("textarea[name=stated_use]", "We will send new Shopify customers into Kartra and tag them as buyers.")
    page.click("button:has-text('Request Zapier activation')")
    card = page.locator("#zapier-card")
    card.get_by_text("review starts within one business day; it can take up to two weeks").wait_for()
    assert card.locator(".badge").inner_text() == "Pending"
    assert page.locator("#queue-place").inner_text() == "1"
    log_out(page)

    # A moderator claims the request from the queue and approves it.
    log_in(moderator.email)
    page.wait_for_url(f"{base}/moderation/queue/")
    row = page.locator("#queue tbody tr", has_text="Corner Shop")
    row.locator("a").click()
    assert "Shopify customers" in page.locator("#stated-use").inner_text()
    page.click("button:has-text('Claim and start review')")
    page.get_by_text("You claimed this request").wait_for()
    page.check("input[name=outcome][value=approved]")
    page.select_option("select[name=reason]", "use_clear")
    page.click("button:has-text('Record decision')")
    page.get_by_text("Decision recorded").wait_for()
    assert page.locator("#request-state").inner_text() == "Approved"
    log_out(page)

    # The owner sees Zapier activated and reaches the credentials page.
    log_in(OWNER_EMAIL)
    page.wait_for_url(f"{base}/integrations/")
    assert page.locator("#zapier-card .badge").inner_text() == "Activated"
    page.click("#zapier-card a:has-text('API credentials')")
    page.wait_for_url(f"{base}/settings/api/")
    assert page.locator("#api-key").inner_text().startswith("ki_")
    assert page.get_by_text("Zapier access is not activated yet").count() == 0


def test_moderator_claims_the_next_request_and_needs_a_reason_to_skip_the_queue(live_server, browser_page, log_in):
    from datetime import timedelta

    from django.utils import timezone

    from approvals.models import AuditAction, AuditEntry, RequestState
    from tests.approvals.factories import ActivationRequestFactory

    page, base = browser_page, live_server.url
    moderator = ModeratorFactory()
    now = timezone.now()
    oldest, middle, newest = (
        ActivationRequestFactory(submitted_at=now - timedelta(hours=h), due_at=now + timedelta(hours=1))
        for h in (3, 2, 1)
    )

    log_in(moderator.email)
    page.wait_for_url(f"{base}/moderation/queue/")
    page.get_by_role("button", name="Claim next request").click()
    page.wait_for_url(f"{base}/moderation/requests/{oldest.pk}/")
    page.get_by_text("You claimed the next request").wait_for()
    assert page.locator("#request-state").inner_text() == "In review"

    # Taking the newest while the middle one waits: the page asks why, and refuses without a reason.
    page.goto(f"{base}/moderation/requests/{newest.pk}/")
    assert "1 older request is waiting" in page.locator("#out-of-order").inner_text()
    page.click("button:has-text('Claim and start review')")
    page.locator(".field.has-error .error", has_text="older request is waiting").wait_for()
    assert page.locator("#request-state").inner_text() == "Pending"
    page.fill("textarea[name=out_of_order_reason]", "Escalated by legal: the owner's launch is tomorrow.")
    page.click("button:has-text('Claim and start review')")
    page.get_by_text("You claimed this request").wait_for()
    assert "Claimed out of FIFO order" in page.locator("#audit-trail").inner_text()
    entry = AuditEntry.objects.get(activation_request=newest)
    assert entry.action == AuditAction.CLAIMED_OUT_OF_ORDER and "launch is tomorrow" in entry.note
    middle.refresh_from_db()
    assert middle.state == RequestState.PENDING


def test_moderator_turns_on_the_activation_policy_and_an_old_account_is_activated_at_once(
    live_server, browser_page, log_in, pending_account
):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Account

    page, base = browser_page, live_server.url
    moderator = ModeratorFactory()
    Account.objects.filter(pk=pending_account.pk).update(created_at=timezone.now() - timedelta(days=90))

    log_in(moderator.email)
    page.goto(f"{base}/moderation/queue/")
    page.click("a:has-text('Activation policy')")
    assert page.locator("#policy-state").inner_text().startswith("Off: every account requests review.")
    page.check("input[name=enabled]")
    page.fill("input[name=min_account_age_days]", "60")
    page.click("button:has-text('Save policy')")
    page.get_by_text("Activation policy saved.").wait_for()
    history = page.locator("#policy-history tbody tr").first.inner_text()
    assert moderator.email in history and "min_account_age_days=60" in history
    log_out(page)

    log_in(pending_account.owner.email)
    page.goto(f"{base}/integrations/")
    page.fill("textarea[name=stated_use]", "We will send new Shopify customers into Kartra and tag them as buyers.")
    page.click("button:has-text('Request Zapier activation')")
    page.get_by_text("no review was needed").wait_for()
    assert page.locator("#zapier-card .badge").inner_text() == "Activated"
