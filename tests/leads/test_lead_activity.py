"""The lead page's activity timeline reads as facts, one per line, with every time in the account's zone
(not run together as "points: 15previous_peak: 0new_peak: 15")."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from leads import services
from leads.models import LeadEvent
from leads.web.views import event_detail_lines
from tests.leads.factories import (
    CalendarClassFactory,
    CalendarFactory,
    LeadFactory,
    MembershipFactory,
    MembershipLevelFactory,
    PricePointFactory,
    ProductFactory,
    TagFactory,
)


@pytest.fixture
def lead(account):
    return LeadFactory(account=account, email="ada@example.com")


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


def _lines(lead, action) -> list[tuple[str, str]]:
    return event_detail_lines(LeadEvent.objects.get(lead=lead, action=action).details)


def test_reaches_score_reads_as_separate_facts(lead):
    services.lead_points_give(lead=lead, points=15)
    assert _lines(lead, "reaches_score") == [
        ("Score", "15"),
        ("Highest score before", "0"),
        ("New highest score", "15"),
    ]


def test_lead_page_shows_reaches_score_facts_not_run_together(lead, as_owner):
    services.lead_points_give(lead=lead, points=15)
    page = as_owner.get(f"/leads/{lead.pk}/").content.decode()
    assert "15previous_peak" not in page
    assert "Score: 15<br>Highest score before: 0<br>New highest score: 15</td>" in page


def test_tag_event_names_the_tag_without_its_id(lead):
    services.lead_tag_assign(lead=lead, tag=TagFactory(account=lead.account, name="VIP"))
    assert _lines(lead, "assign_tag") == [("Tag", "VIP")]


def test_purchase_reads_as_product_price_point_and_amount_with_currency(lead, account):
    product = ProductFactory(account=account, name="Course")
    point = PricePointFactory(product=product, number=2, amount=Decimal("49.00"), currency="EUR")
    sale = services.transaction_sale_record(lead=lead, price_point=point)
    lines = dict(_lines(lead, "buy_product"))
    assert lines["Transaction"] == f"#{sale.pk}"
    assert (lines["Type"], lines["Product"], lines["Price point"], lines["Amount"]) == (
        "Sale",
        "Course",
        "2",
        "49.00 EUR",
    )
    assert "Lead email" not in lines and "ada@example.com" not in lines.values()


def test_membership_grant_names_membership_and_level(lead, account):
    level = MembershipLevelFactory(membership=MembershipFactory(account=account, name="Academy"), name="Gold")
    services.lead_membership_grant(lead=lead, level=level)
    assert _lines(lead, "membership_granted") == [("Membership", "Academy"), ("Level", "Gold")]


def test_booking_times_and_host_are_shown_in_the_accounts_zone(lead, account, owner):
    account.timezone = "Asia/Tokyo"
    account.save(update_fields=["timezone"])
    calendar_class = CalendarClassFactory(calendar=CalendarFactory(account=account, name="Coaching"), name="Intro")
    starts = (timezone.now() + timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    services.lead_calendar_subscribe(lead=lead, calendar_class=calendar_class, starts_at=starts)
    with timezone.override("Asia/Tokyo"):
        lines = dict(_lines(lead, "calendar_subscribe"))
    assert (lines["Calendar"], lines["Class"]) == ("Coaching", "Intro")
    assert lines["Starts"] == f"{starts.astimezone(timezone.get_fixed_timezone(9 * 60)):%Y-%m-%d} 10:00 JST"
    assert owner.email in lines["Host"]


def test_unknown_detail_keys_are_still_shown_readably():
    assert event_detail_lines({"coupon": {"coupon_code": "SPRING", "coupon_id": 7}}) == [("Coupon code", "SPRING")]


def test_lead_page_labels_every_time_with_the_accounts_zone(lead, as_owner, account):
    account.timezone = "Europe/Berlin"
    account.save(update_fields=["timezone"])
    services.lead_points_give(lead=lead, points=5)
    LeadEvent.objects.filter(lead=lead).update(occurred_at=datetime(2026, 7, 1, 10, 0, 5, tzinfo=UTC))
    page = as_owner.get(f"/leads/{lead.pk}/").content.decode()
    assert "2026-07-01 12:00:05 CEST" in page
    assert "Times are in Europe/Berlin" in page
