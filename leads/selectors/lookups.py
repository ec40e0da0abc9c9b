"""Lookups scoped to an account: a lead by id or email, an asset by id or name, its parts,
transactions and recurring subscriptions."""

from functools import cache
from typing import Any, TypeVar

from django.db import models

from accounts.models import Account
from kartra_integrations.errors import NotFound
from kartra_integrations.limits import ascii_int
from kartra_integrations.prepared import PreparedQuery
from leads.models import (
    Asset,
    CalendarClass,
    Lead,
    LeadSource,
    Membership,
    MembershipLevel,
    PricePoint,
    Product,
    RecurringSubscription,
    Transaction,
)

LEAD_NOT_FOUND = "No lead found"

A = TypeVar("A", bound=Asset)


def _as_id(ref: Any) -> int | None:
    """An id given as a number or ASCII digits, within the bigint range; None otherwise (not found)."""
    return ascii_int(ref)


def lead_get(
    *, account: Account, id: int | str | None = None, email: str | None = None, test_mode: bool = False
) -> Lead:
    """The account's lead by id or by email (case-insensitive); NotFound "No lead found" otherwise,
    including for another account's lead. The lead's `.account` is the caller's `account` object
    (already loaded, with its owner when the caller loaded it so), not a second copy joined in."""
    lookup = lead_lookup(account_id=account.pk, id=id, email=email, test_mode=test_mode)
    lead = lookup[0].get(**lookup[1]) if lookup is not None else None
    if lead is None:
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    lead.account = account
    return lead


def lead_lookup(
    *, account_id: int, id: int | str | None = None, email: str | None = None, test_mode: bool = False
) -> tuple[PreparedQuery[Lead], dict[str, Any]] | None:
    """The prepared query that finds the lead a call names, with its values (None: it names none).
    The id wins over the email; with `test_mode` (a developer app in test mode) only a lead test
    mode created (source api_test, never emailed) is found."""
    if id is not None:
        lead_id = _as_id(id)
        if lead_id is None:
            return None
        return _lead_by("pk", test_mode), {"account_id": account_id, "value": lead_id}
    if email:
        return _lead_by("email", test_mode), {"account_id": account_id, "value": email.strip().lower()}
    return None


@cache
def _lead_by(key: str, test_mode: bool) -> PreparedQuery[Lead]:
    # Nearly every API call looks up a lead: compiled once per process.
    def build(account_id: int, value: Any) -> models.QuerySet[Lead]:
        leads = Lead.objects.filter(account_id=account_id)
        if test_mode:
            leads = leads.filter(source=LeadSource.API_TEST)
        return leads.with_email(value) if key == "email" else leads.filter(pk=value)

    return PreparedQuery(build, account_id=-424242101, value="{email}" if key == "email" else -424242102)


def asset_resolve(*, account: Account, model: type[A], ref: int | str) -> A:
    """The account's asset of this kind by id or exact name. A numeric string is tried as an id, then as
    a name. Another account's asset is reported exactly like a missing one."""
    for query, values in asset_lookups(account_id=account.pk, model=model, ref=ref):
        asset = query.get(**values)
        if asset is not None:
            return asset
    raise asset_not_found(model, ref)


def asset_lookups(*, account_id: int, model: type[A], ref: int | str) -> list[tuple[PreparedQuery[A], dict[str, Any]]]:
    """The prepared queries that may find the asset `ref` names, in the order they are tried: by id
    (a number or ASCII digits), then by exact name (a string)."""
    lookups: list[tuple[PreparedQuery[A], dict[str, Any]]] = []
    asset_id = _as_id(ref)
    if asset_id is not None:
        lookups.append((_asset_by(model, "pk"), {"account_id": account_id, "value": asset_id}))
    if isinstance(ref, str) and ref.strip():
        lookups.append((_asset_by(model, "name"), {"account_id": account_id, "value": ref.strip()}))
    return lookups


def asset_not_found(model: type[Asset], ref: int | str) -> NotFound:
    return NotFound(f'{model.kind_label()} "{ref}" does not exist', code=f"{model.kind}_not_found")


@cache
def _asset_by(model: type[A], field: str) -> PreparedQuery[A]:
    # Actions resolve an asset on nearly every call: one compiled lookup per kind and key (both unique).
    return PreparedQuery(
        lambda account_id, value: model._default_manager.filter(account_id=account_id, **{field: value}),
        account_id=-424242201,
        value=-424242202 if field == "pk" else "{value}",
    )


