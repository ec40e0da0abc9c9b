"""Every success and error code of the platform command API (reference section 3), with its exact
text, and the reply envelopes.

Clients branch on `type` (a numeric string) and some on the exact text ("No lead found"): both are
kept exactly as the reference gives them. Replies are HTTP 200 whatever the outcome; only the rate
limit answers 429 (views). Where the reference pairs two codes ("207/208 List cannot be empty
(subscribe/unsubscribe)"), the first is the subscribing/assigning/giving command's and the second the
undoing one's; the reference names no text for 274-290 (edit_subscription) except 284.
"""

from typing import Any, NamedTuple

SUCCESS = "Success"
ERROR = "Error"


class Reply(NamedTuple):
    type: int
    message: str


# Successes (1xx).
LIST_SUBSCRIBED = Reply(101, "Lead subscribed to list")
LIST_UNSUBSCRIBED = Reply(101, "Lead unsubscribed from list")
TAG_ADDED = Reply(103, "Tag added to lead")
TAG_REMOVED = Reply(104, "Tag removed from lead")
POINTS_ADDED = Reply(105, "Points added to lead")
POINTS_REMOVED = Reply(106, "Points removed from lead")
SEQUENCE_ADDED = Reply(107, "Lead added to sequence")
CLASS_SUBSCRIBED = Reply(112, "Lead subscribed to class")
CLASS_UNSUBSCRIBED = Reply(113, "Lead unsubscribed from class")
CUSTOM_FIELD_CREATED = Reply(114, "Custom Field created")

SUCCESSES: tuple[Reply, ...] = (
    LIST_SUBSCRIBED,
    LIST_UNSUBSCRIBED,
    TAG_ADDED,
    TAG_REMOVED,
    POINTS_ADDED,
    POINTS_REMOVED,
    SEQUENCE_ADDED,
    CLASS_SUBSCRIBED,
    CLASS_UNSUBSCRIBED,
    CUSTOM_FIELD_CREATED,
)

# Errors (2xx): number -> text, exactly as the reference's registry gives them.
ERRORS: dict[int, str] = {
    # Connection and authentication
    201: "Connection not secure",
    202: "API key cannot be empty. Please get an API key first",
    203: "API key not valid. Please get an API key first",
    233: "API password not valid. Please get an API password first",
    204: "API Account inactive",
    # App
    238: "App Id cannot be empty. Please get an App Id first",
    239: "App Id is not valid. The app does not exists or is inactive",
    240: "App Account inactive",
    242: "This API call was sent from an unauthorized IP",
    262: "App does not have permission to execute this CMD",
    # Request shape
    254: "'cmd' is required",
    206: "email or lead id is required. Nothing done",
    223: "'lead' not an array",
    236: "'get_lead' not an array",
    224: "'actions' not an array",
    # Lead
    234: "No lead found",
    243: "No lead found",
    244: "Lead already exists",
    245: "Lead is deleted",
    271: "Wrong custom field format",
    # List / tag / points / sequence
    207: "List cannot be empty",
    208: "List cannot be empty",
    231: "List does not exist",
    209: "List does not exist",
    211: "Tag cannot be empty",
    213: "Tag cannot be empty",
    212: "Tag does not exist",
    214: "Tag does not exist",
    215: "Points cannot be empty",
    217: "Points cannot be empty",
    227: "Points is not a number",
    228: "Points is not a number",
    226: "Sequence cannot be empty",
    225: "Step cannot be empty",
    219: "Sequence does not exist",
    220: "Sequence does not exist",
    229: "Step has to be alphanumeric",
    230: "Step does not exist",
    # Calendar
    255: "Calendar cannot be empty",
    256: "Class cannot be empty",
    257: "Calendar does not exist",
    258: "Class does not exist",
    259: "No active/pending calendar subscription for this lead",
    260: "Invalid date format",
    261: "Date is in the past",
    # Custom field
    263: "name chars",
    264: "already exists or not allowed",
    265: "empty",
    269: "type not valid",
    270: "Options not an array",
    272: "Option cannot be empty",
    273: "Options must have two or more elements",
    # Billing
    247: "Transaction doesn't exist",
    248: "Subscription doesn't exist",
    249: "not linked to any recurring subscription",
    250: "outside refund period",
    251: "already refunded",
    252: "Subscription already cancelled",
    253: "This type of transaction cannot be refunded or cancelled",
    266: "Refund has failed",
    267: "Cancellation has failed",
    268: "Invalid amount",
    284: "Paypal transactions cannot be modified",
}

TOO_MANY_REQUESTS = "Too many requests"


def error(number: int, message: str | None = None) -> Reply:
    """The registry's error `number`, with its text unless a more precise `message` is given
    (only where the registry's text is a placeholder, such as a command not available yet)."""
    return Reply(number, message or ERRORS[number])


# ---------------------------------------------------------------------------------------------
# Envelopes


