"""Writes of the account's assets and their parts (sequence steps, calendar classes, membership
levels, price points, forms)."""

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models

from accounts.models import Account
from kartra_integrations.errors import ApplicationError, NotFound
from leads.models import (
    ASSET_MODELS,
    Asset,
    Calendar,
    CalendarClass,
    Form,
    LeadList,
    Membership,
    MembershipLevel,
    PricePoint,
    Product,
    Sequence,
    SequenceStep,
    Tag,
)
from leads.selectors import asset_resolve
from leads.services.leads import _field_error, _validation_error_to_application
from leads.services.transactions import lead_transaction

# ---------------------------------------------------------------------------------------------
# Assets

A = TypeVar("A", bound=Asset)


def _save_asset(asset: Asset, *, update_fields: list[str] | None = None) -> None:
    try:
        asset.full_clean(exclude=["account"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    label = asset.kind_label()
    taken = type(asset)._default_manager.filter(account_id=asset.account_id, name=asset.name).exclude(pk=asset.pk)
    message = f'{label} "{asset.name}" already exists.'
    if taken.exists():
        raise _field_error("name", message, code="name_taken")
    try:
        with lead_transaction():
            asset.save(update_fields=update_fields)
    except IntegrityError:
        raise _field_error("name", message, code="name_taken") from None


def _check_asset_model(model: type[Asset]) -> None:
    if model not in ASSET_MODELS:
        raise TypeError(f"{model!r} is not an asset model")


@lead_transaction
def asset_create(*, account: Account, model: type[A], name: str, **fields: Any) -> A:
    """Create a tag, list, sequence, page, video, tracking link, split-test link, calendar, membership
    or product (forms: form_create). Names are unique per account and kind."""
    _check_asset_model(model)
    asset = model(account=account, name=(name or "").strip(), **fields)
    _save_asset(asset)
    return asset


def asset_get_or_create(*, account: Account, model: type[A], ref: int | str, create_if_missing: bool = False) -> A:
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


@lead_transaction
def asset_update(*, asset: A, **fields: Any) -> A:
    for name, value in fields.items():
        setattr(asset, name, value.strip() if name == "name" and isinstance(value, str) else value)
    if fields:
        _save_asset(asset, update_fields=list(fields))
    return asset


def _same_account(account_id: int, items: Iterable[A], field: str) -> list[A]:
    checked = list(items)
    if any(item.account_id != account_id for item in checked):
        raise _field_error(field, "Choose lists and tags of this account.")
    return checked


@lead_transaction
def form_create(
    *,
    account: Account,
    name: str,
    lists: Iterable[LeadList] = (),
    tags: Iterable[Tag] = (),
    double_opt_in: bool = False,
) -> Form:
    checked_lists = _same_account(account.pk, lists, "lists")
    checked_tags = _same_account(account.pk, tags, "tags")
    form = Form(account=account, name=(name or "").strip(), double_opt_in=double_opt_in)
    _save_asset(form)
    form.lists.set(checked_lists)
    form.tags.set(checked_tags)
    return form


@lead_transaction
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


@lead_transaction
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
        with lead_transaction():
            obj.save()
    except IntegrityError:
        raise _field_error("name", message, code="name_taken") from None


@lead_transaction
def calendar_class_create(*, calendar: Calendar, name: str, duration: timedelta = timedelta(hours=1)) -> CalendarClass:
    calendar_class = CalendarClass(calendar=calendar, name=(name or "").strip(), duration=duration)
    _save_child(calendar_class, parent_field="calendar", message=f'Class "{calendar_class.name}" already exists.')
    return calendar_class


@lead_transaction
def membership_level_create(*, membership: Membership, name: str) -> MembershipLevel:
    position = membership.levels.count() + 1
    level = MembershipLevel(membership=membership, name=(name or "").strip(), position=position)
    _save_child(level, parent_field="membership", message=f'Level "{level.name}" already exists.')
    return level


@lead_transaction
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


@lead_transaction
def sequence_step_update(*, step: SequenceStep, subject: str, body: str, delay: timedelta) -> SequenceStep:
    step.subject, step.body, step.delay = subject, body, delay
    try:
        step.full_clean(exclude=["sequence"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise _validation_error_to_application(error) from None
    step.save(update_fields=["subject", "body", "delay"])
    return step