def _child_resolve(queryset: models.QuerySet, *, ref: int | str, label: str, code: str, name_field: str = "name"):
    found = None
    child_id = _as_id(ref)
    if child_id is not None:
        found = queryset.filter(pk=child_id).first()
    if found is None and isinstance(ref, str) and ref.strip():
        found = queryset.filter(**{name_field: ref.strip()}).first()
    if found is None:
        raise NotFound(f'{label} "{ref}" does not exist', code=code)
    return found


def calendar_class_resolve(*, calendar, ref: int | str) -> CalendarClass:
    return _child_resolve(
        calendar.classes.select_related("calendar"),
        ref=ref,
        label="Calendar class",
        code="calendar_class_not_found",
    )


def membership_level_resolve(*, membership: Membership, ref: int | str) -> MembershipLevel:
    return _child_resolve(
        membership.levels.select_related("membership"),
        ref=ref,
        label="Membership level",
        code="membership_level_not_found",
    )


def price_point_resolve(*, product: Product, number: int | str) -> PricePoint:
    """A product's price point by its number (1..n)."""
    price_point = None
    wanted = _as_id(number)
    if wanted is not None:
        price_point = (
            product.price_points.select_related("product", "membership_level__membership").filter(number=wanted).first()
        )
    if price_point is None:
        raise NotFound(f'Price point "{number}" does not exist', code="price_point_not_found")
    return price_point


def price_point_get(*, account: Account, id: int | str, product_id: int | None = None) -> PricePoint:
    """The account's price point by its id (`price_point_id`: unique across products, unlike the
    number within a product), within `product_id` when given. Another account's is reported
    exactly like a missing one."""
    wanted = _as_id(id)
    found = None
    if wanted is not None:
        points = PricePoint.objects.filter(product__account=account, pk=wanted).select_related("product")
        if product_id is not None:
            points = points.filter(product_id=product_id)
        found = points.first()
    if found is None:
        raise NotFound(f'Price point "{id}" does not exist', code="price_point_not_found")
    return found


def transaction_get(*, account: Account, id: int | str) -> Transaction:
    txn_id = _as_id(id)
    txn = (
        Transaction.objects.filter(account=account, pk=txn_id).select_related("lead", "product", "price_point").first()
        if txn_id is not None
        else None
    )
    if txn is None:
        raise NotFound(f'Transaction "{id}" does not exist', code="transaction_not_found")
    return txn


def recurring_subscription_get(*, account: Account, id: int | str) -> RecurringSubscription:
    subscription_id = _as_id(id)
    subscription = (
        RecurringSubscription.objects.filter(lead__account=account, pk=subscription_id).first()
        if subscription_id is not None
        else None
    )
    if subscription is None:
        raise NotFound(f'Subscription "{id}" does not exist', code="subscription_not_found")
    return subscription


def transaction_list(
    *, account: Account, id: int | None = None, lead_email: str | None = None, kind: str | None = None
) -> models.QuerySet:
    """The account's transactions, newest first, optionally by id, by the lead's email
    (case-insensitive) and by kind; with each sale's recurring subscription, if any."""
    transactions = Transaction.objects.filter(account=account).select_related(
        "lead", "product", "price_point", "recurring_subscription"
    )
    if id is not None:
        transactions = transactions.filter(pk=id)
    if lead_email:
        transactions = transactions.filter(lead__in=Lead.objects.filter(account=account).with_email(lead_email))
    if kind:
        transactions = transactions.filter(kind=kind)
    return transactions.order_by("-created_at", "-id")


def subscription_list(
    *, account: Account, id: int | None = None, lead_email: str | None = None, status: str | None = None
) -> models.QuerySet:
    """The account's recurring subscriptions, newest first, optionally by id, by the lead's email
    (case-insensitive) and by status."""
    subscriptions = RecurringSubscription.objects.filter(lead__account=account).select_related(
        "lead", "sale__product", "sale__price_point"
    )
    if id is not None:
        subscriptions = subscriptions.filter(pk=id)
    if lead_email:
        subscriptions = subscriptions.filter(lead__in=Lead.objects.filter(account=account).with_email(lead_email))
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions.order_by("-created_at", "-id")
