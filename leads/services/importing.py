"""Lead import: bulk inserts in atomic batches, re-runnable, with a report of rejected rows.

- Columns: `email` (required) and any of the lead profile fields (leads.models.LEAD_PROFILE_FIELDS);
  an unknown column refuses the whole file before anything is written.
- New leads are created with source "import" and GDPR status unknown (off when the account has
  GDPR off), as lead_create does. A lead whose email exists already (case-insensitive) is updated
  with the file's non-empty values; running the same file twice changes nothing the second time.
- `consent_confirmed`: the operator confirms that these leads consented; each lead gets both
  consents (GDPR terms, commercial email) as ConsentRecords with source "confirmed import" and
  the operator as actor, and GDPR status accepted. A lead that already has both consents gets no
  new records; a lead whose latest record for a purpose is a withdrawal is not re-consented by an
  import (its row is reported).
- Each batch is one transaction: a crash leaves whole batches, and a re-run completes the rest.
  Bulk writes bypass the per-lead services for speed; the GDPR fields written here are the ones
  lead_gdpr_status_set would write (status, date, no IP), along the transitions it allows.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Account, User
from kartra_integrations.errors import ApplicationError
from leads.models import (
    LEAD_PROFILE_FIELDS,
    ConsentAction,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    GdprEvidence,
    GdprStatus,
    Lead,
    LeadSource,
    gdpr_transition_allowed,
)
from leads.services.consent import IMPORT_NOTICE_TEXT, NOTICE_VERSION, consent_email_digest
from leads.services.leads import new_lead_gdpr_status
from leads.services.transactions import lead_transaction

IMPORTABLE_COLUMNS = ("email", *LEAD_PROFILE_FIELDS)
DEFAULT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class RejectedRow:
    line: int  # line number in the file (the header is line 1)
    email: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    consents_recorded: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


def import_columns_check(columns: Iterable[str]) -> list[str]:
    """The normalised header; ApplicationError for a missing email column or unknown columns."""
    normalised = [(column or "").strip().lower() for column in columns]
    if "email" not in normalised:
        raise ApplicationError("The file has no 'email' column.", code="import_no_email_column")
    unknown = [column for column in normalised if column not in IMPORTABLE_COLUMNS]
    if unknown:
        raise ApplicationError(
            f"Unknown column(s): {', '.join(unknown)}. Known columns: {', '.join(IMPORTABLE_COLUMNS)}.",
            code="import_unknown_columns",
        )
    duplicated = sorted({column for column in normalised if normalised.count(column) > 1})
    if duplicated:
        raise ApplicationError(f"Duplicated column(s): {', '.join(duplicated)}.", code="import_duplicated_columns")
    return normalised


def _clean_row(raw: dict[str, str]) -> tuple[str, dict]:
    """(email, profile values) with model validation; ValidationError with a readable reason."""
    email = (raw.get("email") or "").strip()
    if not email:
        raise ValidationError("email is missing")
    if len(email) > 254:
        raise ValidationError("email is too long")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(f"email {email!r} is not a valid email address") from None
    profile = {}
    for name in LEAD_PROFILE_FIELDS:
        value = (raw.get(name) or "").strip()
        if not value:
            continue
        field = Lead._meta.get_field(name)
        assert isinstance(field, models.Field)  # a profile field is a column, not a relation
        try:
            profile[name] = field.clean(value, None)
        except ValidationError as error:
            raise ValidationError(f"{name}: {' '.join(error.messages)}") from None
    return email, profile


def _latest_consents(lead_ids: list[int]) -> dict[tuple[int, str], str]:
    latest: dict[tuple[int, str], str] = {}
    rows = ConsentRecord.objects.filter(lead_id__in=lead_ids).order_by("created_at", "id")
    for lead_id, purpose, action in rows.values_list("lead_id", "purpose", "action"):
        latest[(lead_id, purpose)] = action
    return latest


@lead_transaction(durable=True)
def _import_batch(
    *,
    account: Account,
    batch: list[tuple[int, str, dict]],
    consent_confirmed: bool,
    operator: User | None,
    report: ImportReport,
) -> None:
    now = timezone.now()
    folded = [email.lower() for _, email, _ in batch]
    existing = {
        lead.email_folded: lead
        for lead in Lead.objects.filter(account=account)
        .annotate(email_folded=Lower("email"))
        .filter(email_folded__in=folded)
    }

    new_leads, changed, changed_fields = [], [], set()
    for _, email, profile in batch:
        lead = existing.get(email.lower())
        if lead is None:
            new_leads.append(
                Lead(
                    account=account,
                    email=email,
                    source=LeadSource.IMPORT,
                    date_joined=now,
                    gdpr_status=new_lead_gdpr_status(account=account),
                    gdpr_status_date=now,
                    **profile,
                )
            )
            continue
        differing = [name for name, value in profile.items() if getattr(lead, name) != value]
        for name in differing:
            setattr(lead, name, profile[name])
        if differing:
            changed.append(lead)
            changed_fields.update(differing)
        else:
            report.unchanged += 1
    Lead.objects.bulk_create(new_leads, batch_size=len(new_leads) or 1)
    if changed:
        Lead.objects.bulk_update(changed, sorted(changed_fields))
    report.created += len(new_leads)
    report.updated += len(changed)

    if not consent_confirmed:
        return
    # bulk_create returns primary keys on PostgreSQL and SQLite; look them up to stay portable.
    leads = list(
        Lead.objects.filter(account=account).annotate(email_folded=Lower("email")).filter(email_folded__in=folded)
    )
    latest = _latest_consents([lead.pk for lead in leads])
    line_of = {email.lower(): line for line, email, _ in batch}
    records, accepted_ids = [], []
    for lead in leads:
        actions = {purpose: latest.get((lead.pk, purpose)) for purpose in ConsentPurpose.values}
        if ConsentAction.WITHDRAWN in actions.values():
            report.rejected.append(
                RejectedRow(line_of[lead.email_folded], lead.email, "consent not recorded: the lead withdrew consent")
            )
            continue
        for purpose, action in actions.items():
            if action != ConsentAction.GRANTED:
                records.append(
                    ConsentRecord(
                        account=account,
                        lead=lead,
                        purpose=purpose,
                        action=ConsentAction.GRANTED,
                        source=ConsentSource.CONFIRMED_IMPORT,
                        email_digest=consent_email_digest(account_id=account.pk, email=lead.email),
                        notice_version=NOTICE_VERSION,
                        notice_text=IMPORT_NOTICE_TEXT,
                        actor=operator,
                        created_at=now,
                    )
                )
        if gdpr_transition_allowed(
            current=lead.gdpr_status, new=GdprStatus.ACCEPTED, via=GdprEvidence.CONFIRMED_IMPORT
        ):
            accepted_ids.append(lead.pk)
    ConsentRecord.objects.bulk_create(records, batch_size=1000)
    Lead.objects.filter(pk__in=accepted_ids).update(
        gdpr_status=GdprStatus.ACCEPTED, gdpr_status_date=now, gdpr_status_ip=None
    )
    report.consents_recorded += len(records)


def leads_import(
    *,
    account: Account,
    rows: Iterable[tuple[int, dict[str, str]]],
    consent_confirmed: bool = False,
    operator: User | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import (line number, row) pairs into the account. Returns what happened, rejected rows included."""
    if consent_confirmed and operator is None:
        raise ApplicationError("A confirmed-consent import needs the operator who confirms it.", code="no_operator")
    report = ImportReport()
    seen: dict[str, int] = {}
    for chunk in _chunks(rows, batch_size):
        batch = []
        for line, raw in chunk:
            try:
                email, profile = _clean_row(raw)
            except ValidationError as error:
                report.rejected.append(RejectedRow(line, (raw.get("email") or "").strip(), " ".join(error.messages)))
                continue
            first_line = seen.setdefault(email.lower(), line)
            if first_line != line:
                report.rejected.append(RejectedRow(line, email, f"duplicate of line {first_line}"))
                continue
            batch.append((line, email, profile))
        if batch:
            _import_batch(
                account=account, batch=batch, consent_confirmed=consent_confirmed, operator=operator, report=report
            )
        if progress:
            progress(len(chunk))
    return report


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
