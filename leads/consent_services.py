"""Consent capture (issue 7): the only code that clears a lead for GDPR.

A lead is cleared only by what it does itself on a hosted page whose visitor IP we verified
(opt-in form /f/<public id>, checkout /c/<public id>), or by an import whose operator confirms
consent. Each grant or withdrawal is an append-only ConsentRecord; the lead's GDPR status is
then set through leads.services.lead_gdpr_status_set, only along the transitions
leads.models.GDPR_TRANSITIONS allows the evidence at hand (issue 12).

Anyone can type anyone's address into a form, so a plain submission (single opt-in, checkout) is
an unconfirmed visit: it creates a new lead, but for an existing one it records the form fill (or
sale) and settles only a status no decision was recorded for: it neither changes the profile or
IP nor lifts a refusal (not accepted). A form with double opt-in stores the submission as a
PendingOptIn and emails a signed, expiring link; opening it proves the visitor controls the
address, and only then are the lead, its profile, IP verification and consent written.

The status a hosted page sets (account GDPR on):
- visitor IP verified outside the GDPR area (EU, EEA, UK): not subject; no checkboxes shown;
- inside the area, or location unknown: both checkboxes ticked (or both already granted and never
  withdrawn): accepted; otherwise not accepted (inside) or unknown (location undetermined).
With the account's GDPR off no checkboxes are shown: verified outside the area is still recorded
as not subject (a fact worth keeping if GDPR is turned on later), anything else is off.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import Account, User
from kartra_integrations.errors import ApplicationError

from .geo import country_for_ip, is_gdpr_country
from .models import (
    Form,
    GdprEvidence,
    GdprStatus,
    Lead,
    LeadSource,
    PricePoint,
    Product,
    Transaction,
    gdpr_transition_allowed,
)
from .models_consent import ConsentAction, ConsentPurpose, ConsentRecord, ConsentSource, PendingOptIn
from .services import lead_create, lead_form_filled, lead_gdpr_status_set, lead_update, transaction_sale_record

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
    filled = {name: value for name, value in profile.items() if value}
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
    for purpose in ConsentPurpose.values:
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


@transaction.atomic(durable=True)
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


# --- Double opt-in -----------------------------------------------------------------------------

# Confirmation emails one address gets from one form in an hour, however many times it is typed in.
OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR = 3
_OPT_IN_SIGNER_SALT = "leads.opt_in_confirmation"


class OptInLinkError(ApplicationError):
    """A confirmation link that cannot be used: tampered with (400) or expired (410)."""


def _opt_in_max_age() -> timedelta:
    return timedelta(hours=settings.OPT_IN_CONFIRMATION_MAX_AGE_HOURS)


def opt_in_token(pending: PendingOptIn) -> str:
    """What the emailed link carries: the pending row's id, signed and timestamped."""
    return signing.TimestampSigner(salt=_OPT_IN_SIGNER_SALT).sign(pending.pk.hex)


def opt_in_confirmation_url(pending: PendingOptIn) -> str:
    return pending.site_url.rstrip("/") + reverse("hosted:form_confirm", args=[opt_in_token(pending)])


def opt_in_pending_get(*, token: str) -> PendingOptIn:
    """The pending opt-in a link names; OptInLinkError when its signature is wrong or it is too old."""
    signer = signing.TimestampSigner(salt=_OPT_IN_SIGNER_SALT)
    try:
        pending_id = uuid.UUID(hex=signer.unsign(token, max_age=_opt_in_max_age()))
    except signing.SignatureExpired:
        raise OptInLinkError(
            "This confirmation link has expired. Please fill in the form again to get a new one.",
            code="link_expired",
            status_code=410,
        ) from None
    except (signing.BadSignature, ValueError):
        raise OptInLinkError(
            "This confirmation link is not valid. Please open the link exactly as it is in the email.",
            code="link_invalid",
        ) from None
    pending = PendingOptIn.objects.select_related("form", "account").filter(pk=pending_id).first()
    if pending is None:  # its form was deleted, or the row was purged
        raise OptInLinkError(
            "This confirmation link is no longer valid. Please fill in the form again.",
            code="link_expired",
            status_code=410,
        )
    return pending


@transaction.atomic(durable=True)
def opt_in_pending_create(
    *, form: Form, email: str, profile: dict[str, str], visitor: Visitor, granted: set[str], site_url: str
) -> PendingOptIn | None:
    """A visitor filled a double opt-in form: store what it typed and ticked (with the wording it saw) and,
    after commit, email the address a link to confirm. No lead is created or changed now. None (and no
    email) when the address already had OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR links from this form."""
    since = timezone.now() - timedelta(hours=1)
    if (
        PendingOptIn.objects.filter(form=form, email__iexact=email, created_at__gte=since).count()
        >= OPT_IN_EMAILS_PER_ADDRESS_PER_HOUR
    ):
        return None
    pending = PendingOptIn(
        account_id=form.account_id,
        form=form,
        email=email.strip(),
        first_name=profile.get("first_name", ""),
        last_name=profile.get("last_name", ""),
        granted=_granted_notices(account=form.account, visitor=visitor, granted=granted),
        notice_version=NOTICE_VERSION,
        site_url=site_url,
    )
    try:
        pending.full_clean(exclude=["account", "form", "lead"])
    except ValidationError as error:
        fields = error.message_dict
        raise ApplicationError(next(iter(fields.values()))[0], code="invalid", fields=fields) from None
    pending.save()
    transaction.on_commit(partial(_opt_in_confirmation_enqueue, pending.pk), robust=True)
    return pending


