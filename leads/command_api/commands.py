"""One call of the command API: the request's shape (lead, get_lead, actions), its commands run in
order, and the reply.

Choices where the reference is silent (kept stable, documented in the README):
- Each action runs on its own (its own transaction, in the registry); a failing action neither undoes
  the ones before it nor stops the ones after it, each of which answers for itself.
- `get_lead` is a read on its own: a call with `get_lead` answers the lead document and runs no action.
- A chained reply always carries `actions`; the data of account-level reads (`account_tags`, ...)
  is also given at the top level, where the platform's clients read it.
- An unknown `cmd` answers 262 (this app cannot execute it); `create_lead`, `edit_lead` or
  `search_lead` anywhere but `actions[0]` answers 254 with a message saying so.
- In test mode the lead's email in `lead[email]`, `lead[new_email]` and `get_lead[email]` is read
  with its domain rewritten to TEST_MODE_EMAIL_DOMAIN, so that a test app only ever creates and finds
  test leads, and chained actions find the lead `create_lead` just made. Its leads are created as
  test leads (source api_test), which are never emailed, and its writes act on test leads only
  (any other lead answers "No lead found"); reads are not restricted.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from accounts.models import KARTRA_COMMANDS, Account
from kartra_integrations.errors import ApplicationError
from leads.api.actions import ACTIONS
from leads.api.inputs import RefundInput
from leads.api.outputs import (
    CustomFieldOutput,
    SubscriptionOutput,
    SubscriptionReadOutput,
    TransactionOutput,
    TransactionReadOutput,
)
from leads.models import GDPR_FIELD_NAMES, LEAD_PROFILE_FIELDS
from leads.selectors import (
    lead_get,
    lead_get_with_details,
    recurring_subscription_get,
    subscription_list,
    transaction_get,
    transaction_list,
)
from leads.services.commands import COMMANDS, ReferenceNotFound, command_run

from . import codes
from .access import Caller
from .reads import ACCOUNT_READS, PLATFORM_TIME_ZONE, platform_lead_details

TEST_MODE_EMAIL_DOMAIN = "kartra.com"
LEAD_FIRST_COMMANDS = frozenset({"create_lead", "edit_lead", "search_lead"})
# Commands that are not about one lead (reference section 1: account-level, and the billing commands
# that take a transaction or subscription id).
NO_LEAD_COMMANDS = frozenset(
    {
        *ACCOUNT_READS,
        "create_custom_field",
        "refund_transaction",
        "cancel_transaction",
        "search_transaction",
        "get_transaction_details",
        "search_subscription",
        "get_subscription_details",
    }
)
SUCCESS_REPLIES: dict[str, codes.Reply] = {
    "assign_tag": codes.TAG_ADDED,
    "unassign_tag": codes.TAG_REMOVED,
    "subscribe_lead_to_list": codes.LIST_SUBSCRIBED,
    "unsubscribe_lead_from_list": codes.LIST_UNSUBSCRIBED,
    "give_points_to_lead": codes.POINTS_ADDED,
    "remove_points_from_lead": codes.POINTS_REMOVED,
    "subscribe_lead_to_sequence_at_step": codes.SEQUENCE_ADDED,
    "calendar_subscribe": codes.CLASS_SUBSCRIBED,
    "calendar_cancel": codes.CLASS_UNSUBSCRIBED,
    "create_custom_field": codes.CUSTOM_FIELD_CREATED,
}


# The platform's input names -> the registry's (leads.services.commands), the one table of them. An
# action's other keys are ignored; a refusal about a registry input is reported under the platform's
# name (codes.error_for reads the platform's names).
PLATFORM_INPUTS: dict[str, str] = {
    "tag_name": "tag",
    "list_name": "list",
    "sequence_name": "sequence",
    "step": "step",
    "calendar_name": "calendar",
    "class_name": "class",
    "points": "points",
    "expiration": "expiration_days",
    "transaction_id": "transaction_id",
    "refund_amount": "amount",
    "transaction_internal_subscription_id": "subscription_id",
    "custom_field_identifier": "identifier",
    "custom_field_type": "type",
    "custom_field_options": "options",
    # lead[...]
    "id": "lead_id",
    "email": "email",
    "new_email": "new_email",
    "custom_fields": "custom_fields",
    # starting_date + starting_hour, read together
    "starting_date": "starts_at",
}
REGISTRY_INPUTS = {registry: platform for platform, registry in PLATFORM_INPUTS.items()}
# Where the platform's rule differs from v1's, the registry's switch for it.
PLATFORM_RULES: dict[str, dict[str, Any]] = {
    "create_lead": {"ignore_unknown_custom_fields": True},  # an unknown identifier is ignored
    "edit_lead": {"ignore_unknown_custom_fields": True},
    "calendar_cancel": {"require_booking": True},  # none to cancel: 259
}
STARTING_FORMAT = "%d %b %Y %H:%M"  # starting_date "05 Jan 2027" + starting_hour "14:30", Eastern
# The v1 input of each command: its shape rules, reused as they are (the registry takes checked input).
LEAD_READS = frozenset({"search_lead", "retrieve_transactions_from_lead", "retrieve_subscriptions_from_lead"})
TRANSACTION_READS = frozenset({"search_transaction", "get_transaction_details"})
SUBSCRIPTION_READS = frozenset({"search_subscription", "get_subscription_details"})


def run_command(name: str, inputs: dict[str, Any], *, account: Account, test_mode: bool) -> dict[str, Any]:
    """Run one command with the call's plain inputs (the action's parameters plus `lead`) in
    `account`: the reads through the lead and transaction selectors, every write through the one
    command registry (leads.services.commands.command_run), after the v1 input's shape checks.
    Returns the reply's data ("lead": the Lead of create_lead, edit_lead and search_lead, rendered by
    the caller as `lead_details`; the other commands answer their message and type only); raises ApplicationError
    with the service's code, its fields under the platform's input names. `test_mode`: the writes
    create and act on test leads only, which are never emailed (the registry's `test_mode`); the
    call's emails are already at the test domain (call_answer)."""
    if name in LEAD_READS or name in TRANSACTION_READS or name in SUBSCRIPTION_READS:
        return _read(name, inputs, account=account)
    action = ACTIONS.get(name)
    if action is None:
        raise ApplicationError(f"The command {name} is not available.", code="unknown_command", status_code=404)
    registry_inputs = _registry_inputs(name, inputs)
    serializer = action.input(data=registry_inputs)
    if name == "cancel_transaction" and "subscription_id" not in registry_inputs:
        serializer = RefundInput(data=registry_inputs)  # by the sale: the same transaction_id rules
    if not serializer.is_valid():
        raise _invalid(serializer.errors)
    checked = dict(serializer.validated_data) | PLATFORM_RULES.get(name, {})
    if test_mode:
        checked["test_mode"] = True
    try:
        result = command_run(name=name, account=account, inputs=checked)
    except ReferenceNotFound as exc:
        key = REGISTRY_INPUTS.get(exc.reference, exc.reference)
        raise ApplicationError(exc.message, code=exc.code, fields={key: [exc.message]}) from None
    lead = {"lead": result.lead, "lead_document": result.lead_document} if name in ("create_lead", "edit_lead") else {}
    return {"message": result.message, **lead, **_rendered(result.objects)}


def _registry_inputs(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's inputs for the platform's: renamed by PLATFORM_INPUTS, the profile of
    `lead[...]` for create_lead/edit_lead (its `gdpr_*` keys kept, for the shape check to refuse)."""
    command = COMMANDS[name]
    registry: dict[str, Any] = {}
    for key, value in inputs.items():
        # A form sends an empty field as "": the platform reads it as absent ("refund_amount" empty:
        # a full refund; a required one empty: its "cannot be empty" code).
        if key in PLATFORM_INPUTS and key not in ("id", "email", "new_email", "custom_fields") and value != "":
            registry[PLATFORM_INPUTS[key]] = value
    if "starts_at" in registry or "starting_hour" in inputs:
        registry["starts_at"] = _starts_at(inputs.get("starting_date"), inputs.get("starting_hour"))
    if name == "create_custom_field" and "options" in registry:
        registry["options"] = _option_names(registry["options"])
    lead = inputs.get("lead")
    if command.lead == "required" or name == "create_lead":
        lead = lead if isinstance(lead, Mapping) else {}
        for key in ("email",) if name == "create_lead" else ("id", "email"):
            if lead.get(key) not in (None, ""):
                registry[PLATFORM_INPUTS[key]] = lead[key]
        if "lead_id" in registry:
            registry.pop("email", None)  # lead[id] wins
        if name in ("create_lead", "edit_lead"):
            registry |= _profile(name, lead)
    return registry


def _profile(name: str, lead: Mapping[str, Any]) -> dict[str, Any]:
    profile = {key: value for key, value in lead.items() if key in LEAD_PROFILE_FIELDS or key in GDPR_FIELD_NAMES}
    if name == "edit_lead" and lead.get("new_email") not in (None, ""):
        profile["new_email"] = lead["new_email"]
    if "custom_fields" in lead:
        profile["custom_fields"] = _custom_field_values(lead["custom_fields"])
    return profile


def _custom_field_values(items: Any) -> dict[str, Any]:
    """lead[custom_fields][i][field_identifier|field_value] -> {identifier: value}; 271 otherwise."""
    items = _indexed_list(items)
    if items is None or not all(
        isinstance(item, Mapping) and isinstance(item.get("field_identifier"), str) for item in items
    ):
        raise ApplicationError(
            codes.ERRORS[271], code="invalid_custom_field", fields={"custom_fields": [codes.ERRORS[271]]}
        )
    return {item["field_identifier"]: item.get("field_value", "") for item in items}


def _option_names(options: Any) -> Any:
    """custom_field_options[n][option_name] -> [name, ...] (anything else is left for the shape check)."""
    items = _indexed_list(options)
    if items is not None and all(isinstance(item, Mapping) and "option_name" in item for item in items):
        return [item["option_name"] for item in items]
    return options


def _starts_at(day: Any, hour: Any) -> datetime:
    """starting_date `DD Mmm YYYY` + starting_hour `HH:MM` (00:00 when absent), US Eastern."""
    hour = hour if hour not in (None, "") else "00:00"
    try:
        naive = datetime.strptime(f"{str(day).strip()} {str(hour).strip()}", STARTING_FORMAT)
    except ValueError:
        raise ApplicationError(
            codes.ERRORS[260], code="invalid", fields={"starting_date": [codes.ERRORS[260]]}
        ) from None
    return naive.replace(tzinfo=PLATFORM_TIME_ZONE)


def _invalid(errors: Mapping[str, Any]) -> ApplicationError:
    """A shape refusal, its fields under the platform's names (nested messages flattened)."""
    fields = {REGISTRY_INPUTS.get(key, key): _messages(value) for key, value in errors.items()}
    if "lead_id" in errors:
        fields["id"] = _messages(errors["lead_id"])
    first = next(iter(fields.values()), ["Invalid input."])
    return ApplicationError(str(first[0]), code="invalid", fields=fields)


def _messages(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [str(message) for nested in value.values() for message in _messages(nested)]
    if isinstance(value, list):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def _rendered(objects: Mapping[str, Any]) -> dict[str, Any]:
    """What a billing or custom field command wrote, in the platform's keys."""
    body: dict[str, Any] = {}
    if "transaction" in objects:
        refund = objects["transaction"]
        body["transaction_refunded"] = str(refund.parent_id or refund.pk)
        body["transaction"] = TransactionOutput(refund).data
    if "subscription" in objects:
        subscription = objects["subscription"]
        body["transaction_internal_subscription_id"] = str(subscription.pk)
        body["subscription"] = SubscriptionOutput(subscription).data
    if "custom_field" in objects:
        body["custom_field"] = CustomFieldOutput(objects["custom_field"]).data
    return body


def _read(name: str, inputs: Mapping[str, Any], *, account: Account) -> dict[str, Any]:
    """search_lead and the transaction and subscription reads, through the v1 reads' selectors."""
    if name in LEAD_READS:
        ref = _lead_ref(inputs.get("lead") or {}) or {}
        if name == "search_lead":
            lead, details = lead_get_with_details(account=account, id=ref.get("id"), email=ref.get("email"))
            return {"lead": lead, "lead_document": details}
        lead = lead_get(account=account, id=ref.get("id"), email=ref.get("email"))
        if name == "retrieve_transactions_from_lead":
            rows = transaction_list(account=account).filter(lead=lead)
            return {"transaction_list": TransactionReadOutput(rows, many=True).data}
        rows = subscription_list(account=account).filter(lead=lead)
        return {"subscriptions_list": SubscriptionReadOutput(rows, many=True).data}
    if name in TRANSACTION_READS:
        with _as_platform_input("transaction_id"):
            sale = transaction_get(account=account, id=_given(inputs, "transaction_id"))
        row = transaction_list(account=account, id=sale.pk).get()
        return {"transaction_details": TransactionReadOutput(row).data}
    key = "transaction_internal_subscription_id"
    with _as_platform_input(key):
        subscription = recurring_subscription_get(account=account, id=_given(inputs, key))
    row = subscription_list(account=account, id=subscription.pk).get()
    return {"subscription_details": SubscriptionReadOutput(row).data}


def _given(inputs: Mapping[str, Any], key: str) -> Any:
    value = inputs.get(key)
    return value if isinstance(value, int | str) else ""


@contextmanager
def _as_platform_input(key: str) -> Iterator[None]:
    try:
        yield
    except ApplicationError as exc:
        raise ApplicationError(exc.message, code=exc.code, fields={key: [exc.message]}) from None


def test_mode_email(email: Any) -> Any:
    """johnsmith@gmail.com -> johnsmith@kartra.com (reference section 1, Test Mode)."""
    if isinstance(email, str) and "@" in email:
        return f"{email.rsplit('@', 1)[0]}@{TEST_MODE_EMAIL_DOMAIN}"
    return email


def _lead_ref(lead: Mapping[str, Any]) -> dict[str, Any] | None:
    """The lead the call is about: by id when given (id wins), else by email; None without either."""
    lead_id, email = lead.get("id"), lead.get("email")
    if lead_id not in (None, ""):
        return {"id": lead_id}
    if isinstance(email, str) and email.strip():
        return {"email": email}
    return None


def _get_lead(get_lead: Any, account: Account) -> dict:
    if not isinstance(get_lead, Mapping):
        return codes.failure(codes.error(236))
    ref = _lead_ref(get_lead)
    if ref is None:
        return codes.failure(codes.error(206))
    try:
        lead, details = lead_get_with_details(account=account, id=ref.get("id"), email=ref.get("email"))
    except ApplicationError:
        return codes.failure(codes.error(234))
    return {"status": codes.SUCCESS, "lead_details": platform_lead_details(lead, details)}


def _indexed_list(value: Any) -> list | None:
    """A list, or (JSON clients) an object keyed "0", "1", ... in index order; None otherwise."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping) and value and all(isinstance(k, str) and k.isdigit() for k in value):
        return [value[key] for key in sorted(value, key=int)]
    return None


def _run_action(index: int, action: Any, lead: Mapping[str, Any] | None, caller: Caller) -> tuple[str, dict]:
    """One action's (cmd, reply); an action without a usable cmd is keyed "cmd"."""
    cmd = action.get("cmd") if isinstance(action, Mapping) else None
    if not isinstance(cmd, str) or not cmd.strip():
        return "cmd", codes.failure(codes.error(254))
    cmd = cmd.strip()
    allowed = caller.api_app.allowed_commands
    if cmd not in KARTRA_COMMANDS or cmd == "get_lead" or (allowed and cmd not in allowed):
        return cmd, codes.failure(codes.error(262))
    if cmd in LEAD_FIRST_COMMANDS and index != 0:
        return cmd, codes.failure(codes.error(254, f"{cmd} must be actions[0]"))
    if cmd in ACCOUNT_READS:
        key, build = ACCOUNT_READS[cmd]
        return cmd, {"status": codes.SUCCESS, key: build(caller.account)}
    inputs = {key: value for key, value in action.items() if key != "cmd"}
    if cmd not in NO_LEAD_COMMANDS:
        has_email = lead is not None and isinstance(lead.get("email"), str) and bool(lead["email"].strip())
        if lead is None or (not has_email if cmd == "create_lead" else _lead_ref(lead) is None):
            return cmd, codes.failure(codes.error(206))
    if lead is not None:
        inputs["lead"] = dict(lead)
    try:
        result = run_command(cmd, inputs, account=caller.account, test_mode=caller.test_mode)
    except ApplicationError as exc:
        return cmd, codes.failure(codes.error_for(cmd, exc.code, exc.message, exc.fields))
    return cmd, _success(cmd, result)


def _success(cmd: str, result: Mapping[str, Any] | None) -> dict:
    result = dict(result or {})
    lead = result.pop("lead", None)
    document = result.pop("lead_document", None)
    message = result.pop("message", None)
    if cmd in SUCCESS_REPLIES:
        body = codes.success(SUCCESS_REPLIES[cmd])
    else:
        body = {"status": codes.SUCCESS, **({"message": message} if message else {})}
    if lead is not None:
        body["lead_details"] = platform_lead_details(lead, document)
    body.update(result)
    return body


def _test_mode_lead(lead: Any) -> Any:
    if not isinstance(lead, Mapping):
        return lead
    lead = dict(lead)
    for key in ("email", "new_email"):
        if key in lead:
            lead[key] = test_mode_email(lead[key])
    return lead


def call_answer(data: Mapping[str, Any], caller: Caller) -> dict:
    """The reply to one authenticated call (HTTP 200 whatever it says)."""
    lead, get_lead = data.get("lead"), data.get("get_lead")
    if caller.test_mode:
        lead, get_lead = _test_mode_lead(lead), _test_mode_lead(get_lead)
    if get_lead is not None:
        allowed = caller.api_app.allowed_commands
        if allowed and "get_lead" not in allowed:
            return codes.failure(codes.error(262))
        return _get_lead(get_lead, caller.account)
    if "actions" not in data:
        return codes.failure(codes.error(254))
    actions = _indexed_list(data["actions"])
    if actions is None:
        return codes.failure(codes.error(224))
    if lead is not None and not isinstance(lead, Mapping):
        return codes.failure(codes.error(223))
    results = [_run_action(index, action, lead, caller) for index, action in enumerate(actions)]
    reply = codes.chained(results)
    for cmd, body in results:
        if cmd in ACCOUNT_READS and body.get("status") == codes.SUCCESS:
            key = ACCOUNT_READS[cmd][0]
            reply[key] = body[key]
    return reply
