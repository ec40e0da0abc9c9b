"""An account's lead database, its assets, what links a lead to them, the lead event outbox, and the
audit of the account's GDPR setting.

Every write goes through leads.services; every non-trivial read through leads.selectors.
"""

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.models import TIME_ZONE_CHOICES, Account
from kartra_integrations.append_only import AppendOnlyModel


def iso_utc(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, as every document of this app writes times."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# Leads


class LeadSource(models.TextChoices):
    API = "api", "API"
    IMPORT = "import", "Import"
    OPT_IN_FORM = "opt_in_form", "Opt-in form"
    CHECKOUT = "checkout", "Checkout"
    MANUAL = "manual", "Manual"


class GdprStatus(models.TextChoices):
    """The platform's lead GDPR statuses; GDPR_STATUS_CODES gives its numeric codes (reference section 6)."""

    OFF = "off", "GDPR off for the account"
    NOT_SUBJECT = "not_subject", "Not subject (outside the GDPR area)"
    ACCEPTED = "accepted", "Accepted"
    NOT_ACCEPTED = "not_accepted", "Not accepted"
    UNKNOWN = "unknown", "Unknown"
    PENDING = "pending", "Pending"


GDPR_STATUS_CODES: dict[str, int] = {
    GdprStatus.OFF: 0,
    GdprStatus.NOT_SUBJECT: 1,
    GdprStatus.ACCEPTED: 2,
    GdprStatus.NOT_ACCEPTED: 3,
    GdprStatus.UNKNOWN: 4,
    GdprStatus.PENDING: 5,
}


class GdprEvidence(models.TextChoices):
    """What moves a lead's GDPR status: each is allowed the transitions GDPR_TRANSITIONS gives it."""

    # A hosted opt-in or checkout submission: the visitor's IP is verified, its control of the address is not.
    VISIT = "visit", "Hosted form submission"
    # The lead opened the signed link emailed to its address (double opt-in): the visitor controls the address.
    CONFIRMED_VISIT = "confirmed_visit", "Confirmed by email"
    # An import whose operator confirms the leads consented elsewhere (withdrawn leads are left out by the import).
    CONFIRMED_IMPORT = "confirmed_import", "Confirmed import"
    # The owner records that the lead withdrew a consent.
    WITHDRAWAL = "withdrawal", "Withdrawal"


# Statuses that record no decision of the lead's: anyone's visit may settle them.
GDPR_UNDECIDED = frozenset({GdprStatus.UNKNOWN, GdprStatus.OFF, GdprStatus.PENDING})
_VISIT_OUTCOMES = frozenset(
    {GdprStatus.NOT_SUBJECT, GdprStatus.ACCEPTED, GdprStatus.NOT_ACCEPTED, GdprStatus.UNKNOWN, GdprStatus.OFF}
)

# The one statement of how a lead's GDPR status may move: evidence -> current status -> allowed new statuses.
# A status missing on the left stays as it is. So an unconfirmed visit (anyone can type any address) never
# changes a lead that declined or withdrew (not accepted), nor downgrades or relabels a cleared one; only a
# lead who proves it controls the address (the emailed link) can lift its own refusal.
GDPR_TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    GdprEvidence.VISIT: dict.fromkeys(GDPR_UNDECIDED, _VISIT_OUTCOMES),
    GdprEvidence.CONFIRMED_VISIT: dict.fromkeys(GdprStatus.values, _VISIT_OUTCOMES),
    GdprEvidence.CONFIRMED_IMPORT: dict.fromkeys(
        set(GdprStatus.values) - {GdprStatus.ACCEPTED}, frozenset({GdprStatus.ACCEPTED})
    ),
    GdprEvidence.WITHDRAWAL: {GdprStatus.ACCEPTED: frozenset({GdprStatus.NOT_ACCEPTED})},
}


def gdpr_transition_allowed(*, current: str, new: str, via: str) -> bool:
    """May `via` move a lead's GDPR status from `current` to `new`? (Re-stating an undecided status
    through a visit is allowed: it records when and from where it was last checked.)"""
    return new in GDPR_TRANSITIONS[via].get(current, frozenset())


class LeadQuerySet(models.QuerySet):
    def with_email(self, email: str) -> "LeadQuerySet":
        """Case-insensitive match written as Lower(email) = lower(value), so the unique index serves it."""
        return self.alias(email_folded=Lower("email")).filter(email_folded=email.strip().lower())


