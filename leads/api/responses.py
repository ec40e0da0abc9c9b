"""The documented error responses of the v1 API (OpenAPI examples), shared by its views, and
view_subclass, how they make one view class per route."""

from typing import Any, TypeVar, cast

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
)

from leads.api.outputs import ErrorOutput
from leads.selectors import (
    LEAD_NOT_FOUND,
)
from leads.services.leads import GDPR_NOT_SETTABLE_MESSAGE

LEAD_FOUND = "Lead found"
LEAD_EXISTS = "Lead already exists"


V = TypeVar("V", bound=type)


def view_subclass(base: V, name: str, attributes: dict[str, Any] | None = None) -> V:
    """A subclass of the view `base` named `name` with these class attributes (one per route)."""
    return cast(V, type(name, (base,), attributes or {}))


def _error(description: str, message: str, code: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorOutput,
        description=description,
        examples=[OpenApiExample(code, value={"message": message, "code": code})],
    )


INVALID_EXAMPLES = [
    OpenApiExample(
        "invalid",
        value={"message": "Invalid input", "code": "invalid", "fields": {"email": ["Enter a valid email address."]}},
    ),
    OpenApiExample(
        "gdpr_not_settable",
        value={
            "message": GDPR_NOT_SETTABLE_MESSAGE,
            "code": "gdpr_not_settable",
            "fields": {"gdpr_lead_status": [GDPR_NOT_SETTABLE_MESSAGE]},
        },
    ),
    OpenApiExample(
        "unknown_field",
        value={"message": "Unknown field: colour", "code": "unknown_field", "fields": {"colour": ["Unknown field."]}},
    ),
]


def _invalid(*refusals: tuple[str, str, str]) -> OpenApiResponse:
    """400: bad input (`fields` names each field and what is wrong), or one of these refusals
    (code, message, field)."""
    return OpenApiResponse(
        ErrorOutput,
        description="Invalid input or a refused change: `fields` names each field and what is wrong with it.",
        examples=INVALID_EXAMPLES
        + [
            OpenApiExample(code, value={"message": message, "code": code, "fields": {field: [message]}})
            for code, message, field in refusals
        ],
    )


INVALID = _invalid()
UNAUTHENTICATED = _error("Missing or wrong API key / password.", "Invalid API credentials", "invalid_credentials")
NOT_ACTIVATED = _error(
    "The account's Zapier access is not (or no longer) approved.",
    "Zapier access has not been activated for this account",
    "zapier_not_activated",
)
THROTTLED = _error(
    "More than the account's requests per second; retry after `Retry-After`.", "Too many requests", "throttled"
)
LEAD_NOT_FOUND_RESPONSE = _error("No lead with that id or email in the account.", LEAD_NOT_FOUND, "lead_not_found")
COMMON_ERRORS = {401: UNAUTHENTICATED, 403: NOT_ACTIVATED, 429: THROTTLED}
