"""Every write to the lead database. One change = one service call = one transaction.

Each service writes its lead event (leads.models.LeadEvent) in the same transaction through
`lead_event_write`, and writes none when the change changes nothing. Services are nestable
(plain `transaction.atomic`) so the hosted form and checkout (issue 7) can compose several in one
transaction; the beat-job entry points are durable.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Sum, prefetch_related_objects
from django.utils import timezone

from accounts.models import Account, User
from kartra_integrations.errors import ApplicationError, NotFound
from kartra_integrations.limits import MONEY_MAX, SCORE_MAX, ascii_int
from kartra_integrations.prepared import insert, insert_if_absent

from .models import (
    ASSET_MODELS,
    GDPR_FIELD_NAMES,
    LEAD_PROFILE_FIELDS,
    Asset,
    Calendar,
    CalendarBooking,
    CalendarClass,
    CustomField,
    CustomFieldOption,
    CustomFieldType,
    Form,
    GdprEvidence,
    GdprSettingChange,
    GdprStatus,
    Lead,
    LeadAction,
    LeadActivity,
    LeadCustomFieldValue,
    LeadEvent,
    LeadList,
    LeadSource,
    LeadTag,
    ListSubscription,
    Membership,
    MembershipAccess,
    MembershipLevel,
    Page,
    PartnerSignup,
    PointsChange,
    PricePoint,
    Product,
    RecurringSubscription,
    Sequence,
    SequenceStep,
    SequenceSubscription,
    SplitTestLink,
    Tag,
    TrackingLink,
    Transaction,
    Video,
    gdpr_transition_allowed,
    iso_utc,
)
from .outbox import events_committed
from .selectors import asset_resolve

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
# The outbox


def lead_event_write(*, lead: Lead, action: LeadAction, details: dict) -> LeadEvent:
    """Append one lead event; call only inside the transaction of the change it records.

    Events are born here, or with their change in one statement by _insert_with_event. After commit,
    hook delivery is woken to relay it at once; were that wake-up lost, the relay's sweep finds the
    event in this table all the same.
    """
    event = _lead_event(lead=lead, action=action, details=details)
    insert(event)
    _lead_event_written(event)
    return event


def _lead_event(*, lead: Lead, action: LeadAction, details: dict) -> LeadEvent:
    return LeadEvent(account_id=lead.account_id, lead=lead, action=action, details=details)


def _lead_event_written(event: LeadEvent) -> None:
    _events_collected_note(event)
    _events_committed_once()


def _insert_with_event(row: models.Model, *, lead: Lead, action: LeadAction, details: dict) -> bool:
    """Insert `row` unless present and, only if it was, its lead event: True when inserted.

    One statement on PostgreSQL: outside a transaction it is atomic by itself and commits without
    BEGIN and COMMIT round trips (an API call that changes one row pays one round trip, not four)."""
    event = _lead_event(lead=lead, action=action, details=details)
    inserted = insert_if_absent(row, then=event)
    if inserted:
        _lead_event_written(event)
    return inserted


def _events_committed_once() -> None:
    """One wake-up per transaction however many events it writes (an import writes thousands, and
    each wake-up is a Redis round-trip, or a Celery message when no dispatcher runs).

    Django drops the callbacks of a savepoint that rolls back, so one still registered will run
    unless a savepoint that is open now rolls back, and every open savepoint encloses the event
    being written now: it would roll back too."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is events_committed for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(events_committed)


def lead_events_relayed_mark(*, event_ids: list, at: datetime) -> int:
    """The hook relay has handed these events on. Runs in the relay's transaction (it locked the rows)."""
    return LeadEvent.objects.filter(pk__in=event_ids, relayed_at__isnull=True).update(relayed_at=at)


# action_details documents (reference section 5), built when the event is written


def _tag_details(tag: Tag) -> dict:
    return {"tag": {"tag_id": tag.pk, "tag_name": tag.name}}


def _list_details(lead_list: LeadList) -> dict:
    return {"list": {"list_id": lead_list.pk, "list_name": lead_list.name}}


def _sequence_details(sequence: Sequence) -> dict:
    return {"sequence": {"sequence_id": sequence.pk, "sequence_name": sequence.name}}


def _membership_details(level: MembershipLevel) -> dict:
    membership = level.membership
    return {
        "membership": {
            "membership_id": membership.pk,
            "membership_name": membership.name,
            "level_id": level.pk,
            "level_name": level.name,
        }
    }


def _product_details(product: Product) -> dict:
    return {"product": {"product_id": product.pk, "product_name": product.name, "official_product_name": product.name}}


def _transaction_details(txn: Transaction, *, lead: Lead, subscription_id: int | None = None) -> dict:
    """`transaction_internal_subscription_id` (the platform's IPN name) is what cancel_transaction takes:
    a Zap gets it from the purchase of a recurring price point."""
    return {
        "transaction_details": {
            "transaction_id": txn.pk,
            "transaction_type": txn.kind,
            "transaction_parent_id": txn.parent_id,
            "transaction_date": iso_utc(txn.created_at),
            "lead_id": lead.pk,
            "lead_first_name": lead.first_name,
            "lead_last_name": lead.last_name,
            "lead_email": lead.email,
            "lead_username": lead.email,
            "product_id": txn.product_id,
            "product_name": txn.product.name,
            "product_price_point": txn.price_point.number,
            "price_point_id": txn.price_point_id,
            "transaction_quantity": txn.quantity,
            "transaction_full_amount": str(txn.amount),
            "transaction_currency": txn.currency,
            "transaction_internal_subscription_id": subscription_id,
            "transaction_test": txn.test,
        }
    }