class Lead(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="leads")
    email = models.EmailField(max_length=254)

    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    last_name2 = models.CharField("second last name", max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    phone_country_code = models.CharField(max_length=8, blank=True)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    zip = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    website = models.URLField(max_length=500, blank=True)
    facebook = models.CharField(max_length=255, blank=True)
    twitter = models.CharField(max_length=255, blank=True)
    linkedin = models.CharField(max_length=255, blank=True)
    lead_picture = models.URLField("picture URL", max_length=500, blank=True)
    lead_preferred_time_zone = models.CharField(max_length=64, blank=True, choices=TIME_ZONE_CHOICES)
    ip = models.GenericIPAddressField(null=True, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)

    source = models.CharField(max_length=16, choices=LeadSource.choices, default=LeadSource.API)
    # Running total of the points log, and the highest it has ever been (for reaches_score). bigint,
    # and leads.services keeps both within ±limits.SCORE_MAX: an integer column wrapped past 2^31.
    score = models.BigIntegerField(default=0)
    peak_score = models.BigIntegerField(default=0)
    date_joined = models.DateTimeField(default=timezone.now)
    blacklisted = models.BooleanField(default=False)

    # Set only by leads.services.lead_gdpr_status_set (consent capture, issue 7) and at creation.
    gdpr_status = models.CharField(max_length=16, choices=GdprStatus.choices, default=GdprStatus.UNKNOWN)
    gdpr_status_date = models.DateTimeField(null=True, blank=True)
    gdpr_status_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        constraints = [
            # Also the index behind every lookup by email (LeadQuerySet.with_email).
            models.UniqueConstraint("account", Lower("email"), name="lead_account_email_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["account", "-date_joined"], name="lead_account_joined_idx"),
            # The owner's leads list: newest first by keyset on id, optionally by GDPR status. Its
            # starts-with searches use text_pattern_ops indexes created on PostgreSQL by migration 0002.
            models.Index(fields=["account", "-id"], name="lead_account_id_idx"),
            models.Index(fields=["account", "gdpr_status", "-id"], name="lead_account_gdpr_idx"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def gdpr_status_code(self) -> int:
        return GDPR_STATUS_CODES[self.gdpr_status]


# Profile fields the API may write on create and edit (reference section 4). GDPR fields, score,
# source and blacklisted are deliberately not among them.
LEAD_PROFILE_FIELDS: tuple[str, ...] = (
    "first_name",
    "middle_name",
    "last_name",
    "last_name2",
    "phone",
    "phone_country_code",
    "address",
    "city",
    "zip",
    "state",
    "country",
    "company",
    "website",
    "facebook",
    "twitter",
    "linkedin",
    "lead_picture",
    "lead_preferred_time_zone",
    "ip",
    "ip_country",
)

GDPR_FIELD_NAMES: frozenset[str] = frozenset(
    {
        "gdpr_status",
        "gdpr_status_date",
        "gdpr_status_ip",
        "gdpr_lead_status",
        "gdpr_lead_status_name",
        "gdpr_lead_status_date",
        "gdpr_lead_status_ip",
        "gdpr_lead_communications",
    }
)


# ---------------------------------------------------------------------------------------------
# Custom fields

identifier_validator = RegexValidator(
    r"^[A-Za-z0-9_-]+\Z", "Use only letters, digits, '-' and '_'.", code="invalid_identifier"
)


class CustomFieldType(models.TextChoices):
    INPUT_FIELD = "input_field", "Input field"
    TEXT_AREA = "text_area", "Text area"
    DROP_DOWN = "drop_down", "Drop-down"
    RADIO_BUTTON = "radio_button", "Radio buttons"
    CHECKBOX = "checkbox", "Checkboxes"


OPTION_FIELD_TYPES = frozenset({CustomFieldType.DROP_DOWN, CustomFieldType.RADIO_BUTTON, CustomFieldType.CHECKBOX})


class CustomField(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="custom_fields")
    identifier = models.CharField(max_length=64, validators=[identifier_validator])
    type = models.CharField(max_length=16, choices=CustomFieldType.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "identifier"], name="customfield_account_identifier_unique")
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def has_options(self) -> bool:
        return self.type in OPTION_FIELD_TYPES


class CustomFieldOption(models.Model):
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="options")
    value = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["field", "value"], name="customfieldoption_value_unique")]

    def __str__(self) -> str:
        return self.value