def single(status: str, reply: Reply, **extra: Any) -> dict:
    """{"status", "message", "type"} with `type` a numeric string, plus any data (`lead_details`)."""
    return {"status": status, "message": reply.message, "type": str(reply.type), **extra}


def success(reply: Reply, **extra: Any) -> dict:
    return single(SUCCESS, reply, **extra)


def failure(reply: Reply) -> dict:
    return single(ERROR, reply)


def chained(results: list[tuple[str, dict]]) -> dict:
    """{"status", "actions": [{"<cmd>": {...}}, ...]} in request order. The top-level status is
    Success when the call was accepted and ran (the reference: "top-level Success does not mean every
    action succeeded"): clients read each `actions[i].<cmd>.status`."""
    return {"status": SUCCESS, "actions": [{cmd: body} for cmd, body in results]}


# ---------------------------------------------------------------------------------------------
# Application errors of the services (kartra_integrations.errors.ApplicationError.code) as the
# platform's types, per command: the services and their v1 codes are shared, only the numbers differ.

_UNDOING = frozenset(
    {"unassign_tag", "unsubscribe_lead_from_list", "remove_points_from_lead", "unsubscribe_lead_from_sequence"}
)

_BY_CODE: dict[str, tuple[int, int]] = {
    # code: (type for the doing command, type for the undoing one)
    "lead_not_found": (243, 243),
    "lead_exists": (244, 244),
    "lead_erased": (245, 245),
    "lead_already_erased": (245, 245),
    "invalid_custom_field": (271, 271),
    "tag_not_found": (212, 214),
    "list_not_found": (231, 209),
    "sequence_not_found": (219, 220),
    "sequence_step_not_found": (230, 230),
    "calendar_not_found": (257, 257),
    "calendar_class_not_found": (258, 258),
    "booking_not_found": (259, 259),
    "starts_at_in_past": (261, 261),
    "transaction_not_found": (247, 247),
    "subscription_not_found": (248, 248),
    "already_refunded": (251, 251),
    "subscription_not_active": (252, 252),
    "not_a_sale": (253, 253),
    "refund_exceeds_remaining": (268, 268),
    "invalid_identifier": (263, 263),
    "name_taken": (264, 264),
    "not_recurring": (249, 249),
    "option_empty": (272, 272),
    "options_too_few": (273, 273),
    "score_out_of_range": (227, 228),
    # API leads are GDPR unknown: a `lead[gdpr_*]` input is something no app may do.
    "gdpr_not_settable": (262, 262),
}

# A field named in a refusal ("invalid" with fields), by command kind.
_BY_FIELD: dict[str, tuple[int, int]] = {
    "email": (206, 206),
    "id": (206, 206),
    "lead": (206, 206),
    "tag_name": (211, 213),
    "list_name": (207, 208),
    "points": (227, 228),
    "sequence_name": (226, 226),
    "step": (229, 229),
    "calendar_name": (255, 255),
    "class_name": (256, 256),
    "starting_date": (260, 260),
    "starting_hour": (260, 260),
    "refund_amount": (268, 268),
    "transaction_id": (247, 247),
    "transaction_internal_subscription_id": (248, 248),
    "new_email": (206, 206),
    "custom_fields": (271, 271),
    "custom_field_identifier": (263, 263),
    "custom_field_type": (269, 269),
    "custom_field_options": (270, 270),
}

# A field refused for being absent or empty, where the registry has an "cannot be empty" code of its own.
_EMPTY_BY_FIELD: dict[str, tuple[int, int]] = {
    "points": (215, 217),
    "step": (225, 225),
    "custom_field_identifier": (265, 265),
    "custom_field_options": (272, 272),
}
# DRF's "This field is required." / "may not be blank." / "may not be null." and the services'
# "... cannot be empty" (not "A valid integer is required.", which is a wrong value, not an empty one).
_EMPTY_WORDS = ("field is required", "may not be blank", "may not be null", "empty")


def _says_empty(message: object) -> bool:
    """A refusal for an absent or empty value."""
    return any(word in str(message).lower() for word in _EMPTY_WORDS)


# What a refusal nothing above names answers: the registry's entry for "App does not have permission
# to execute this CMD", with the service's own message (for example a command not available yet).
UNMAPPED_ERROR_TYPE = 262


def error_for(cmd: str, code: str, message: str, fields: dict | None = None) -> Reply:
    """The platform reply for a service's ApplicationError (`code`, `message`, `fields`) in `cmd`."""
    index = 1 if cmd in _UNDOING else 0
    if code in _BY_CODE:
        return error(_BY_CODE[code][index])
    for field, messages in (fields or {}).items():
        if field in _EMPTY_BY_FIELD and any(_says_empty(message) for message in messages):
            return error(_EMPTY_BY_FIELD[field][index])
        if field in _BY_FIELD:
            return error(_BY_FIELD[field][index])
    return error(UNMAPPED_ERROR_TYPE, message)