def _form_details(form: Form) -> dict:
    return {"form": {"form_id": form.pk, "form_name": form.name}}


def _score_details(*, points: int, previous_peak: int, new_peak: int) -> dict:
    return {"points": points, "previous_peak": previous_peak, "new_peak": new_peak}


def _video_details(video: Video) -> dict:
    return {"video": {"video_id": video.pk, "video_name": video.name}}


def _kartra_page_details(page: Page) -> dict:
    return {"kartra_page": {"kartra_page_id": page.pk, "kartra_page_name": page.name}}


def _external_page_details(url: str) -> dict:
    return {"external_page": {"url": url}}


def _tracking_link_details(tracking_link: TrackingLink) -> dict:
    return {
        "tracking_link": {
            "tracking_link_id": tracking_link.pk,
            "tracking_link_name": tracking_link.name,
            "target_url": tracking_link.target_url,
        }
    }


def _split_test_link_details(split_test_link: SplitTestLink) -> dict:
    return {
        "page_split_test_link": {
            "page_split_test_link_id": split_test_link.pk,
            "page_split_test_link_name": split_test_link.name,
        }
    }


def _calendar_details(booking: CalendarBooking, *, lead: Lead) -> dict:
    calendar_class = booking.calendar_class
    calendar = calendar_class.calendar
    account = lead.account
    owner = account.owner
    return {
        "calendar": {
            "calendar_id": calendar.pk,
            "calendar_name": calendar.name,
            "class_id": calendar_class.pk,
            "class_name": calendar_class.name,
            "hosts": [
                {
                    "host_first_name": owner.first_name,
                    "host_last_name": owner.last_name,
                    "host_email_address": owner.email,
                }
            ],
            "vendor_timezone": account.timezone,
            "calendar_subscription_id": booking.pk,
            "starts_at": iso_utc(booking.starts_at),
            "ends_at": iso_utc(booking.ends_at),
        }
    }


_TAG_EVENTS = (LeadAction.ASSIGN_TAG, LeadAction.UNASSIGN_TAG)
_LIST_EVENTS = (LeadAction.LIST_SUBSCRIPTION, LeadAction.LIST_UNSUBSCRIPTION)
_SEQUENCE_EVENTS = (
    LeadAction.SEQUENCE_SUBSCRIPTION,
    LeadAction.SEQUENCE_UNSUBSCRIPTION,
    LeadAction.SEQUENCE_COMPLETION,
)
_TRANSACTION_EVENTS = (
    LeadAction.BUY_PRODUCT,
    LeadAction.REFUND_PRODUCT,
    LeadAction.PARTIAL_REFUND_PRODUCT,
    LeadAction.CANCEL_SUBSCRIPTION,
)
_CALENDAR_EVENTS = (LeadAction.CALENDAR_SUBSCRIBE, LeadAction.CALENDAR_COMPLETE, LeadAction.CALENDAR_CANCEL)


def action_details_build(*, action: str, **objects: Any) -> dict:
    """The action_details document of an event of `action`, from the objects its service works on:
    the same builders the services write real events with, for whatever needs the shape without
    writing an event (zaphooks.samples: the hook samples and the Zapier app's static samples).

    Objects by event: tag; lead_list; form; sequence; tracking_link; video; points, previous_peak,
    new_peak; product; level (with its membership); transaction, lead, subscription_id; booking
    (with its class and calendar), lead; page; url; split_test_link."""
    o = objects
    if action in _TAG_EVENTS:
        return _tag_details(o["tag"])
    if action in _LIST_EVENTS:
        return _list_details(o["lead_list"])
    if action in _SEQUENCE_EVENTS:
        return _sequence_details(o["sequence"])
    if action in _TRANSACTION_EVENTS:
        return _transaction_details(o["transaction"], lead=o["lead"], subscription_id=o.get("subscription_id"))
    if action in _CALENDAR_EVENTS:
        return _calendar_details(o["booking"], lead=o["lead"])
    builders = {
        LeadAction.FILLED_FORM: lambda: _form_details(o["form"]),
        LeadAction.TRACKING_LINK_CLICK: lambda: _tracking_link_details(o["tracking_link"]),
        LeadAction.VIDEO_PLAY: lambda: _video_details(o["video"]),
        LeadAction.VIDEO_COMPLETE: lambda: _video_details(o["video"]),
        LeadAction.REACHES_SCORE: lambda: _score_details(
            points=o["points"], previous_peak=o["previous_peak"], new_peak=o["new_peak"]
        ),
        LeadAction.AFFILIATE_SIGNUP: lambda: _product_details(o["product"]),
        LeadAction.JV_SIGNUP: lambda: _product_details(o["product"]),
        LeadAction.MEMBERSHIP_GRANTED: lambda: _membership_details(o["level"]),
        LeadAction.MEMBERSHIP_REVOKED: lambda: _membership_details(o["level"]),
        LeadAction.KARTRA_PAGE_VISIT: lambda: _kartra_page_details(o["page"]),
        LeadAction.EXTERNAL_PAGE_VISIT: lambda: _external_page_details(o["url"]),
        LeadAction.CLICK_PAGE_SPLIT_TEST_LINK: lambda: _split_test_link_details(o["split_test_link"]),
    }
    if action not in builders:
        raise ValueError(f"Unknown lead event action: {action}")
    return builders[action]()


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
        with transaction.atomic():
            lead.save(update_fields=update_fields)
    except IntegrityError:
        raise _field_error(field, LEAD_EXISTS_MESSAGE, code="lead_exists") from None