class LeadCustomFieldValue(models.Model):
    """A lead's value: a string for text fields, a list of option ids for option fields."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="custom_field_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    value = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "field"], name="leadcustomfieldvalue_unique")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} field {self.field_id}"


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
    # its consent, IP verification and profile change when the link is opened (leads.consent_services).
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


# ---------------------------------------------------------------------------------------------
# What links a lead to the assets


class LeadTag(models.Model):
    # No index of their own: leadtag_unique leads with lead, leadtag_tag_lead_idx with tag (each
    # index more is one more write on every tag assigned).
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="lead_tags", db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="lead_tags", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "tag"], name="leadtag_unique")]
        indexes = [models.Index(fields=["tag", "lead"], name="leadtag_tag_lead_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} tag {self.tag_id}"


class ListSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="list_subscriptions")
    list = models.ForeignKey(LeadList, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    subscribed_at = models.DateTimeField(default=timezone.now)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "list"], name="listsubscription_unique")]
        indexes = [models.Index(fields=["list", "status"], name="listsub_list_status_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} list {self.list_id} ({self.status})"


class SequenceSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        COMPLETED = "completed", "Completed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sequence_subscriptions")
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="subscriptions")
    # Position of the next step to send (the current step).
    step = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    next_step_due_at = models.DateTimeField(null=True, blank=True)
    subscribed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "sequence"], name="sequencesubscription_unique")]
        indexes = [models.Index(fields=["status", "next_step_due_at"], name="seqsub_due_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} sequence {self.sequence_id} step {self.step} ({self.status})"


class PointsChange(models.Model):
    """Append-only log; Lead.score is its running total."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="points_changes")
    delta = models.IntegerField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set when the expiry job has taken the points back (with a reversing change of its own).
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expired_at", "expires_at"], name="points_expiry_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} {self.delta:+d}"


class CalendarBooking(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="calendar_bookings")
    calendar_class = models.ForeignKey(CalendarClass, on_delete=models.CASCADE, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REGISTERED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "ends_at"], name="booking_status_ends_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} class {self.calendar_class_id} at {self.starts_at:%Y-%m-%d %H:%M} ({self.status})"


class MembershipAccess(models.Model):
    """One row per lead and membership: the level held and whether access is granted."""

    class Status(models.TextChoices):
        GRANTED = "granted", "Granted"
        REVOKED = "revoked", "Revoked"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="membership_accesses")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="accesses")
    level = models.ForeignKey(MembershipLevel, on_delete=models.CASCADE, related_name="accesses")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.GRANTED)
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "membership accesses"
        constraints = [models.UniqueConstraint(fields=["lead", "membership"], name="membershipaccess_unique")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} level {self.level_id} ({self.status})"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        REFUND = "refund", "Refund"
        PARTIAL_REFUND = "partial_refund", "Partial refund"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transactions")
    price_point = models.ForeignKey(PricePoint, on_delete=models.PROTECT, related_name="transactions")
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # A test sale (no payment taken: a product in test mode), and the refunds of one.
    test = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="sale", parent__isnull=True)
                | (~models.Q(kind="sale") & models.Q(parent__isnull=False)),
                name="transaction_refund_has_parent",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="transaction_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} {self.amount} {self.currency}"


class RecurringSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="recurring_subscriptions")
    sale = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="recurring_subscription")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"subscription {self.pk} of sale {self.sale_id} ({self.status})"


class PartnerSignup(models.Model):
    """An affiliate or JV partner sign-up of a lead for a product."""

    class Kind(models.TextChoices):
        AFFILIATE = "affiliate", "Affiliate"
        JV = "jv", "JV partner"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="partner_signups")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="partner_signups")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "product", "kind"], name="partnersignup_unique")]

    def __str__(self) -> str:
        return f"{self.kind} lead {self.lead_id} product {self.product_id}"


