"""The one command registry: every write a front door can ask for by name.

A front door (the v1 actions `POST /api/v1/actions/{command}`, the platform events `POST
/api/v1/events`, and any later one) parses its own input into a plain dict and calls
`command_run(name=..., account=..., inputs=...)`. It gets back a CommandResult (the command's
success message, stated once here; the lead it acted on; the objects it wrote) or an
ApplicationError with a code, and renders either its own way. Only parsing and rendering differ.

Each command names its input:
- which lead: `lead_id` or `email` (`lead_id` wins), or a `lead` the front door already found;
  with `test_mode` (a developer app in test mode), only a lead test mode created (source api_test,
  never emailed), and create_lead creates such a lead;
- which assets: by id or exact name under the kind's key (leads.models.ASSET_KINDS: "tag", "list",
  "calendar" with its "class", ...), resolved inside the account by `CommandCall`, the one place
  that resolves references. A reference that names nothing raises ReferenceNotFound (a NotFound,
  404, that also says which input it was, for a front door that answers a field error instead);
- its scalar params (`points`, `step`, `amount`, ...).
It then calls the one service that owns the change (and its transaction and lead events).
"""

from typing import Any

from accounts.models import Account
from kartra_integrations.errors import ApplicationError, NotFound
from leads.models import (
    LEAD_PROFILE_FIELDS,
    CalendarBooking,
    CustomField,
    Form,
    Lead,
    LeadSource,
    Membership,
    Page,
    Product,
    RecurringSubscription,
    Sequence,
    SplitTestLink,
    TrackingLink,
    Video,
)
from leads.selectors import (
    LEAD_NOT_FOUND,
    lead_get,
)
from leads.services.activity import (
    lead_external_page_visit_record,
    lead_form_filled,
    lead_kartra_page_visit_record,
    lead_split_test_link_click_record,
    lead_tracking_link_click_record,
    lead_video_complete_record,
    lead_video_play_record,
)
from leads.services.command_call import Command, CommandCall, CommandResult, ReferenceNotFound
from leads.services.commerce import (
    lead_affiliate_signup,
    lead_jv_signup,
    lead_membership_grant,
    lead_membership_revoke,
    subscription_cancel,
    transaction_refund,
    transaction_sale_record,
)
from leads.services.engagement import (
    lead_calendar_cancel,
    lead_calendar_complete,
    lead_calendar_subscribe,
    lead_points_give,
    lead_points_remove,
    lead_sequence_complete,
    lead_sequence_subscribe,
    lead_sequence_unsubscribe,
)
from leads.services.leads import custom_field_create, lead_create_read, lead_update
from leads.services.links import (
    lead_list_subscribe_read,
    lead_list_unsubscribe_read,
    lead_tag_assign_read,
    lead_tag_unassign_read,
)

__all__ = ["COMMANDS", "Command", "CommandCall", "CommandResult", "ReferenceNotFound", "command_run"]


def _custom_field_values(call: CommandCall) -> dict[str, Any] | None:
    """The call's custom field values; with `ignore_unknown_custom_fields` (the platform's rule: an
    identifier the account has not defined is silently ignored), only those of defined fields."""
    values = call.inputs.get("custom_fields")
    if not values or not call.inputs.get("ignore_unknown_custom_fields"):
        return values
    known = set(
        CustomField.objects.filter(account=call.account, identifier__in=list(values)).values_list(
            "identifier", flat=True
        )
    )
    return {identifier: value for identifier, value in values.items() if identifier in known}


def _create_lead(call: CommandCall) -> dict:
    profile = {name: value for name, value in call.inputs.items() if name in LEAD_PROFILE_FIELDS}
    source = LeadSource.API_TEST if call.inputs.get("test_mode") else LeadSource.API
    lead, document = lead_create_read(
        account=call.account,
        email=call.inputs["email"],
        source=source,
        custom_fields=_custom_field_values(call),
        **profile,
    )
    return {"lead": lead, "document": document}