def lead_create(
    *,
    account: Account,
    email: str,
    source: LeadSource = LeadSource.API,
    custom_fields: dict[str, Any] | None = None,
    **profile: Any,
) -> Lead:
    """Create a lead. Its GDPR status is unknown when the account has GDPR on, off otherwise:
    a lead created here (API, import, owner) is never accepted, whatever its address or IP."""
    _check_profile_fields(profile)
    email = _clean_email(email)
    now = timezone.now()
    lead = Lead(
        account=account,
        email=email,
        source=source,
        date_joined=now,
        gdpr_status=GdprStatus.UNKNOWN if account.gdpr_enabled else GdprStatus.OFF,
        gdpr_status_date=now,
        **{name: _profile_value(name, value) for name, value in profile.items()},
    )
    _full_clean_lead(lead)
    # A lone INSERT is atomic by itself (no BEGIN and COMMIT round trips); with custom fields, the
    # lead and its values commit together.
    with transaction.atomic() if custom_fields else nullcontext():
        # The per-account email constraint decides, in the insert itself: no look first, no race.
        if not insert_if_absent(lead):
            raise _field_error("email", LEAD_EXISTS_MESSAGE, code="lead_exists")
        if custom_fields:
            _custom_fields_write(lead=lead, values=custom_fields, new_lead=True)
    return lead


@transaction.atomic
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


@transaction.atomic
def lead_blacklist_set(*, lead: Lead, blacklisted: bool) -> Lead:
    if lead.blacklisted != blacklisted:
        lead.blacklisted = blacklisted
        lead.save(update_fields=["blacklisted"])
    return lead


@transaction.atomic
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


@transaction.atomic
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


@transaction.atomic
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
        if len(options) < 2 or any(not option for option in options):
            raise _field_error("options", "Give two or more non-empty options.")
        if len({option.lower() for option in options}) != len(options):
            raise _field_error("options", "Options must be different.")
    elif options:
        raise _field_error("options", "Only drop-down, radio button and checkbox fields have options.")
    if CustomField.objects.filter(account=account, identifier=field.identifier).exists():
        raise _field_error("identifier", f'A custom field "{field.identifier}" already exists.', code="name_taken")
    try:
        with transaction.atomic():
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
# Assets


