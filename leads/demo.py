"""The standard demo assets, created by name so running it twice changes nothing."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from accounts.models import Account

from .models import (
    Calendar,
    CalendarClass,
    CustomField,
    CustomFieldOption,
    CustomFieldType,
    Form,
    Lead,
    LeadList,
    Membership,
    MembershipLevel,
    Page,
    PricePoint,
    Product,
    Sequence,
    SequenceStep,
    SplitTestLink,
    Tag,
    TrackingLink,
    Video,
)

ONBOARDING_STEPS = [
    ("Welcome aboard", "Thanks for joining us. Here is what happens next.", timedelta(0)),
    ("Getting started", "Three things to try in your first week.", timedelta(days=1)),
    ("How is it going?", "Reply to this email and tell us how you are getting on.", timedelta(days=3)),
]


@transaction.atomic
def demo_assets_create(*, account: Account) -> None:
    Tag.objects.get_or_create(account=account, name="Customer")
    vip, _ = Tag.objects.get_or_create(account=account, name="VIP")
    newsletter, _ = LeadList.objects.get_or_create(account=account, name="Newsletter")
    LeadList.objects.get_or_create(account=account, name="Webinar")

    onboarding, _ = Sequence.objects.get_or_create(account=account, name="Onboarding")
    for position, (subject, body, delay) in enumerate(ONBOARDING_STEPS, 1):
        SequenceStep.objects.get_or_create(
            sequence=onboarding, position=position, defaults={"subject": subject, "body": body, "delay": delay}
        )

    form, created = Form.objects.get_or_create(account=account, name="Lead magnet")
    if created:
        form.lists.add(newsletter)
        form.tags.add(vip)

    Page.objects.get_or_create(account=account, name="Sales page", defaults={"slug": "sales-page"})
    Video.objects.get_or_create(account=account, name="Welcome")
    TrackingLink.objects.get_or_create(
        account=account, name="Promo", defaults={"target_url": "https://example.com/promo"}
    )
    SplitTestLink.objects.get_or_create(account=account, name="Hero test")

    coaching, _ = Calendar.objects.get_or_create(account=account, name="Coaching")
    CalendarClass.objects.get_or_create(
        calendar=coaching, name="Intro call", defaults={"duration": timedelta(minutes=30)}
    )

    academy, _ = Membership.objects.get_or_create(account=account, name="Academy")
    basic, _ = MembershipLevel.objects.get_or_create(membership=academy, name="Basic", defaults={"position": 1})
    MembershipLevel.objects.get_or_create(membership=academy, name="Pro", defaults={"position": 2})

    # In test mode, so the demo's hosted checkout sells (a test sale, no payment) under PAYMENTS_MODE=test.
    course, _ = Product.objects.get_or_create(account=account, name="Course", defaults={"test_mode": True})
    PricePoint.objects.get_or_create(
        product=course,
        number=1,
        defaults={"amount": Decimal("99.00"), "currency": "USD", "membership_level": basic},
    )
    # A monthly plan too, so a demo purchase can start (and a Zap can see cancelled) a subscription.
    PricePoint.objects.get_or_create(
        product=course, number=2, defaults={"amount": Decimal("29.00"), "currency": "USD", "recurring": True}
    )

    CustomField.objects.get_or_create(
        account=account, identifier="favourite_color", defaults={"type": CustomFieldType.INPUT_FIELD}
    )
    plan, created = CustomField.objects.get_or_create(
        account=account, identifier="plan", defaults={"type": CustomFieldType.DROP_DOWN}
    )
    if created:
        CustomFieldOption.objects.bulk_create(
            [
                CustomFieldOption(field=plan, value="Free", position=1),
                CustomFieldOption(field=plan, value="Paid", position=2),
            ]
        )


DEMO_LEADS = [
    # email, first name, last name, tags, lists, points, buys the course
    ("ada@example.com", "Ada", "Lovelace", ["Customer", "VIP"], ["Newsletter"], 120, True),
    ("grace@example.com", "Grace", "Hopper", ["Customer"], ["Newsletter", "Webinar"], 40, True),
    ("alan@example.com", "Alan", "Turing", [], ["Webinar"], 10, False),
    ("katherine@example.com", "Katherine", "Johnson", ["VIP"], [], 0, False),
]


@transaction.atomic
def demo_leads_create(*, account: Account) -> None:
    """A few leads with history, made through the services (so their events are real), for `make run`.

    Leads that exist already are left alone, so running it twice changes nothing.
    """
    from .services import lead_create, lead_list_subscribe, lead_points_give, lead_tag_assign, transaction_sale_record

    demo_assets_create(account=account)
    existing = set(Lead.objects.filter(account=account).values_list("email", flat=True))
    price_point = PricePoint.objects.get(product__account=account, product__name="Course", number=1)
    for email, first_name, last_name, tags, lists, points, buys in DEMO_LEADS:
        if email in existing:
            continue
        lead = lead_create(account=account, email=email, first_name=first_name, last_name=last_name)
        for name in tags:
            lead_tag_assign(lead=lead, tag=Tag.objects.get(account=account, name=name))
        for name in lists:
            lead_list_subscribe(lead=lead, lead_list=LeadList.objects.get(account=account, name=name))
        if points:
            lead_points_give(lead=lead, points=points, reason="Demo")
        if buys:
            transaction_sale_record(lead=lead, price_point=price_point)
