"""Writes of a lead itself: create, update, blacklist, GDPR status, custom field values, the
account's custom fields and its GDPR setting."""

from collections.abc import Iterable
from contextlib import nullcontext
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection
from django.db.models import prefetch_related_objects
from django.utils import timezone

from accounts.models import Account, User
from kartra_integrations.errors import ApplicationError
from kartra_integrations.limits import ascii_int
from kartra_integrations.prepared import insert_if_absent, insert_if_absent_reading
from leads.models import (
    GDPR_FIELD_NAMES,
    LEAD_PROFILE_FIELDS,
    CustomField,
    CustomFieldOption,
    CustomFieldType,
    GdprEvidence,
    GdprSettingChange,
    GdprStatus,
    Lead,
    LeadCustomFieldValue,
    LeadSource,
    gdpr_transition_allowed,
)
from leads.selectors import lead_detail_rows_sql, lead_details, lead_document_from_rows
from leads.services.transactions import lead_transaction

GDPR_NOT_SETTABLE_MESSAGE = (
    "GDPR status cannot be set or changed here: GDPR consent is only given by the lead through a hosted "
    "opt-in or checkout form."
)


def _field_error(field: str, message: str, *, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]})


def _validation_error_to_application(error: ValidationError) -> ApplicationError:
    fields = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    first = next(iter(fields.values()))[0]
    return ApplicationError(first, code="invalid", fields=fields)


# ---------------------------------------------------------------------------------------------
# Leads


def _refuse_gdpr_fields(names: Iterable[str]) -> None:
    attempted = sorted(set(names) & GDPR_FIELD_NAMES)
    if attempted:
        raise ApplicationError(
            GDPR_NOT_SETTABLE_MESSAGE,
            code="gdpr_not_settable",
            fields={name: [GDPR_NOT_SETTABLE_MESSAGE] for name in attempted},
        )


def _check_profile_fields(profile: dict[str, Any]) -> None:
    _refuse_gdpr_fields(profile)
    unknown = sorted(set(profile) - set(LEAD_PROFILE_FIELDS))
    if unknown:
        raise ApplicationError(
            f"Unknown lead field: {', '.join(unknown)}",
            code="unknown_field",
            fields={name: ["Unknown lead field."] for name in unknown},
        )


def _profile_value(name: str, value: Any) -> Any:
    """Empty means blank text; an empty IP is no IP."""
    if name == "ip":
        return (value.strip() or None) if isinstance(value, str) else value
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def _clean_email(email: str, *, field: str = "email") -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise _field_error(field, "Enter a valid email address.", code="invalid_email") from None
    if len(email) > 254:
        raise _field_error(field, "Email address is too long.", code="invalid_email")
    return email


LEAD_EXISTS_MESSAGE = "A lead with this email already exists."


