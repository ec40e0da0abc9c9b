from datetime import timedelta
from decimal import Decimal

import factory

from leads import models
from tests.accounts.factories import ActivatedAccountFactory


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Lead

    account = factory.SubFactory(ActivatedAccountFactory)
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    gdpr_status = models.GdprStatus.UNKNOWN


class AssetFactory(factory.django.DjangoModelFactory):
    account = factory.SubFactory(ActivatedAccountFactory)


class TagFactory(AssetFactory):
    class Meta:
        model = models.Tag

    name = factory.Sequence(lambda n: f"Tag {n}")


class LeadListFactory(AssetFactory):
    class Meta:
        model = models.LeadList

    name = factory.Sequence(lambda n: f"List {n}")


class SequenceFactory(AssetFactory):
    class Meta:
        model = models.Sequence
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Sequence {n}")

    @factory.post_generation
    def steps(obj, create, extracted, **kwargs):
        for position in range(1, (extracted if extracted is not None else 3) + 1):
            models.SequenceStep.objects.create(
                sequence=obj, position=position, subject=f"Step {position}", body="Hello", delay=timedelta(days=1)
            )


class PageFactory(AssetFactory):
    class Meta:
        model = models.Page

    name = factory.Sequence(lambda n: f"Page {n}")


class FormFactory(AssetFactory):
    class Meta:
        model = models.Form

    name = factory.Sequence(lambda n: f"Form {n}")


class VideoFactory(AssetFactory):
    class Meta:
        model = models.Video

    name = factory.Sequence(lambda n: f"Video {n}")


class TrackingLinkFactory(AssetFactory):
    class Meta:
        model = models.TrackingLink

    name = factory.Sequence(lambda n: f"Link {n}")
    target_url = "https://example.com/target"


class SplitTestLinkFactory(AssetFactory):
    class Meta:
        model = models.SplitTestLink

    name = factory.Sequence(lambda n: f"Split {n}")


class CalendarFactory(AssetFactory):
    class Meta:
        model = models.Calendar

    name = factory.Sequence(lambda n: f"Calendar {n}")


class CalendarClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CalendarClass

    calendar = factory.SubFactory(CalendarFactory)
    name = factory.Sequence(lambda n: f"Class {n}")
    duration = timedelta(hours=1)


class MembershipFactory(AssetFactory):
    class Meta:
        model = models.Membership

    name = factory.Sequence(lambda n: f"Membership {n}")


class MembershipLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MembershipLevel

    membership = factory.SubFactory(MembershipFactory)
    name = factory.Sequence(lambda n: f"Level {n}")


class ProductFactory(AssetFactory):
    class Meta:
        model = models.Product

    name = factory.Sequence(lambda n: f"Product {n}")
    # Sellable on the hosted checkout under the test settings (PAYMENTS_MODE=test); the model's default is off.
    test_mode = True


class PricePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PricePoint

    product = factory.SubFactory(ProductFactory)
    number = factory.Sequence(lambda n: n + 1)
    amount = Decimal("99.00")
    currency = "USD"


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CustomField

    account = factory.SubFactory(ActivatedAccountFactory)
    identifier = factory.Sequence(lambda n: f"field_{n}")
    type = models.CustomFieldType.INPUT_FIELD
