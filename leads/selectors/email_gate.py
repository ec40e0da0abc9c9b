"""The one rule for "may we email this lead", and the audit of the account's GDPR setting."""

from accounts.models import Account
from leads.models import (
    GdprSettingChange,
    GdprStatus,
    Lead,
    LeadSource,
)

# ---------------------------------------------------------------------------------------------
# Who may be emailed

EMAILABLE_GDPR_STATUSES = frozenset({GdprStatus.NOT_SUBJECT, GdprStatus.ACCEPTED})


def lead_can_receive_email(lead: Lead) -> bool:
    """The one rule for every email to a lead: not blacklisted and, when the account has GDPR on,
    GDPR status not subject or accepted. A lead created by a developer app in test mode is never
    emailed (the platform's test mode sends no email)."""
    if lead.blacklisted or lead.source == LeadSource.API_TEST:
        return False
    if not lead.account.gdpr_enabled:
        return True
    return lead.gdpr_status in EMAILABLE_GDPR_STATUSES


def gdpr_setting_changes(*, account: Account, limit: int = 20) -> list[GdprSettingChange]:
    """The account's latest GDPR setting changes, newest first, with who made them."""
    return list(
        GdprSettingChange.objects.filter(account=account).select_related("actor").order_by("-changed_at", "-id")[:limit]
    )