def _ensure_email_free(*, account_id: int, email: str, field: str, exclude_pk: int | None = None) -> None:
    taken = Lead.objects.filter(account_id=account_id).with_email(email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise _field_error(field, LEAD_EXISTS_MESSAGE, code="lead_exists")


def _full_clean_lead(lead: Lead) -> None:
    try:
        lead.full_clean(exclude=["account"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None


def _save_lead_unique(lead: Lead, *, field: str, update_fields: list[str] | None = None) -> None:
    """Save, turning a lost race on the per-account email constraint into the same field error."""
    try:
        with lead_transaction():
            lead.save(update_fields=update_fields)
    except IntegrityError:
        raise _field_error(field, LEAD_EXISTS_MESSAGE, code="lead_exists") from None


def new_lead_gdpr_status(*, account: Account) -> GdprStatus:
    """The one rule for a new lead's GDPR status, whatever creates it (API, hosted form, checkout,
    import, owner): unknown when the account has GDPR on, off otherwise. Only what the lead does
    afterwards (consent on a hosted page, an import whose operator confirms it) moves it on, along
    leads.models.GDPR_TRANSITIONS."""
    return GdprStatus.UNKNOWN if account.gdpr_enabled else GdprStatus.OFF


def lead_create(
    *,
    account: Account,
    email: str,
    source: LeadSource = LeadSource.API,
    custom_fields: dict[str, Any] | None = None,
    **profile: Any,
) -> Lead:
    """Create a lead. Its GDPR status is new_lead_gdpr_status's: a lead created here is never
    accepted, whatever its address or IP (a hosted page records the visitor's consent after)."""
    lead = _new_lead(account=account, email=email, source=source, profile=profile)
    # A lone INSERT is atomic by itself (no BEGIN and COMMIT round trips); with custom fields, the
    # lead and its values commit together.
    with lead_transaction() if custom_fields else nullcontext():
        # The per-account email constraint decides, in the insert itself: no look first, no race.
        if not insert_if_absent(lead):
            raise _lead_exists()
        if custom_fields:
            _custom_fields_write(lead=lead, values=custom_fields, new_lead=True)
    return lead


def lead_create_read(
    *,
    account: Account,
    email: str,
    source: LeadSource = LeadSource.API,
    custom_fields: dict[str, Any] | None = None,
    **profile: Any,
) -> tuple[Lead, dict]:
    """lead_create, answering with the lead's document too (what the API returns). Without custom
    fields, the insert and the document's read are one statement: one round trip."""
    if custom_fields or connection.vendor != "postgresql":  # the one statement is PostgreSQL's
        lead = lead_create(account=account, email=email, source=source, custom_fields=custom_fields, **profile)
        return lead, lead_details(lead)
    lead = _new_lead(account=account, email=email, source=source, profile=profile)
    rows = insert_if_absent_reading(
        lead, lambda lead_id: lead_detail_rows_sql(lead_id=lead_id), {"account_id": account.pk}
    )
    if rows is None:
        raise _lead_exists()
    return lead, lead_document_from_rows(lead, rows)


def _new_lead(*, account: Account, email: str, source: LeadSource, profile: dict[str, Any]) -> Lead:
    _check_profile_fields(profile)
    email = _clean_email(email)
    now = timezone.now()
    lead = Lead(
        account=account,
        email=email,
        source=source,
        date_joined=now,
        gdpr_status=new_lead_gdpr_status(account=account),
        gdpr_status_date=now,
        **{name: _profile_value(name, value) for name, value in profile.items()},
    )
    _full_clean_lead(lead)
    return lead


def _lead_exists() -> ApplicationError:
    return _field_error("email", LEAD_EXISTS_MESSAGE, code="lead_exists")


@lead_transaction
def lead_update(
    *,
    lead: Lead,
    new_email: str | None = None,
    custom_fields: dict[str, Any] | None = None,
    **profile: Any,
) -> Lead:
    """Edit a lead's profile (and email through new_email). GDPR status is left as it is."""
    _check_profile_fields(profile)
    changed: list[str] = []
    if new_email is not None:
        new_email = _clean_email(new_email, field="new_email")
        if new_email != lead.email:
            if new_email.lower() != lead.email.lower():
                _ensure_email_free(account_id=lead.account_id, email=new_email, field="new_email", exclude_pk=lead.pk)
            lead.email = new_email
            changed.append("email")
    for name, raw in profile.items():
        value = _profile_value(name, raw)
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.append(name)
    if changed:
        _full_clean_lead(lead)
        _save_lead_unique(lead, field="new_email", update_fields=changed)
    if custom_fields:
        _custom_fields_write(lead=lead, values=custom_fields, new_lead=False)
    return lead


@lead_transaction
def lead_blacklist_set(*, lead: Lead, blacklisted: bool) -> Lead:
    if lead.blacklisted != blacklisted:
        lead.blacklisted = blacklisted
        lead.save(update_fields=["blacklisted"])
    return lead


@lead_transaction
def lead_gdpr_status_set(
    *, lead: Lead, status: GdprStatus, ip: str | None, via: GdprEvidence, at: datetime | None = None
) -> bool:
    """Move the lead's GDPR status to `status` if `via` allows that move (models.GDPR_TRANSITIONS);
    otherwise leave it as it is. True when the status was recorded. Only consent capture (hosted
    opt-in form and checkout, double opt-in confirmation, confirmed import, owner-recorded withdrawal)
    calls this: the API and owner edits never do."""
    if status not in GdprStatus.values:
        raise _field_error("gdpr_status", f'"{status}" is not a GDPR status.')
    if not gdpr_transition_allowed(current=lead.gdpr_status, new=status, via=via):
        return False
    lead.gdpr_status = status
    lead.gdpr_status_ip = ip
    lead.gdpr_status_date = at or timezone.now()
    lead.save(update_fields=["gdpr_status", "gdpr_status_ip", "gdpr_status_date"])
    return True


# ---------------------------------------------------------------------------------------------
# Custom fields


def _option_id(raw: Any) -> int | None:
    return ascii_int(raw)


def _option_pick(options: dict[int, str], item: Any) -> tuple[int | None, str | None]:
    """(option id, error) for an option given by its id or by its name (exact, then ignoring case)."""
    option_id = _option_id(item)
    if option_id is not None and option_id in options:
        return option_id, None
    if isinstance(item, str) and item.strip():
        wanted = item.strip()
        for by_name in (lambda name: name == wanted, lambda name: name.casefold() == wanted.casefold()):
            found = [pk for pk, name in options.items() if by_name(name)]
            if found:
                return found[0], None
        if option_id is None:
            return None, f'Unknown option "{wanted[:200]}"; give an option id or its exact name.'
    if option_id is not None:
        return None, "Unknown option id."
    return None, "Give an option id or its exact name."


def _custom_field_value(field: CustomField, raw: Any) -> tuple[Any, str | None]:
    """(stored value or None to clear, error message or None). Options are given by id or by name."""
    if raw is None or raw == "" or raw == []:
        return None, None
    if not field.has_options:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
            return None, "Enter text."
        text = str(raw)
        limit = 255 if field.type == CustomFieldType.INPUT_FIELD else 10000
        if len(text) > limit:
            return None, f"Ensure this value has at most {limit} characters."
        return text, None
    options = {option.pk: option.value for option in field.options.all()}
    if field.type == CustomFieldType.CHECKBOX:
        if not isinstance(raw, list):
            return None, "Give a list of option ids or names."
        ids = []
        for item in raw:
            option_id, error = _option_pick(options, item)
            if error:
                return None, error
            ids.append(option_id)
        return sorted(set(ids)), None
    if isinstance(raw, list):
        return None, "Give one option id or name."
    option_id, error = _option_pick(options, raw)
    if error:
        return None, error
    return [option_id], None


@lead_transaction
def lead_custom_fields_set(*, lead: Lead, values: dict[str, Any]) -> Lead:
    """Set custom field values by identifier: a string for text fields, an option (id or name) for
    drop-down and radio, a list of options (ids or names) for checkbox; empty ("" / None / []) clears.
    All or nothing."""
    _custom_fields_write(lead=lead, values=values, new_lead=False)
    return lead


def _custom_fields_write(*, lead: Lead, values: dict[str, Any], new_lead: bool) -> None:
    """A constant number of queries whatever the number of values (the API's query budget): the
    fields, their options (only when an option field is given), one delete, one bulk insert."""
    _refuse_gdpr_fields(values)
    fields = {
        field.identifier: field
        for field in CustomField.objects.filter(account_id=lead.account_id, identifier__in=list(values))
    }
    option_fields = [field for field in fields.values() if field.has_options]
    if option_fields:
        prefetch_related_objects(option_fields, "options")
    errors: dict[str, list[str]] = {}
    cleaned: list[tuple[CustomField, Any]] = []
    for identifier, raw in values.items():
        field = fields.get(identifier)
        if field is None:
            errors[f"custom_fields.{identifier}"] = [f'Custom field "{identifier}" does not exist.']
            continue
        value, error = _custom_field_value(field, raw)
        if error:
            errors[f"custom_fields.{identifier}"] = [error]
        else:
            cleaned.append((field, value))
    if errors:
        first_key = next(iter(errors))
        raise ApplicationError(f"{first_key}: {errors[first_key][0]}", code="invalid_custom_field", fields=errors)
    if not new_lead:
        LeadCustomFieldValue.objects.filter(lead=lead, field__in=[field for field, _ in cleaned]).delete()
    LeadCustomFieldValue.objects.bulk_create(
        [LeadCustomFieldValue(lead=lead, field=field, value=value) for field, value in cleaned if value is not None]
    )


@lead_transaction
def custom_field_create(
    *, account: Account, identifier: str, type: CustomFieldType, options: Iterable[str] = ()
) -> CustomField:
    options = [str(option).strip() for option in options]
    field = CustomField(account=account, identifier=(identifier or "").strip(), type=type)
    try:
        field.full_clean(exclude=["account"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    if field.has_options:
        if any(not option for option in options):
            raise _field_error("options", "An option cannot be empty.", code="option_empty")
        if len(options) < 2:
            raise _field_error("options", "Give two or more options.", code="options_too_few")
        if len({option.lower() for option in options}) != len(options):
            raise _field_error("options", "Options must be different.")
    elif options:
        raise _field_error("options", "Only drop-down, radio button and checkbox fields have options.")
    if CustomField.objects.filter(account=account, identifier=field.identifier).exists():
        raise _field_error("identifier", f'A custom field "{field.identifier}" already exists.', code="name_taken")
    try:
        with lead_transaction():
            field.save()
    except IntegrityError:
        raise _field_error(
            "identifier", f'A custom field "{field.identifier}" already exists.', code="name_taken"
        ) from None
    CustomFieldOption.objects.bulk_create(
        [CustomFieldOption(field=field, value=value, position=position) for position, value in enumerate(options, 1)]
    )
    return field


# ---------------------------------------------------------------------------------------------
# Owner pages: the account's GDPR setting and sequence step edits


@lead_transaction(durable=True)
def account_gdpr_enabled_set(*, account: Account, enabled: bool, actor: User | None) -> Account:
    """Turn the account's GDPR setting on or off, and record who did (a GdprSettingChange) when it changes.

    Leads keep their recorded status: with GDPR on, the email gate (selectors.lead_can_receive_email)
    only lets through leads that are not subject or accepted. The account row is locked, so two saves
    at once record two true changes or one, never a change from a value it did not have.
    """
    current = Account.objects.select_for_update().values_list("gdpr_enabled", flat=True).get(pk=account.pk)
    account.gdpr_enabled = enabled
    if current != enabled:
        GdprSettingChange.objects.create(account=account, actor=actor, from_enabled=current, to_enabled=enabled)
        account.save(update_fields=["gdpr_enabled"])
    return account