class LeadActivity(models.Model):
    """Page visits, external page visits, video plays/completions, link clicks: one row each."""

    class Kind(models.TextChoices):
        PAGE_VISIT = "page_visit", "Visited a page"
        EXTERNAL_PAGE_VISIT = "external_page_visit", "Visited an external page"
        VIDEO_PLAY = "video_play", "Played a video"
        VIDEO_COMPLETE = "video_complete", "Completed a video"
        TRACKING_LINK_CLICK = "tracking_link_click", "Clicked a tracking link"
        SPLIT_TEST_LINK_CLICK = "split_test_link_click", "Clicked a split-test link"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    page = models.ForeignKey(Page, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    video = models.ForeignKey(Video, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    tracking_link = models.ForeignKey(TrackingLink, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    split_test_link = models.ForeignKey(
        SplitTestLink, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    url = models.URLField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "lead activities"
        indexes = [models.Index(fields=["lead", "-created_at"], name="activity_lead_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} lead {self.lead_id}"


# ---------------------------------------------------------------------------------------------
# The outbox of lead events


class LeadAction(models.TextChoices):
    """The platform's 26 outbound action names (reference section 5), labelled with the seed's trigger
    words in title case: the labels people see here and in Zapier (zapier/lib/triggers.js, tested equal).

    Title case: every word capitalized (each part of a hyphenated word too) except, when neither first
    nor last, the articles, coordinating conjunctions and short prepositions:
    a, an, the, and, but, or, nor, for, so, yet, as, at, by, in, of, on, to, via."""

    ASSIGN_TAG = "assign_tag", "Lead Is Assigned Tag"
    UNASSIGN_TAG = "unassign_tag", "Lead Is Unassigned Tag"
    LIST_SUBSCRIPTION = "list_subscription", "Lead Subscribes to List"
    LIST_UNSUBSCRIPTION = "list_unsubscription", "Lead Is Unsubscribed From List"
    FILLED_FORM = "filled_form", "Lead Fills Opt-In Form"
    SEQUENCE_SUBSCRIPTION = "sequence_subscription", "Lead Is Added to Sequence"
    SEQUENCE_UNSUBSCRIPTION = "sequence_unsubscription", "Lead Is Removed From Sequence"
    SEQUENCE_COMPLETION = "sequence_completion", "Lead Completes Sequence"
    TRACKING_LINK_CLICK = "tracking_link_click", "Lead Clicks on a Tracking Link"
    VIDEO_PLAY = "video_play", "Lead Plays a Kartra Video"
    VIDEO_COMPLETE = "video_complete", "Lead Completes a Kartra Video"
    REACHES_SCORE = "reaches_score", "Lead Reaches Score for the First Time"
    AFFILIATE_SIGNUP = "affiliate_signup", "Affiliate Signs Up for Product"
    JV_SIGNUP = "jv_signup", "JV Signs Up for Product"
    MEMBERSHIP_GRANTED = "membership_granted", "Lead Is Granted Access to Membership"
    MEMBERSHIP_REVOKED = "membership_revoked", "Lead Is Revoked Access to Membership"
    BUY_PRODUCT = "buy_product", "Customer Buys Product"
    REFUND_PRODUCT = "refund_product", "Customer Refunds Product"
    CANCEL_SUBSCRIPTION = "cancel_subscription", "Customer Cancels Subscription"
    CALENDAR_SUBSCRIBE = "calendar_subscribe", "Lead Registers a Calendar"
    CALENDAR_COMPLETE = "calendar_complete", "Lead Completes a Calendar"
    CALENDAR_CANCEL = "calendar_cancel", "Lead Cancels a Calendar"
    KARTRA_PAGE_VISIT = "kartra_page_visit", "Lead Visits a Kartra Page"
    EXTERNAL_PAGE_VISIT = "external_page_visit", "Lead Visits External Page"
    CLICK_PAGE_SPLIT_TEST_LINK = "click_page_split_test_link", "Lead Clicks on Page Split Test Link"
    PARTIAL_REFUND_PRODUCT = "partial_refund_product", "Customer Partial Refunds Product"


class LeadEvent(models.Model):
    """One row per lead event, written in the same transaction as the change that caused it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: the account and lead indexes below lead with them.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="lead_events", db_index=False)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", db_index=False)
    action = models.CharField(max_length=32, choices=LeadAction.choices)
    # The platform's action_details shape, built when the event is written.
    details = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now)
    # Null until the hook relay (zaphooks.services.events_relay) has handed the event on: the relay
    # reads the rows still null, whenever they committed, so no outage or late commit loses one.
    relayed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["account", "action", "occurred_at"], name="leadevent_account_action_idx"),
            models.Index(fields=["lead", "-occurred_at"], name="leadevent_lead_idx"),
            # Only the few rows not relayed yet: the relay's scan costs the same at any table size.
            models.Index(
                fields=["occurred_at"], name="leadevent_unrelayed_idx", condition=models.Q(relayed_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


# ---------------------------------------------------------------------------------------------
# The account's settings


class GdprSettingChange(AppendOnlyModel):
    """Who turned the account's GDPR setting on or off, and when; written by services.account_gdpr_enabled_set.

    actor is None for an operator (no user) or a user deleted since.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="gdpr_setting_changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_enabled = models.BooleanField()
    to_enabled = models.BooleanField()
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_enabled=models.F("to_enabled")), name="gdprsettingchange_is_a_change"
            )
        ]
        indexes = [models.Index(fields=["account", "-changed_at"], name="gdprsettingchange_account_idx")]

    def __str__(self) -> str:
        return f"GDPR {'on' if self.to_enabled else 'off'} {self.changed_at:%Y-%m-%d %H:%M}"


from .models_consent import ConsentRecord, LeadErasure, PendingOptIn, StepDelivery  # noqa: E402, F401  (issue 7, 12)
