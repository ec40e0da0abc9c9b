"""The standard demo assets of issue 3, created by name so running it twice changes nothing."""

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

    course, _ = Product.objects.get_or_create(account=account, name="Course")
    PricePoint.objects.get_or_create(
        product=course,
        number=1,
        defaults={"amount": Decimal("99.00"), "currency": "USD", "membership_level": basic},
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
