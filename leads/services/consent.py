"""Consent capture: the only code that clears a lead for GDPR.

A lead is cleared only by what it does itself on a hosted page whose visitor IP we verified
(opt-in form /f/<public id>, checkout /c/<public id>), or by an import whose operator confirms
consent. Each grant or withdrawal is an append-only ConsentRecord; the lead's GDPR status is
then set through leads.services.lead_gdpr_status_set, only along the transitions
leads.models.GDPR_TRANSITIONS allows the evidence at hand.

Anyone can type anyone's address into a form, so a plain submission (single opt-in, checkout) is
an unconfirmed visit: it creates a new lead, but for an existing one it records the form fill (or
sale) and settles only a status no decision was recorded for: it neither changes the profile or
IP nor lifts a refusal (not accepted). A form with double opt-in stores the submission as a
PendingOptIn and emails a signed, expiring link; opening it proves the visitor controls the
address, and only then are the lead, its profile, IP verification and consent written (that flow
is leads.services.opt_in; the checkout's sale is leads.services.commerce.hosted_checkout_submit).

The status a hosted page sets (account GDPR on):
- visitor IP verified outside the GDPR area (EU, EEA, UK): not subject; no checkboxes shown;
- inside the area, or location unknown: both checkboxes ticked (or both already granted and never
  withdrawn): accepted; otherwise not accepted (inside) or unknown (location undetermined).
With the account's GDPR off no checkboxes are shown: verified outside the area is still recorded
as not subject (a fact worth keeping if GDPR is turned on later), anything else is off.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.crypto import salted_hmac

from accounts.models import Account, User
from leads.models import (
    ConsentAction,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    Form,
    GdprEvidence,
    GdprStatus,
    Lead,
    LeadSource,
    gdpr_transition_allowed,
)
from leads.services.activity import lead_form_filled
from leads.services.geo import country_for_ip, is_gdpr_country
from leads.services.leads import lead_create, lead_gdpr_status_set, lead_update
from leads.services.transactions import lead_transaction

# The wording a visitor sees, versioned: change the text, bump the version.
NOTICE_VERSION = "2025-01"
NOTICE_TEMPLATES = {
    ConsentPurpose.GDPR_TERMS: "I agree that {account} stores and processes my personal data as described in its "
    "privacy notice.",
    ConsentPurpose.COMMERCIAL_EMAIL: "I would like to receive emails with news and offers from {account}. I can "
    "unsubscribe at any time.",
}
# What an operator confirms for an import: the leads gave both consents elsewhere.
IMPORT_NOTICE_TEXT = "The operator confirmed that the lead gave this consent before the import."

USER_AGENT_MAX_LENGTH = 512
EMAIL_DIGEST_SALT = "leads.consent.email-digest"


def consent_email_digest(*, account_id: int, email: str) -> str:
    """The keyed hash consent evidence keeps of an address: HMAC-SHA256 under a key derived from
    SECRET_KEY and salted per account, so equal addresses in two accounts do not match, and nobody
    without the key can test a guess. Case-folded and stripped, as lead emails are compared."""
    return salted_hmac(f"{EMAIL_DIGEST_SALT}:{account_id}", email.strip().lower(), algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Visitor:
    """Who is on a hosted page: the verified IP and what it tells us."""

    ip: str
    user_agent: str = ""

    @property
    def country(self) -> str | None:
        return country_for_ip(self.ip)

    @property
    def in_gdpr_area(self) -> bool:
        return is_gdpr_country(self.country)

    @property
    def location_verified_outside_gdpr_area(self) -> bool:
        return self.country is not None and not self.in_gdpr_area


def consent_notices(*, account: Account, visitor: Visitor) -> dict[str, str]:
    """The checkboxes to show this visitor: none outside the GDPR area or with the account's GDPR off."""
    if not account.gdpr_enabled or visitor.location_verified_outside_gdpr_area:
        return {}
    return {purpose: template.format(account=account.name) for purpose, template in NOTICE_TEMPLATES.items()}


def consent_current(*, lead: Lead) -> dict[str, bool]:
    """Per purpose: is the latest record a grant? (No record: False.)"""
    current = dict.fromkeys(ConsentPurpose.values, False)
    seen: set[str] = set()
    for purpose, action in lead.consent_records.order_by("-created_at", "-id").values_list("purpose", "action"):
        if purpose not in seen:
            seen.add(purpose)
            current[purpose] = action == ConsentAction.GRANTED
    return current


def consent_record(
    *,
    lead: Lead,
    purpose: ConsentPurpose,
    action: ConsentAction,
    source: ConsentSource,
    notice_text: str,
    ip: str | None = None,
    user_agent: str = "",
    actor: User | None = None,
    notice_version: str = NOTICE_VERSION,
) -> ConsentRecord:
    """Append one consent record; call inside the transaction that sets the status it explains."""
    return ConsentRecord.objects.create(
        account_id=lead.account_id,
        lead=lead,
        purpose=purpose,
        action=action,
        source=source,
        ip=ip or None,
        ip_country=(country_for_ip(ip) or "") if ip else "",
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
        email_digest=consent_email_digest(account_id=lead.account_id, email=lead.email),
        notice_version=notice_version,
        notice_text=notice_text,
        actor=actor,
    )


