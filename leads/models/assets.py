"""The account's assets, one table per kind, names unique per account, with their parts (sequence
steps, calendar classes, membership levels, price points)."""

import uuid
from datetime import timedelta

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account

# ---------------------------------------------------------------------------------------------
# Assets: each kind its own table, names unique per account.


class Asset(models.Model):
    # Used in error codes ("tag_not_found") and event keys; set by each concrete asset.
    kind: str = ""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="%(app_label)s_%(class)s_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def kind_label(cls) -> str:
        """The kind's name at the start of a message: "Tag", "List", "Tracking link"."""
        return str(cls._meta.verbose_name).capitalize()


def new_public_id() -> str:
    return uuid.uuid4().hex


class Tag(Asset):
    kind = "tag"


class LeadList(Asset):
    kind = "list"

    class Meta(Asset.Meta):
        verbose_name = "list"


class Sequence(Asset):
    kind = "sequence"


class SequenceStep(models.Model):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # Wait after the previous step (after subscribing, for step 1) before this one is sent.
    delay = models.DurationField(default=timedelta(0))

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [models.UniqueConstraint(fields=["sequence", "position"], name="sequencestep_position_unique")]

    def __str__(self) -> str:
        return f"{self.sequence} step {self.position}"


class Page(Asset):
    kind = "page"

    slug = models.SlugField(max_length=100, blank=True)
    url = models.URLField(max_length=500, blank=True)


class Form(Asset):
    kind = "form"

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    lists = models.ManyToManyField(LeadList, blank=True, related_name="forms")
    tags = models.ManyToManyField(Tag, blank=True, related_name="forms")
    # Double opt-in: a submission only stores a pending confirmation and emails a signed link; the lead,
    # its consent, IP verification and profile change when the link is opened (leads.services).
    double_opt_in = models.BooleanField(default=False)

    def get_absolute_url(self) -> str:
        """The hosted opt-in form visitors fill in."""
        return reverse("hosted:form", args=[self.public_id])


class Video(Asset):
    kind = "video"


class TrackingLink(Asset):
    kind = "tracking_link"

    target_url = models.URLField(max_length=500)


class SplitTestLink(Asset):
    kind = "split_test_link"

    class Meta(Asset.Meta):
        verbose_name = "split-test link"


class Calendar(Asset):
    kind = "calendar"


class CalendarClass(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=200)
    duration = models.DurationField(default=timedelta(hours=1))

    class Meta:
        verbose_name_plural = "calendar classes"
        ordering = ["calendar", "name"]
        constraints = [models.UniqueConstraint(fields=["calendar", "name"], name="calendarclass_name_unique")]

    def __str__(self) -> str:
        return self.name


class Membership(Asset):
    kind = "membership"


class MembershipLevel(models.Model):
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="levels")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["membership", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["membership", "name"], name="membershiplevel_name_unique")]

    def __str__(self) -> str:
        return f"{self.membership} / {self.name}"


class Product(Asset):
    kind = "product"

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    # The owner's switch: the hosted checkout sells without payment, each sale recorded as a test sale.
    # Off, the checkout needs a payment mode (settings.PAYMENTS_MODE) that takes real payments.
    test_mode = models.BooleanField(default=False)

    def get_absolute_url(self) -> str:
        """The hosted checkout where visitors buy it."""
        return reverse("hosted:checkout", args=[self.public_id])


class PricePoint(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_points")
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD")
    recurring = models.BooleanField(default=False)
    membership_level = models.ForeignKey(
        MembershipLevel, on_delete=models.SET_NULL, null=True, blank=True, related_name="price_points"
    )

    class Meta:
        ordering = ["product", "number"]
        constraints = [models.UniqueConstraint(fields=["product", "number"], name="pricepoint_number_unique")]

    def __str__(self) -> str:
        return f"{self.product} #{self.number}"


ASSET_MODELS: tuple[type[Asset], ...] = (
    Tag,
    LeadList,
    Sequence,
    Page,
    Form,
    Video,
    TrackingLink,
    SplitTestLink,
    Calendar,
    Membership,
    Product,
)
