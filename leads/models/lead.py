"""A lead: its profile, GDPR status (and the transitions allowed between statuses), and the
account's custom fields with each lead's values."""

from datetime import UTC, datetime

from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import TIME_ZONE_CHOICES, Account


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
    # Created by a developer app in test mode (POST /api): never emailed (selectors.lead_can_receive_email).
    API_TEST = "api_test", "API (test mode)"


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

    # Set only by leads.services.lead_gdpr_status_set (consent capture) and at creation.
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