def _status_after_visit(*, account: Account, visitor: Visitor, consented: bool) -> GdprStatus:
    if visitor.location_verified_outside_gdpr_area:
        return GdprStatus.NOT_SUBJECT
    if not account.gdpr_enabled:
        return GdprStatus.OFF
    if consented:
        return GdprStatus.ACCEPTED
    return GdprStatus.NOT_ACCEPTED if visitor.in_gdpr_area else GdprStatus.UNKNOWN


def _lead_from_visit(
    *, account: Account, email: str, profile: dict[str, str], visitor: Visitor, source: LeadSource, confirmed: bool
) -> Lead:
    """Create the lead with what the visitor typed, or find the existing one. An existing lead's profile
    and IP change only when the visitor proved it controls the address (`confirmed`; blanks keep old values):
    anyone can type anyone's address into a form."""
    country = visitor.country or ""
    lead = Lead.objects.select_for_update().filter(account=account).with_email(email).first()
    filled: dict[str, Any] = {name: value for name, value in profile.items() if value}
    if lead is None:
        return lead_create(account=account, email=email, source=source, ip=visitor.ip, ip_country=country, **filled)
    if confirmed:
        return lead_update(lead=lead, ip=visitor.ip, ip_country=country, **filled)
    return lead


def _consent_from_visit(
    *, lead: Lead, visitor: Visitor, granted: dict[str, str], source: ConsentSource, via: GdprEvidence
) -> None:
    """Record the consents the visitor gave (purpose -> the notice it saw) and set the status the visit
    proves, when `via` may move this lead's status there; otherwise write nothing (a declined or withdrawn
    lead is not re-consented by whoever types its address)."""
    consented = consent_current(lead=lead) | dict.fromkeys(granted, True)
    status = _status_after_visit(account=lead.account, visitor=visitor, consented=all(consented.values()))
    if not gdpr_transition_allowed(current=lead.gdpr_status, new=status, via=via):
        return
    for purpose in ConsentPurpose:
        if purpose in granted:
            consent_record(
                lead=lead,
                purpose=purpose,
                action=ConsentAction.GRANTED,
                source=source,
                notice_text=granted[purpose],
                ip=visitor.ip,
                user_agent=visitor.user_agent,
            )
    lead_gdpr_status_set(lead=lead, status=status, ip=visitor.ip, via=via)


def _granted_notices(*, account: Account, visitor: Visitor, granted: set[str]) -> dict[str, str]:
    """The consents given, each with the wording the visitor saw: only purposes it was asked about."""
    notices = consent_notices(account=account, visitor=visitor)
    return {purpose: text for purpose, text in notices.items() if purpose in granted}


def _unconfirmed_visit(
    *,
    account: Account,
    email: str,
    profile: dict[str, str],
    visitor: Visitor,
    granted: set[str],
    source: LeadSource,
    consent_source: ConsentSource,
) -> Lead:
    """A plain submission (single opt-in form, checkout): the lead created, or found as it is, and its
    consent and status along the transitions an unconfirmed visit may make."""
    lead = _lead_from_visit(
        account=account, email=email, profile=profile, visitor=visitor, source=source, confirmed=False
    )
    _consent_from_visit(
        lead=lead,
        visitor=visitor,
        granted=_granted_notices(account=account, visitor=visitor, granted=granted),
        source=consent_source,
        via=GdprEvidence.VISIT,
    )
    return lead


@lead_transaction(durable=True)
def hosted_form_submit(*, form: Form, email: str, profile: dict[str, str], visitor: Visitor, granted: set[str]) -> Lead:
    """A visitor filled a (single opt-in) hosted form: the lead, consent and status of an unconfirmed
    visit, filled_form and the form's lists and tags."""
    lead = _unconfirmed_visit(
        account=form.account,
        email=email,
        profile=profile,
        visitor=visitor,
        granted=granted,
        source=LeadSource.OPT_IN_FORM,
        consent_source=ConsentSource.OPT_IN_FORM,
    )
    lead_form_filled(lead=lead, form=form)
    return lead


@lead_transaction(durable=True)
def consent_withdraw(*, lead: Lead, purpose: ConsentPurpose, actor: User) -> ConsentRecord:
    """The owner records that the lead withdrew a consent (by email, phone...): the lead is blocked
    again when the account has GDPR on, until it opts in once more."""
    record = consent_record(
        lead=lead,
        purpose=purpose,
        action=ConsentAction.WITHDRAWN,
        source=ConsentSource.OWNER,
        notice_text="The account owner recorded that the lead withdrew this consent.",
        actor=actor,
    )
    lead_gdpr_status_set(lead=lead, status=GdprStatus.NOT_ACCEPTED, ip=None, via=GdprEvidence.WITHDRAWAL)
    return record