def _save_asset(asset: models.Model, *, update_fields: list[str] | None = None) -> None:
    try:
        asset.full_clean(exclude=["account"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    label = asset._meta.verbose_name.capitalize()
    taken = type(asset).objects.filter(account_id=asset.account_id, name=asset.name).exclude(pk=asset.pk)
    message = f'{label} "{asset.name}" already exists.'
    if taken.exists():
        raise _field_error("name", message, code="name_taken")
    try:
        with transaction.atomic():
            asset.save(update_fields=update_fields)
    except IntegrityError:
        raise _field_error("name", message, code="name_taken") from None


def _check_asset_model(model: type[Asset]) -> None:
    if model not in ASSET_MODELS:
        raise TypeError(f"{model!r} is not an asset model")


@transaction.atomic
def asset_create(*, account: Account, model: type[Asset], name: str, **fields: Any) -> Asset:
    """Create a tag, list, sequence, page, video, tracking link, split-test link, calendar, membership
    or product (forms: form_create). Names are unique per account and kind."""
    _check_asset_model(model)
    asset = model(account=account, name=(name or "").strip(), **fields)
    _save_asset(asset)
    return asset


def asset_get_or_create(
    *, account: Account, model: type[Asset], ref: int | str, create_if_missing: bool = False
) -> Asset:
    """The account's asset by id or exact name (leads.selectors.asset_resolve); with
    create_if_missing, a name that matches none is created in the caller's transaction (an id is
    never invented: a number given as a number still answers "does not exist")."""
    try:
        return asset_resolve(account=account, model=model, ref=ref)
    except NotFound:
        if not create_if_missing or not isinstance(ref, str) or not ref.strip():
            raise
    try:
        return asset_create(account=account, model=model, name=ref)
    except ApplicationError as error:
        if error.code != "name_taken":
            raise
        # Created by a concurrent request since the lookup: that one is the asset.
        return asset_resolve(account=account, model=model, ref=ref)


@transaction.atomic
def asset_update(*, asset: Asset, **fields: Any) -> Asset:
    for name, value in fields.items():
        setattr(asset, name, value.strip() if name == "name" and isinstance(value, str) else value)
    if fields:
        _save_asset(asset, update_fields=list(fields))
    return asset


def _same_account(account_id: int, items: Iterable[Asset], field: str) -> list[Asset]:
    items = list(items)
    if any(item.account_id != account_id for item in items):
        raise _field_error(field, "Choose lists and tags of this account.")
    return items


@transaction.atomic
def form_create(
    *,
    account: Account,
    name: str,
    lists: Iterable[LeadList] = (),
    tags: Iterable[Tag] = (),
    double_opt_in: bool = False,
) -> Form:
    lists = _same_account(account.pk, lists, "lists")
    tags = _same_account(account.pk, tags, "tags")
    form = Form(account=account, name=(name or "").strip(), double_opt_in=double_opt_in)
    _save_asset(form)
    form.lists.set(lists)
    form.tags.set(tags)
    return form


@transaction.atomic
def form_update(
    *,
    form: Form,
    name: str | None = None,
    lists: Iterable[LeadList] | None = None,
    tags: Iterable[Tag] | None = None,
    double_opt_in: bool | None = None,
) -> Form:
    if name is not None:
        asset_update(asset=form, name=name)
    if double_opt_in is not None and double_opt_in != form.double_opt_in:
        asset_update(asset=form, double_opt_in=double_opt_in)
    if lists is not None:
        form.lists.set(_same_account(form.account_id, lists, "lists"))
    if tags is not None:
        form.tags.set(_same_account(form.account_id, tags, "tags"))
    return form


@transaction.atomic
def sequence_step_create(
    *, sequence: Sequence, subject: str, body: str, delay: timedelta = timedelta(0)
) -> SequenceStep:
    """Append a step at the end of the sequence."""
    last = sequence.steps.aggregate(last=models.Max("position"))["last"] or 0
    step = SequenceStep(sequence=sequence, position=last + 1, subject=subject, body=body, delay=delay)
    try:
        step.full_clean(exclude=["sequence"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    step.save()
    return step


def _save_child(obj: models.Model, *, parent_field: str, message: str) -> None:
    try:
        obj.full_clean(exclude=[parent_field], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise _field_error("name", message, code="name_taken") from None


@transaction.atomic
def calendar_class_create(*, calendar: Calendar, name: str, duration: timedelta = timedelta(hours=1)) -> CalendarClass:
    calendar_class = CalendarClass(calendar=calendar, name=(name or "").strip(), duration=duration)
    _save_child(calendar_class, parent_field="calendar", message=f'Class "{calendar_class.name}" already exists.')
    return calendar_class


@transaction.atomic
def membership_level_create(*, membership: Membership, name: str) -> MembershipLevel:
    position = membership.levels.count() + 1
    level = MembershipLevel(membership=membership, name=(name or "").strip(), position=position)
    _save_child(level, parent_field="membership", message=f'Level "{level.name}" already exists.')
    return level


@transaction.atomic
def price_point_create(
    *,
    product: Product,
    amount: Decimal,
    currency: str = "USD",
    recurring: bool = False,
    membership_level: MembershipLevel | None = None,
) -> PricePoint:
    """Add price point number n+1 to the product, optionally granting a membership level on purchase."""
    if membership_level is not None and membership_level.membership.account_id != product.account_id:
        raise _field_error("membership_level", "Choose a membership level of this account.")
    number = (product.price_points.aggregate(last=models.Max("number"))["last"] or 0) + 1
    price_point = PricePoint(
        product=product,
        number=number,
        amount=Decimal(amount),
        currency=(currency or "").upper(),
        recurring=recurring,
        membership_level=membership_level,
    )
    _save_child(price_point, parent_field="product", message=f"Price point {number} already exists.")
    return price_point


# ---------------------------------------------------------------------------------------------
# Tags and lists


def _check_same_account(lead: Lead, asset: Asset) -> None:
    # Callers resolve assets with selectors.asset_resolve (account-scoped); this is the last guard.
    if asset.account_id != lead.account_id:
        label = asset._meta.verbose_name.capitalize()
        raise NotFound(f'{label} "{asset.name}" does not exist', code=f"{asset.kind}_not_found")


def lead_tag_assign(*, lead: Lead, tag: Tag) -> bool:
    """Give the lead the tag; True when it did not have it (only then is an event written)."""
    _check_same_account(lead, tag)
    return _insert_with_event(
        LeadTag(lead=lead, tag=tag), lead=lead, action=LeadAction.ASSIGN_TAG, details=_tag_details(tag)
    )


def lead_tag_assign_by_ref(*, lead: Lead, tag: int | str, create_if_missing: bool = False) -> Tag:
    """assign_tag by the tag's id or exact name; with create_if_missing a new name creates the tag in
    the same transaction as the assignment (a failed assignment leaves no tag behind). Without it,
    lead_tag_assign's own transaction is the only one (the API's query budget)."""
    with transaction.atomic() if create_if_missing else nullcontext():
        found = asset_get_or_create(account=lead.account, model=Tag, ref=tag, create_if_missing=create_if_missing)
        lead_tag_assign(lead=lead, tag=found)
    return found


@transaction.atomic
def lead_tag_unassign(*, lead: Lead, tag: Tag) -> bool:
    """Remove the tag; True when the lead had it."""
    _check_same_account(lead, tag)
    deleted, _ = LeadTag.objects.filter(lead=lead, tag=tag).delete()
    if deleted:
        lead_event_write(lead=lead, action=LeadAction.UNASSIGN_TAG, details=_tag_details(tag))
    return bool(deleted)


@transaction.atomic
def lead_list_subscribe(*, lead: Lead, lead_list: LeadList) -> ListSubscription:
    _check_same_account(lead, lead_list)
    now = timezone.now()
    subscription, created = ListSubscription.objects.get_or_create(
        lead=lead, list=lead_list, defaults={"subscribed_at": now}
    )
    if not created:
        updated = ListSubscription.objects.filter(
            pk=subscription.pk, status=ListSubscription.Status.UNSUBSCRIBED
        ).update(status=ListSubscription.Status.ACTIVE, subscribed_at=now, unsubscribed_at=None)
        if not updated:
            return subscription
        subscription.refresh_from_db()
    lead_event_write(lead=lead, action=LeadAction.LIST_SUBSCRIPTION, details=_list_details(lead_list))
    return subscription


def lead_list_subscribe_by_ref(*, lead: Lead, lead_list: int | str, create_if_missing: bool = False) -> LeadList:
    """subscribe_lead_to_list by the list's id or exact name; with create_if_missing a new name creates
    the list in the same transaction as the subscription."""
    with transaction.atomic() if create_if_missing else nullcontext():
        found = asset_get_or_create(
            account=lead.account, model=LeadList, ref=lead_list, create_if_missing=create_if_missing
        )
        lead_list_subscribe(lead=lead, lead_list=found)
    return found


@transaction.atomic
def lead_list_unsubscribe(*, lead: Lead, lead_list: LeadList) -> ListSubscription | None:
    """Unsubscribe; None (and no event) when the lead is not an active subscriber."""
    _check_same_account(lead, lead_list)
    updated = ListSubscription.objects.filter(lead=lead, list=lead_list, status=ListSubscription.Status.ACTIVE).update(
        status=ListSubscription.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    if not updated:
        return None
    lead_event_write(lead=lead, action=LeadAction.LIST_UNSUBSCRIPTION, details=_list_details(lead_list))
    return ListSubscription.objects.get(lead=lead, list=lead_list)


# ---------------------------------------------------------------------------------------------
# Points


def _points_apply(
    *, lead: Lead, delta: int, reason: str, expires_at: datetime | None, clamp: bool = False
) -> PointsChange:
    """The score is a bigint kept within ±SCORE_MAX (what Zapier's JavaScript reads exactly): a
    change past it is refused (400 on `points`), or, for `clamp` (expiry, which must not fail),
    stops at the bound."""
    locked = Lead.objects.select_for_update().only("score", "peak_score").get(pk=lead.pk)
    new_score = locked.score + delta
    if not -SCORE_MAX <= new_score <= SCORE_MAX:
        if not clamp:
            raise _field_error(
                "points",
                f"This would take the lead's score ({locked.score:,}) past {SCORE_MAX:,} either way.",
                code="score_out_of_range",
            )
        new_score = max(-SCORE_MAX, min(SCORE_MAX, new_score))
    change = PointsChange.objects.create(lead=lead, delta=delta, reason=reason, expires_at=expires_at)
    previous_peak = locked.peak_score
    new_peak = max(previous_peak, new_score)
    Lead.objects.filter(pk=lead.pk).update(score=new_score, peak_score=new_peak)
    lead.score, lead.peak_score = new_score, new_peak
    if new_peak > previous_peak:
        lead_event_write(
            lead=lead,
            action=LeadAction.REACHES_SCORE,
            details=_score_details(points=new_score, previous_peak=previous_peak, new_peak=new_peak),
        )
    return change


def _check_points(points: int) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise _field_error("points", "Give a whole number of points greater than zero.")


@transaction.atomic
def lead_points_give(*, lead: Lead, points: int, reason: str = "", expires_in_days: int | None = None) -> PointsChange:
    """Add points; writes reaches_score when the score passes the lead's highest score ever."""
    _check_points(points)
    expires_at = None
    if expires_in_days is not None:
        if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) or expires_in_days <= 0:
            raise _field_error("expires_in_days", "Give a whole number of days greater than zero.")
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    return _points_apply(lead=lead, delta=points, reason=reason[:200], expires_at=expires_at)


@transaction.atomic
def lead_points_remove(*, lead: Lead, points: int, reason: str = "") -> PointsChange:
    _check_points(points)
    return _points_apply(lead=lead, delta=-points, reason=reason[:200], expires_at=None)


@transaction.atomic(durable=True)
def points_expire_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Take back points whose expiry has passed (one reversing change each); returns how many."""
    now = now or timezone.now()
    due = list(
        PointsChange.objects.select_for_update(skip_locked=True)
        .filter(expired_at__isnull=True, expires_at__lte=now, delta__gt=0)
        .select_related("lead")[:limit]
    )
    for change in due:
        PointsChange.objects.filter(pk=change.pk).update(expired_at=now)
        reason = f"Expired: {change.reason}"[:200]
        _points_apply(lead=change.lead, delta=-change.delta, reason=reason, expires_at=None, clamp=True)
    return len(due)


# ---------------------------------------------------------------------------------------------
# Sequences


def _step_due_at(sequence: Sequence, position: int, *, after: datetime) -> datetime | None:
    step = SequenceStep.objects.filter(sequence=sequence, position=position).only("delay").first()
    return after + step.delay if step else None


@transaction.atomic
def lead_sequence_subscribe(*, lead: Lead, sequence: Sequence, step: int = 1) -> SequenceSubscription:
    """Put the lead on the sequence at `step`. Re-subscribing an active lead only moves its step."""
    _check_same_account(lead, sequence)
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise _field_error("step", "Give a step number of 1 or more.")
    now = timezone.now()
    due_at = _step_due_at(sequence, step, after=now)
    if due_at is None:
        raise _field_error("step", f'Sequence "{sequence.name}" has no step {step}.', code="sequence_step_not_found")
    subscription, created = SequenceSubscription.objects.select_for_update().get_or_create(
        lead=lead,
        sequence=sequence,
        defaults={"step": step, "next_step_due_at": due_at, "subscribed_at": now, "updated_at": now},
    )
    if created:
        lead_event_write(lead=lead, action=LeadAction.SEQUENCE_SUBSCRIPTION, details=_sequence_details(sequence))
        return subscription
    if subscription.status == SequenceSubscription.Status.ACTIVE:
        if subscription.step != step:
            subscription.step, subscription.next_step_due_at, subscription.updated_at = step, due_at, now
            subscription.save(update_fields=["step", "next_step_due_at", "updated_at"])
        return subscription
    subscription.status = SequenceSubscription.Status.ACTIVE
    subscription.step, subscription.next_step_due_at = step, due_at
    subscription.subscribed_at = subscription.updated_at = now
    subscription.save(update_fields=["status", "step", "next_step_due_at", "subscribed_at", "updated_at"])
    lead_event_write(lead=lead, action=LeadAction.SEQUENCE_SUBSCRIPTION, details=_sequence_details(sequence))
    return subscription


def _sequence_leave(*, lead: Lead, sequence: Sequence, status: str, action: LeadAction) -> SequenceSubscription | None:
    _check_same_account(lead, sequence)
    updated = SequenceSubscription.objects.filter(
        lead=lead, sequence=sequence, status=SequenceSubscription.Status.ACTIVE
    ).update(status=status, next_step_due_at=None, updated_at=timezone.now())
    if not updated:
        return None
    lead_event_write(lead=lead, action=action, details=_sequence_details(sequence))
    return SequenceSubscription.objects.get(lead=lead, sequence=sequence)


@transaction.atomic
def lead_sequence_unsubscribe(*, lead: Lead, sequence: Sequence) -> SequenceSubscription | None:
    """None (and no event) when the lead is not active on the sequence."""
    return _sequence_leave(
        lead=lead,
        sequence=sequence,
        status=SequenceSubscription.Status.UNSUBSCRIBED,
        action=LeadAction.SEQUENCE_UNSUBSCRIPTION,
    )


@transaction.atomic
def lead_sequence_complete(*, lead: Lead, sequence: Sequence) -> SequenceSubscription | None:
    """Called by the sequence engine (issue 7) after the last step; None when not active."""
    return _sequence_leave(
        lead=lead,
        sequence=sequence,
        status=SequenceSubscription.Status.COMPLETED,
        action=LeadAction.SEQUENCE_COMPLETION,
    )


# ---------------------------------------------------------------------------------------------
# Calendars


@transaction.atomic
def lead_calendar_subscribe(*, lead: Lead, calendar_class: CalendarClass, starts_at: datetime) -> CalendarBooking:
    """Book the lead on a class at starts_at (not in the past). Booking the same slot twice is a no-op."""
    calendar = calendar_class.calendar
    _check_same_account(lead, calendar)
    if timezone.is_naive(starts_at):
        raise _field_error("starts_at", "Give the start time with its time zone.")
    if starts_at < timezone.now():
        raise _field_error("starts_at", "The start time is in the past.", code="starts_at_in_past")
    existing = CalendarBooking.objects.filter(
        lead=lead, calendar_class=calendar_class, starts_at=starts_at, status=CalendarBooking.Status.REGISTERED
    ).first()
    if existing:
        return existing
    booking = CalendarBooking.objects.create(
        lead=lead, calendar_class=calendar_class, starts_at=starts_at, ends_at=starts_at + calendar_class.duration
    )
    lead_event_write(lead=lead, action=LeadAction.CALENDAR_SUBSCRIBE, details=_calendar_details(booking, lead=lead))
    return booking


@transaction.atomic
def lead_calendar_cancel(*, lead: Lead, calendar_class: CalendarClass) -> list[CalendarBooking]:
    """Cancel the lead's registered bookings of the class; one calendar_cancel event per booking."""
    _check_same_account(lead, calendar_class.calendar)
    bookings = list(
        CalendarBooking.objects.select_for_update()
        .filter(lead=lead, calendar_class=calendar_class, status=CalendarBooking.Status.REGISTERED)
        .select_related("calendar_class__calendar")
    )
    now = timezone.now()
    for booking in bookings:
        booking.status, booking.updated_at = CalendarBooking.Status.CANCELLED, now
        booking.save(update_fields=["status", "updated_at"])
        lead_event_write(lead=lead, action=LeadAction.CALENDAR_CANCEL, details=_calendar_details(booking, lead=lead))
    return bookings


@transaction.atomic
def lead_calendar_complete(*, booking: CalendarBooking) -> bool:
    """Mark a registered booking completed; True when it changed (so a re-run writes nothing)."""
    updated = CalendarBooking.objects.filter(pk=booking.pk, status=CalendarBooking.Status.REGISTERED).update(
        status=CalendarBooking.Status.COMPLETED, updated_at=timezone.now()
    )
    if not updated:
        return False
    booking.status = CalendarBooking.Status.COMPLETED
    lead = booking.lead
    lead_event_write(lead=lead, action=LeadAction.CALENDAR_COMPLETE, details=_calendar_details(booking, lead=lead))
    return True


def calendar_bookings_complete_ended(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Complete registered bookings whose class has ended (the beat job); returns how many."""
    now = now or timezone.now()
    booking_ids = list(
        CalendarBooking.objects.filter(status=CalendarBooking.Status.REGISTERED, ends_at__lte=now)
        .order_by("ends_at")
        .values_list("pk", flat=True)[:limit]
    )
    completed = 0
    for booking in CalendarBooking.objects.filter(pk__in=booking_ids).select_related(
        "lead__account__owner", "calendar_class__calendar"
    ):
        with transaction.atomic(durable=True):
            completed += lead_calendar_complete(booking=booking)
    return completed


# ---------------------------------------------------------------------------------------------
# Memberships


def _membership_grant(*, lead: Lead, level: MembershipLevel) -> MembershipAccess:
    membership = level.membership
    _check_same_account(lead, membership)
    now = timezone.now()
    access, created = MembershipAccess.objects.select_for_update().get_or_create(
        lead=lead, membership=membership, defaults={"level": level, "granted_at": now}
    )
    if not created:
        if access.status == MembershipAccess.Status.GRANTED and access.level_id == level.pk:
            return access
        access.level, access.status, access.granted_at, access.revoked_at = (
            level,
            MembershipAccess.Status.GRANTED,
            now,
            None,
        )
        access.save(update_fields=["level", "status", "granted_at", "revoked_at"])
    lead_event_write(lead=lead, action=LeadAction.MEMBERSHIP_GRANTED, details=_membership_details(level))
    return access


@transaction.atomic
def lead_membership_grant(*, lead: Lead, level: MembershipLevel) -> MembershipAccess:
    """Grant (or move to) a level of a membership; granting the level the lead holds is a no-op."""
    return _membership_grant(lead=lead, level=level)


@transaction.atomic
def lead_membership_revoke(*, lead: Lead, membership: Membership) -> MembershipAccess | None:
    """None (and no event) when the lead has no granted access to the membership."""
    _check_same_account(lead, membership)
    access = (
        MembershipAccess.objects.select_for_update()
        .select_related("level__membership")
        .filter(lead=lead, membership=membership, status=MembershipAccess.Status.GRANTED)
        .first()
    )
    if access is None:
        return None
    access.status, access.revoked_at = MembershipAccess.Status.REVOKED, timezone.now()
    access.save(update_fields=["status", "revoked_at"])
    lead_event_write(lead=lead, action=LeadAction.MEMBERSHIP_REVOKED, details=_membership_details(access.level))
    return access


# ---------------------------------------------------------------------------------------------
# Transactions


@transaction.atomic
def transaction_sale_record(
    *,
    lead: Lead,
    price_point: PricePoint,
    quantity: int = 1,
    amount: Decimal | None = None,
    test: bool = False,
) -> Transaction:
    """Record a sale of a product's price point: buy_product, the price point's membership level
    (membership_granted) and, for a recurring price point, an active recurring subscription.
    `test`: a test sale, no payment taken (the hosted checkout of a product in test mode)."""
    product = price_point.product
    _check_same_account(lead, product)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise _field_error("quantity", "Give a quantity of 1 or more.")
    computed = amount is None
    amount = price_point.amount * quantity if computed else Decimal(amount)
    if amount < 0:
        raise _field_error("amount", "The amount cannot be negative.")
    if amount > MONEY_MAX:
        message = f"The sale's amount ({amount:,}) is more than {MONEY_MAX:,}."
        raise _field_error("quantity" if computed else "amount", message)
    sale = Transaction.objects.create(
        account_id=lead.account_id,
        lead=lead,
        kind=Transaction.Kind.SALE,
        product=product,
        price_point=price_point,
        quantity=quantity,
        amount=amount,
        currency=price_point.currency,
        test=test,
    )
    subscription = RecurringSubscription.objects.create(lead=lead, sale=sale) if price_point.recurring else None
    details = _transaction_details(sale, lead=lead, subscription_id=subscription and subscription.pk)
    lead_event_write(lead=lead, action=LeadAction.BUY_PRODUCT, details=details)
    if price_point.membership_level_id:
        _membership_grant(lead=lead, level=price_point.membership_level)
    return sale


@transaction.atomic
def transaction_refund(*, sale: Transaction, amount: Decimal | None = None) -> Transaction:
    """Refund a sale in full (no amount, or the whole sale amount: refund_product) or in part
    (partial_refund_product). Never more than what is left, never twice in full."""
    sale = Transaction.objects.select_for_update().select_related("lead", "product", "price_point").get(pk=sale.pk)
    if sale.kind != Transaction.Kind.SALE:
        raise _field_error("transaction", "Only a sale can be refunded.", code="not_a_sale")
    refunded = sale.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    remaining = sale.amount - refunded
    if remaining <= 0:
        raise _field_error("transaction", "This sale has already been refunded in full.", code="already_refunded")
    amount = remaining if amount is None else Decimal(amount)
    if amount <= 0:
        raise _field_error("amount", "The refund amount must be greater than zero.")
    if amount > remaining:
        raise _field_error(
            "amount",
            f"The refund amount exceeds what is left to refund ({remaining}).",
            code="refund_exceeds_remaining",
        )
    full = refunded == 0 and amount == sale.amount
    refund = Transaction.objects.create(
        account_id=sale.account_id,
        lead=sale.lead,
        kind=Transaction.Kind.REFUND if full else Transaction.Kind.PARTIAL_REFUND,
        parent=sale,
        product=sale.product,
        price_point=sale.price_point,
        quantity=sale.quantity,
        amount=amount,
        currency=sale.currency,
        test=sale.test,
    )
    lead_event_write(
        lead=sale.lead,
        action=LeadAction.REFUND_PRODUCT if full else LeadAction.PARTIAL_REFUND_PRODUCT,
        details=_transaction_details(
            refund,
            lead=sale.lead,
            subscription_id=RecurringSubscription.objects.filter(sale=sale).values_list("pk", flat=True).first(),
        ),
    )
    return refund


@transaction.atomic
def subscription_cancel(*, subscription: RecurringSubscription, require_active: bool = False) -> RecurringSubscription:
    """Cancel an active recurring subscription (cancel_subscription); a cancelled one is left as it is,
    or, with require_active (the API's cancel_transaction), refused with 409 subscription_not_active."""
    now = timezone.now()
    updated = RecurringSubscription.objects.filter(
        pk=subscription.pk, status=RecurringSubscription.Status.ACTIVE
    ).update(status=RecurringSubscription.Status.CANCELLED, cancelled_at=now)
    if not updated and require_active:
        raise ApplicationError("This subscription is not active.", code="subscription_not_active", status_code=409)
    subscription.refresh_from_db()
    if updated:
        sale = Transaction.objects.select_related("lead", "product", "price_point").get(pk=subscription.sale_id)
        details = _transaction_details(sale, lead=sale.lead, subscription_id=subscription.pk)
        lead_event_write(lead=sale.lead, action=LeadAction.CANCEL_SUBSCRIPTION, details=details)
    return subscription


# ---------------------------------------------------------------------------------------------
# Affiliates and JV partners


def _partner_signup(*, lead: Lead, product: Product, kind: str, action: LeadAction) -> PartnerSignup:
    _check_same_account(lead, product)
    signup, created = PartnerSignup.objects.get_or_create(lead=lead, product=product, kind=kind)
    if created:
        lead_event_write(lead=lead, action=action, details=_product_details(product))
    return signup


@transaction.atomic
def lead_affiliate_signup(*, lead: Lead, product: Product) -> PartnerSignup:
    return _partner_signup(
        lead=lead, product=product, kind=PartnerSignup.Kind.AFFILIATE, action=LeadAction.AFFILIATE_SIGNUP
    )


@transaction.atomic
def lead_jv_signup(*, lead: Lead, product: Product) -> PartnerSignup:
    return _partner_signup(lead=lead, product=product, kind=PartnerSignup.Kind.JV, action=LeadAction.JV_SIGNUP)


# ---------------------------------------------------------------------------------------------
# Forms and activity


@transaction.atomic
def lead_form_filled(*, lead: Lead, form: Form) -> LeadEvent:
    """Record a form submission (filled_form) and apply the form's lists and tags (their events too)."""
    _check_same_account(lead, form)
    event = lead_event_write(lead=lead, action=LeadAction.FILLED_FORM, details=_form_details(form))
    for lead_list in form.lists.all():
        lead_list_subscribe(lead=lead, lead_list=lead_list)
    for tag in form.tags.all():
        lead_tag_assign(lead=lead, tag=tag)
    return event


def _activity(*, lead: Lead, kind: str, action: LeadAction, details: dict, **targets: Any) -> LeadActivity:
    activity = LeadActivity.objects.create(lead=lead, kind=kind, **targets)
    lead_event_write(lead=lead, action=action, details=details)
    return activity


@transaction.atomic
def lead_kartra_page_visit_record(*, lead: Lead, page: Page) -> LeadActivity:
    _check_same_account(lead, page)
    details = _kartra_page_details(page)
    return _activity(
        lead=lead, kind=LeadActivity.Kind.PAGE_VISIT, action=LeadAction.KARTRA_PAGE_VISIT, details=details, page=page
    )


@transaction.atomic
def lead_external_page_visit_record(*, lead: Lead, url: str) -> LeadActivity:
    activity = LeadActivity(lead=lead, kind=LeadActivity.Kind.EXTERNAL_PAGE_VISIT, url=(url or "").strip())
    try:
        activity.full_clean(exclude=["lead"])
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    activity.save()
    lead_event_write(lead=lead, action=LeadAction.EXTERNAL_PAGE_VISIT, details=_external_page_details(activity.url))
    return activity


def _video_activity(*, lead: Lead, video: Video, kind: str, action: LeadAction) -> LeadActivity:
    _check_same_account(lead, video)
    details = _video_details(video)
    return _activity(lead=lead, kind=kind, action=action, details=details, video=video)


@transaction.atomic
def lead_video_play_record(*, lead: Lead, video: Video) -> LeadActivity:
    return _video_activity(lead=lead, video=video, kind=LeadActivity.Kind.VIDEO_PLAY, action=LeadAction.VIDEO_PLAY)


@transaction.atomic
def lead_video_complete_record(*, lead: Lead, video: Video) -> LeadActivity:
    return _video_activity(
        lead=lead, video=video, kind=LeadActivity.Kind.VIDEO_COMPLETE, action=LeadAction.VIDEO_COMPLETE
    )


@transaction.atomic
def lead_tracking_link_click_record(*, lead: Lead, tracking_link: TrackingLink) -> LeadActivity:
    _check_same_account(lead, tracking_link)
    details = _tracking_link_details(tracking_link)
    return _activity(
        lead=lead,
        kind=LeadActivity.Kind.TRACKING_LINK_CLICK,
        action=LeadAction.TRACKING_LINK_CLICK,
        details=details,
        tracking_link=tracking_link,
    )


@transaction.atomic
def lead_split_test_link_click_record(*, lead: Lead, split_test_link: SplitTestLink) -> LeadActivity:
    _check_same_account(lead, split_test_link)
    details = _split_test_link_details(split_test_link)
    return _activity(
        lead=lead,
        kind=LeadActivity.Kind.SPLIT_TEST_LINK_CLICK,
        action=LeadAction.CLICK_PAGE_SPLIT_TEST_LINK,
        details=details,
        split_test_link=split_test_link,
    )


# ---------------------------------------------------------------------------------------------
# Which events a call wrote (the platform-events endpoint answers with their ids)

_collected_events: ContextVar[list[LeadEvent] | None] = ContextVar("collected_lead_events", default=None)


def _events_collected_note(event: LeadEvent) -> None:
    collected = _collected_events.get()
    if collected is not None:
        collected.append(event)


@contextmanager
def lead_events_collected() -> Iterator[list[LeadEvent]]:
    """Collect the lead events written inside the block (by lead_event_write), in order."""
    collected: list[LeadEvent] = []
    token = _collected_events.set(collected)
    try:
        yield collected
    finally:
        _collected_events.reset(token)


# ---------------------------------------------------------------------------------------------
# Owner pages: the account's GDPR setting and sequence step edits


@transaction.atomic(durable=True)
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


@transaction.atomic
def sequence_step_update(*, step: SequenceStep, subject: str, body: str, delay: timedelta) -> SequenceStep:
    step.subject, step.body, step.delay = subject, body, delay
    try:
        step.full_clean(exclude=["sequence"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    step.save(update_fields=["subject", "body", "delay"])
    return step
