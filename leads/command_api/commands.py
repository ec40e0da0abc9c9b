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
  test leads, and chained actions find the lead `create_lead` just made.
"""

from collections.abc import Mapping
from typing import Any

from accounts.models import KARTRA_COMMANDS, Account
from kartra_integrations.errors import ApplicationError
from leads.selectors import lead_get

from . import codes
from .access import Caller
from .reads import ACCOUNT_READS, platform_lead_details

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


def run_command(name: str, inputs: dict[str, Any], *, account: Account, test_mode: bool) -> dict[str, Any]:
    """Run one write command of the shared command registry (the one `/api/v1/actions/{command}`
    calls) with the call's plain inputs (the action's parameters plus `lead`), in `account`;
    `test_mode`: send no email. Returns the command's result; raises ApplicationError with its code.

    Not wired yet: the registry lands separately and is connected here, and only here."""
    raise ApplicationError(
        f"The command {name} is not available on this service yet.", code="command_not_wired", status_code=501
    )


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
        lead = lead_get(account=account, id=ref.get("id"), email=ref.get("email"))
    except ApplicationError:
        return codes.failure(codes.error(234))
    return {"status": codes.SUCCESS, "lead_details": platform_lead_details(lead)}


def _actions_list(actions: Any) -> list | None:
    """`actions` as a list: a list, or (JSON clients) an object keyed "0", "1", ... in index order."""
    if isinstance(actions, list):
        return actions
    if isinstance(actions, Mapping) and actions and all(isinstance(k, str) and k.isdigit() for k in actions):
        return [actions[key] for key in sorted(actions, key=int)]
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
    body = codes.success(SUCCESS_REPLIES[cmd]) if cmd in SUCCESS_REPLIES else {"status": codes.SUCCESS}
    if lead is not None:
        body["lead_details"] = platform_lead_details(lead)
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
    actions = _actions_list(data["actions"])
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