def _opt_in_confirmation_enqueue(pending_id: uuid.UUID) -> None:
    from .tasks import opt_in_confirmation_send_task  # the tasks module imports this one

    opt_in_confirmation_send_task.delay(str(pending_id))


def opt_in_confirmation_send(*, pending_id: str) -> bool:
    """Email the confirmation link (the task's body): once per pending row, claimed by a conditional
    update, and never for one confirmed or past the link's age. A failed send frees the claim and raises,
    so the task's retry sends it. True when sent."""
    now = timezone.now()
    claimed = PendingOptIn.objects.filter(
        pk=pending_id, email_sent_at__isnull=True, confirmed_at__isnull=True, created_at__gt=now - _opt_in_max_age()
    ).update(email_sent_at=now)
    if not claimed:
        return False
    pending = PendingOptIn.objects.select_related("form", "account").get(pk=pending_id)
    context = {
        "pending": pending,
        "url": opt_in_confirmation_url(pending),
        "valid_hours": settings.OPT_IN_CONFIRMATION_MAX_AGE_HOURS,
    }
    try:
        send_mail(
            f"Please confirm your subscription to {pending.account.name}",
            render_to_string("leads/hosted/confirm_email.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [pending.email],
        )
    except Exception:
        PendingOptIn.objects.filter(pk=pending_id).update(email_sent_at=None)
        raise
    return True


@transaction.atomic(durable=True)
def opt_in_confirm(*, pending: PendingOptIn, visitor: Visitor) -> Lead | None:
    """The lead opened its link: it controls the address. Now the lead is created or its profile updated,
    its IP verified (the visitor's now), the consents it gave at submission recorded and its status set
    along the transitions a confirmed visit may make (a refusal it made itself can be lifted), and the form's
    filled_form, lists and tags applied. Idempotent: a second confirmation changes nothing and returns None.
    What the visitor typed is blanked from the pending row: the lead and its consent records hold it now."""
    claimed = PendingOptIn.objects.filter(pk=pending.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now())
    if not claimed:
        return None
    form = pending.form
    lead = _lead_from_visit(
        account=pending.account,
        email=pending.email,
        profile={"first_name": pending.first_name, "last_name": pending.last_name},
        visitor=visitor,
        source=LeadSource.OPT_IN_FORM,
        confirmed=True,
    )
    _consent_from_visit(
        lead=lead,
        visitor=visitor,
        granted=pending.granted,
        source=ConsentSource.CONFIRMED_OPT_IN,
        via=GdprEvidence.CONFIRMED_VISIT,
    )
    lead_form_filled(lead=lead, form=form)
    PendingOptIn.objects.filter(pk=pending.pk).update(lead=lead, email="", first_name="", last_name="", granted={})
    return lead


def pending_opt_ins_purge(*, now: datetime | None = None) -> int:
    """Delete pending opt-ins whose link has expired (beat job): what the visitor typed is not kept."""
    now = now or timezone.now()
    deleted, _ = PendingOptIn.objects.filter(created_at__lt=now - _opt_in_max_age()).delete()
    return deleted


# --- Checkout ----------------------------------------------------------------------------------


def checkout_unavailable_reason(*, product: Product) -> str | None:
    """Why the hosted checkout may not sell this product now, or None. No payment processor is
    integrated: a sale is possible only in the "test" payments mode, for a product in test mode."""
    if settings.PAYMENTS_MODE != "test":
        return "This shop cannot take orders yet: payments are not configured. Nothing was charged or recorded."
    if not product.test_mode:
        return "This product cannot be bought yet: payments are not configured for it. Nothing was charged or recorded."
    return None


@transaction.atomic(durable=True)
def hosted_checkout_submit(
    *,
    product: Product,
    price_point: PricePoint,
    email: str,
    profile: dict[str, str],
    visitor: Visitor,
    granted: set[str],
) -> Transaction:
    """A visitor bought on the hosted checkout of a product in test mode: a test sale, no payment taken.
    The lead, consent and status as for a single opt-in (an unconfirmed visit)."""
    reason = checkout_unavailable_reason(product=product)
    if reason is not None:
        raise ApplicationError(reason, code="payments_not_configured", status_code=503)
    if price_point.product_id != product.pk:
        raise ApplicationError(
            "Choose one of this product's prices.",
            code="price_point_not_found",
            fields={"price_point": ["Choose one of this product's prices."]},
        )
    lead = _unconfirmed_visit(
        account=product.account,
        email=email,
        profile=profile,
        visitor=visitor,
        granted=granted,
        source=LeadSource.CHECKOUT,
        consent_source=ConsentSource.CHECKOUT,
    )
    return transaction_sale_record(
        lead=lead, price_point=price_point, quantity=1, amount=Decimal(price_point.amount), test=product.test_mode
    )


@transaction.atomic(durable=True)
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
