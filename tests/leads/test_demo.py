from decimal import Decimal

from leads.demo import DEMO_LEADS, demo_assets_create, demo_leads_create
from leads.models import (
    CalendarClass,
    CustomField,
    Form,
    Lead,
    LeadEvent,
    LeadList,
    MembershipLevel,
    Page,
    PricePoint,
    SequenceStep,
    SplitTestLink,
    Tag,
    TrackingLink,
    Video,
)


def test_demo_assets_are_the_standard_set(account):
    demo_assets_create(account=account)
    assert set(Tag.objects.filter(account=account).values_list("name", flat=True)) == {"Customer", "VIP"}
    assert set(LeadList.objects.filter(account=account).values_list("name", flat=True)) == {"Newsletter", "Webinar"}
    assert SequenceStep.objects.filter(sequence__account=account, sequence__name="Onboarding").count() == 3
    form = Form.objects.get(account=account, name="Lead magnet")
    assert [lst.name for lst in form.lists.all()] == ["Newsletter"]
    assert [tag.name for tag in form.tags.all()] == ["VIP"]
    assert Page.objects.filter(account=account, name="Sales page").exists()
    assert Video.objects.filter(account=account, name="Welcome").exists()
    assert TrackingLink.objects.filter(account=account, name="Promo").exists()
    assert SplitTestLink.objects.filter(account=account, name="Hero test").exists()
    assert CalendarClass.objects.filter(
        calendar__account=account, calendar__name="Coaching", name="Intro call"
    ).exists()
    assert set(
        MembershipLevel.objects.filter(membership__account=account, membership__name="Academy").values_list(
            "name", flat=True
        )
    ) == {"Basic", "Pro"}
    price_point = PricePoint.objects.get(product__account=account, product__name="Course", number=1)
    assert price_point.amount == Decimal("99.00")
    assert (price_point.membership_level.membership.name, price_point.membership_level.name) == ("Academy", "Basic")
    fields = {f.identifier: f for f in CustomField.objects.filter(account=account)}
    assert fields["favourite_color"].type == "input_field"
    assert fields["plan"].type == "drop_down"
    assert [o.value for o in fields["plan"].options.all()] == ["Free", "Paid"]


def test_demo_assets_are_idempotent(account):
    demo_assets_create(account=account)
    counts = (
        Tag.objects.count(),
        SequenceStep.objects.count(),
        PricePoint.objects.count(),
        CustomField.objects.count(),
    )
    demo_assets_create(account=account)
    assert (
        Tag.objects.count(),
        SequenceStep.objects.count(),
        PricePoint.objects.count(),
        CustomField.objects.count(),
    ) == counts
    assert Form.objects.get(name="Lead magnet").tags.count() == 1


def test_demo_course_has_a_monthly_plan_too(account):
    demo_assets_create(account=account)
    monthly = PricePoint.objects.get(product__account=account, product__name="Course", number=2)
    assert (monthly.amount, monthly.recurring) == (Decimal("29.00"), True)


def test_demo_leads_come_with_their_history_and_events(account):
    demo_leads_create(account=account)
    demo_leads_create(account=account)

    assert Lead.objects.filter(account=account).count() == len(DEMO_LEADS)
    ada = Lead.objects.get(account=account, email="ada@example.com")
    assert set(ada.lead_tags.values_list("tag__name", flat=True)) == {"Customer", "VIP"}
    assert LeadEvent.objects.filter(lead=ada, action="buy_product").count() == 1