def _edit_lead(call: CommandCall) -> dict:
    profile = {name: value for name, value in call.inputs.items() if name in LEAD_PROFILE_FIELDS}
    lead = lead_update(
        lead=call.required_lead,
        new_email=call.inputs.get("new_email"),
        custom_fields=_custom_field_values(call),
        **profile,
    )
    return {"lead": lead}


def _assign_tag(call: CommandCall) -> dict:
    with call.reference("tag"):
        create = call.inputs.get("create_if_missing", False)
        lead, document = lead_tag_assign_read(
            account=call.account, **call.lead_named(), tag=call.inputs["tag"], create_if_missing=create
        )
    return {"lead": lead, "document": document}


def _unassign_tag(call: CommandCall) -> dict:
    with call.reference("tag"):
        lead, document = lead_tag_unassign_read(account=call.account, **call.lead_named(), tag=call.inputs["tag"])
    return {"lead": lead, "document": document}


def _subscribe_to_list(call: CommandCall) -> dict:
    with call.reference("list"):
        create = call.inputs.get("create_if_missing", False)
        lead, document = lead_list_subscribe_read(
            account=call.account, **call.lead_named(), lead_list=call.inputs["list"], create_if_missing=create
        )
    return {"lead": lead, "document": document}


def _unsubscribe_from_list(call: CommandCall) -> dict:
    with call.reference("list"):
        lead, document = lead_list_unsubscribe_read(
            account=call.account, **call.lead_named(), lead_list=call.inputs["list"]
        )
    return {"lead": lead, "document": document}


def _calendar_complete(call: CommandCall) -> None:
    """Complete the lead's earliest registered booking of the class (the one at starts_at when given).
    Reporting a completion again is a no-op; a class the lead never booked is refused."""
    calendar_class = call.calendar_class()
    bookings = CalendarBooking.objects.filter(lead=call.lead, calendar_class=calendar_class).select_related(
        "lead__account__owner", "calendar_class__calendar"
    )
    if call.inputs.get("starts_at") is not None:
        bookings = bookings.filter(starts_at=call.inputs["starts_at"])
    booking = bookings.filter(status=CalendarBooking.Status.REGISTERED).order_by("starts_at", "pk").first()
    if booking is not None:
        lead_calendar_complete(booking=booking)
        return
    if not bookings.filter(status=CalendarBooking.Status.COMPLETED).exists():
        message = f'The lead has no booking of class "{calendar_class.name}" to complete.'
        raise ApplicationError(message, code="booking_not_found", fields={"class": [message]})


def _calendar_cancel(call: CommandCall) -> None:
    """Cancel the lead's registered bookings of the class: none is a no-op, or with `require_booking`
    (the platform's rule) refused."""
    calendar_class = call.calendar_class()
    if not lead_calendar_cancel(lead=call.required_lead, calendar_class=calendar_class) and call.inputs.get(
        "require_booking"
    ):
        message = f'The lead has no active booking of class "{calendar_class.name}".'
        raise ApplicationError(message, code="booking_not_found", fields={"class": [message]})


def _buy_product(call: CommandCall) -> dict:
    sale = transaction_sale_record(
        lead=call.required_lead,
        price_point=call.price_point(),
        quantity=call.inputs.get("quantity", 1),
        amount=call.inputs.get("amount"),
    )
    return {"sale": sale}


def _cancel_subscription(call: CommandCall) -> None:
    """By subscription id, or every active recurring subscription of the lead for a product."""
    if call.inputs.get("subscription_id") is not None:
        subscription_cancel(subscription=call.subscription())
        return
    active = RecurringSubscription.objects.filter(
        lead=call.lead, sale__product=call.asset(Product), status=RecurringSubscription.Status.ACTIVE
    ).order_by("pk")
    for subscription in active:
        subscription_cancel(subscription=subscription)


