"""GDPR records: the account setting's audit, each consent given or withdrawn, pending double
opt-ins, and the tombstone of an erased lead."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Account
from kartra_integrations.append_only import AppendOnlyModel

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


class ConsentPurpose(models.TextChoices):
    GDPR_TERMS = "gdpr_terms", "GDPR terms"
    COMMERCIAL_EMAIL = "commercial_email", "Commercial email"


class ConsentAction(models.TextChoices):
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentSource(models.TextChoices):
    OPT_IN_FORM = "opt_in_form", "Opt-in form"
    CHECKOUT = "checkout", "Checkout"
    CONFIRMED_OPT_IN = "confirmed_opt_in", "Opt-in form, confirmed by email"
    CONFIRMED_IMPORT = "confirmed_import", "Confirmed import"
    OWNER = "owner", "Account owner"


class ConsentRecord(models.Model):
    """Append-only evidence of a consent given or withdrawn; written only by leads.services.

    The wording the lead saw is kept with its version, so the record stands on its own. Erasure
    is the one change ever made to a row: it blanks the IP and user agent. `email_digest` is a keyed
    hash of the lead's address (consent_services.consent_email_digest: HMAC-SHA256, key derived from
    SECRET_KEY, salted per account), never the address: after erasure a proof request for an address
    is matched with it (data_rights.consent_evidence_for_email).
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="consent_records")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    action = models.CharField(max_length=10, choices=ConsentAction.choices)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    email_digest = models.CharField(max_length=64, blank=True, default="")
    notice_version = models.CharField(max_length=32)
    notice_text = models.TextField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "purpose", "-created_at"], name="consent_lead_purpose_idx"),
            models.Index(fields=["account", "email_digest"], name="consent_account_digest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.action} ({self.source})"


class PendingOptIn(models.Model):
    """A double opt-in submission waiting for its emailed link to be opened; written only by
    leads.services. Nothing about the lead changes until then.

    The link carries this row's id signed with a TimestampSigner: it expires after
    settings.OPT_IN_CONFIRMATION_MAX_AGE_HOURS, and confirmed_at (set once, by a conditional update)
    makes a second click harmless. Once confirmed, what the visitor typed is blanked (the lead and its
    consent records hold it now); rows past the link's age are purged.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    form = models.ForeignKey("leads.Form", on_delete=models.CASCADE, related_name="pending_opt_ins")
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # The consent wording shown at submission, per purpose the visitor ticked: {purpose: notice text}.
    granted = models.JSONField(default=dict, blank=True)
    notice_version = models.CharField(max_length=32)
    # Where the link points: the scheme and host the visitor submitted the form on.
    site_url = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    lead = models.ForeignKey("leads.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["form", "-created_at"], name="pendingoptin_form_created_idx"),
            models.Index(fields=["created_at"], name="pendingoptin_created_idx"),
        ]

    def __str__(self) -> str:
        return f"opt-in {self.pk} ({'confirmed' if self.confirmed_at else 'pending'})"


class LeadErasure(models.Model):
    """The mark an erased lead keeps (no personal data), and who erased it when."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, related_name="erasure")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    erased_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"lead {self.lead_id} erased {self.erased_at:%Y-%m-%d}"
