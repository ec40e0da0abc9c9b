"""Double opt-in: a hosted form with it on stores the submission and emails a signed link; the
lead is written when the link is confirmed, with the clicker's IP."""

import uuid
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kartra_integrations.errors import ApplicationError
from leads.models import (
    ConsentSource,
    Form,
    GdprEvidence,
    Lead,
    LeadSource,
    PendingOptIn,
)
from leads.services.activity import lead_form_filled
from leads.services.consent import NOTICE_VERSION, Visitor, _consent_from_visit, _granted_notices, _lead_from_visit
from leads.services.transactions import lead_on_commit, lead_transaction

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


@lead_transaction(durable=True)
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
    lead_on_commit(partial(_opt_in_confirmation_enqueue, pending.pk), robust=True)
    return pending


def _opt_in_confirmation_enqueue(pending_id: uuid.UUID) -> None:
    from leads.tasks import opt_in_confirmation_send_task  # the tasks module imports this one

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


@lead_transaction(durable=True)
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