def _cancel_transaction(call: CommandCall) -> dict:
    """By recurring subscription id, or by the sale (`transaction_id`) that started it."""
    subscription: RecurringSubscription | None
    if call.inputs.get("subscription_id") is not None:
        subscription = call.subscription()
    else:
        sale = call.sale()
        subscription = RecurringSubscription.objects.filter(sale=sale).first()
    if subscription is None:
        message = f'Transaction "{sale.pk}" is not linked to any recurring subscription.'
        raise ApplicationError(message, code="not_recurring", fields={"transaction_id": [message]})
    return {"subscription": subscription_cancel(subscription=subscription, require_active=True)}


_PROFILE_PARAMS = ("custom_fields", "ignore_unknown_custom_fields", *LEAD_PROFILE_FIELDS)

_COMMANDS = (
    Command(
        "create_lead", "Lead created", _create_lead, lead="none", params=("email", "test_mode", *_PROFILE_PARAMS)
    ),
    Command("edit_lead", "Lead edited", _edit_lead, params=("new_email", *_PROFILE_PARAMS)),
    Command(
        "assign_tag", "Tag added to lead", _assign_tag, assets=("tag",), params=("create_if_missing",), finds_lead=True
    ),
    Command("unassign_tag", "Tag removed from lead", _unassign_tag, assets=("tag",), finds_lead=True),
    Command(
        "subscribe_lead_to_list", "Lead subscribed to list", _subscribe_to_list,
        assets=("list",), params=("create_if_missing",), finds_lead=True,
    ),
    Command(
        "unsubscribe_lead_from_list", "Lead unsubscribed from list", _unsubscribe_from_list, assets=("list",),
        finds_lead=True,
    ),
    Command(
        "give_points_to_lead", "Points added to lead",
        lambda call: lead_points_give(
            lead=call.required_lead, points=call.inputs["points"],
            expires_in_days=call.inputs.get("expiration_days") or None,
        ),
        params=("points", "expiration_days"),
    ),
    Command(
        "remove_points_from_lead", "Points removed from lead",
        lambda call: lead_points_remove(lead=call.required_lead, points=call.inputs["points"]), params=("points",),
    ),
    Command(
        "subscribe_lead_to_sequence_at_step", "Lead added to sequence",
        lambda call: lead_sequence_subscribe(
            lead=call.required_lead, sequence=call.asset(Sequence), step=call.inputs.get("step", 1)
        ),
        assets=("sequence",), params=("step",),
    ),
    Command(
        "unsubscribe_lead_from_sequence", "Lead removed from sequence",
        lambda call: lead_sequence_unsubscribe(lead=call.required_lead, sequence=call.asset(Sequence)),
        assets=("sequence",),
    ),
    Command(
        "sequence_completion", "Sequence completed",
        lambda call: lead_sequence_complete(lead=call.required_lead, sequence=call.asset(Sequence)),
        assets=("sequence",),
    ),
    Command(
        "calendar_subscribe", "Lead subscribed to class",
        lambda call: lead_calendar_subscribe(
            lead=call.required_lead, calendar_class=call.calendar_class(), starts_at=call.inputs["starts_at"]
        ),
        assets=("calendar", "class"), params=("starts_at",),
    ),
    Command(
        "calendar_cancel", "Lead unsubscribed from class", _calendar_cancel,
        assets=("calendar", "class"), params=("require_booking",),
    ),
    Command(
        "calendar_complete", "Class completed", _calendar_complete,
        assets=("calendar", "class"), params=("starts_at",),
    ),
    Command(
        "refund_transaction", "Transaction refunded",
        lambda call: {"transaction": transaction_refund(sale=call.sale(), amount=call.inputs.get("amount"))},
        lead="optional", assets=("transaction_id",), params=("amount",),
    ),
    Command(
        "cancel_transaction", "Subscription cancelled", _cancel_transaction,
        lead="none", assets=("subscription_id", "transaction_id"),
    ),
    Command(
        "cancel_subscription", "Subscription cancelled", _cancel_subscription,
        assets=("subscription_id", "product"),
    ),
    Command(
        "create_custom_field", "Custom Field created",
        lambda call: {
            "custom_field": custom_field_create(
                account=call.account,
                identifier=call.inputs["identifier"],
                type=call.inputs["type"],
                options=call.inputs.get("options", ()),
            )
        },
        lead="none", params=("identifier", "type", "options"),
    ),
    Command(
        "buy_product", "Sale recorded", _buy_product, assets=("product", "price_point"), params=("quantity", "amount"),
    ),
    Command(
        "filled_form", "Form fill recorded",
        lambda call: lead_form_filled(lead=call.required_lead, form=call.asset(Form)), assets=("form",),
    ),
    Command(
        "video_play", "Video play recorded",
        lambda call: lead_video_play_record(lead=call.required_lead, video=call.asset(Video)), assets=("video",),
    ),
    Command(
        "video_complete", "Video completion recorded",
        lambda call: lead_video_complete_record(lead=call.required_lead, video=call.asset(Video)), assets=("video",),
    ),
    Command(
        "tracking_link_click", "Tracking link click recorded",
        lambda call: lead_tracking_link_click_record(lead=call.required_lead, tracking_link=call.asset(TrackingLink)),
        assets=("tracking_link",),
    ),
    Command(
        "kartra_page_visit", "Page visit recorded",
        lambda call: lead_kartra_page_visit_record(lead=call.required_lead, page=call.asset(Page)), assets=("page",),
    ),
    Command(
        "external_page_visit", "Page visit recorded",
        lambda call: lead_external_page_visit_record(lead=call.required_lead, url=call.inputs["url"]), params=("url",),
    ),
    Command(
        "click_page_split_test_link", "Split-test link click recorded",
        lambda call: lead_split_test_link_click_record(
            lead=call.required_lead, split_test_link=call.asset(SplitTestLink)
        ),
        assets=("split_test_link",),
    ),
    Command(
        "affiliate_signup", "Affiliate signup recorded",
        lambda call: lead_affiliate_signup(lead=call.required_lead, product=call.asset(Product)), assets=("product",),
    ),
    Command(
        "jv_signup", "JV partner signup recorded",
        lambda call: lead_jv_signup(lead=call.required_lead, product=call.asset(Product)), assets=("product",),
    ),
    Command(
        "membership_granted", "Membership granted",
        lambda call: lead_membership_grant(lead=call.required_lead, level=call.membership_level()),
        assets=("membership", "level"),
    ),
    Command(
        "membership_revoked", "Membership revoked",
        lambda call: lead_membership_revoke(lead=call.required_lead, membership=call.asset(Membership)),
        assets=("membership",),
    ),
)  # fmt: skip

COMMANDS: dict[str, Command] = {command.name: command for command in _COMMANDS}


def _command_lead(*, command: Command, account: Account, inputs: dict[str, Any]) -> Lead | None:
    if command.lead == "none" or (command.lead == "optional" and not {"lead", "lead_id", "email"} & set(inputs)):
        return None
    lead = inputs.get("lead")
    test_mode = bool(inputs.get("test_mode"))
    if not isinstance(lead, Lead):
        # A test-mode caller acts only on the leads test mode created: none of them is ever emailed.
        return lead_get(account=account, id=inputs.get("lead_id"), email=inputs.get("email"), test_mode=test_mode)
    if lead.account_id != account.pk or (test_mode and lead.source != LeadSource.API_TEST):
        raise NotFound(LEAD_NOT_FOUND, code="lead_not_found")
    return lead


def command_run(*, name: str, account: Account, inputs: dict[str, Any]) -> CommandResult:
    """Run the command `name` for `account` with `inputs` (already checked for shape by the front
    door). ApplicationError (404 unknown_command for a name no command has) otherwise."""
    command = COMMANDS.get(name)
    if command is None:
        raise NotFound(f'Unknown command "{name}"', code="unknown_command")
    lead = None
    if not command.finds_lead or isinstance(inputs.get("lead"), Lead):
        lead = _command_lead(command=command, account=account, inputs=inputs)
    written = command.run(CommandCall(account=account, lead=lead, inputs=inputs))
    objects = dict(written) if isinstance(written, dict) else {}
    return CommandResult(
        message=command.message, lead=objects.pop("lead", lead), document=objects.pop("document", None), objects=objects
    )
