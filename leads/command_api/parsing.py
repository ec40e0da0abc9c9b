"""The request body of POST /api as one nested dict: PHP-style brackets (`lead[email]`,
`actions[0][cmd]`, `lead[custom_fields][0][field_identifier]`, `tags[]`) in an
`application/x-www-form-urlencoded` or `multipart/form-data` body, or a JSON body of the same
nested shape; credentials may also come in the query string (reference section 1, lenient clients).

Brackets are decoded by qs-codec, the maintained Python port of Node's `qs` (the encoder the
platform's Node clients use; it reads PHP `http_build_query` output the same way), with its limits
turned into refusals rather than silent truncation: nesting, keys, list indexes. Before and after it:
the body's size, unbalanced brackets, NUL and unpaired surrogates anywhere (the API's one check,
kartra_integrations.parsers.body_check). Every refusal is a ParseFailure naming the field.
"""

import json
import re
from typing import Any
from urllib.parse import unquote_plus, urlencode

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from qs_codec import DecodeOptions, Duplicates, decode
from rest_framework import exceptions

from kartra_integrations.limits import JSON_MAX_DEPTH
from kartra_integrations.parsers import body_check

# The deepest real key is lead[custom_fields][0][field_value][] (4 levels below `lead`).
BRACKET_MAX_DEPTH = 5
# Keys (name=value pairs) in one body: a lead with every field and a few dozen custom fields and
# actions fits many times over.
BODY_MAX_KEYS = 500
# Highest list index (actions[99], custom_fields[99]); a higher one is refused, never allocated.
LIST_MAX_ITEMS = 100
BODY_MAX_BYTES = 256 * 1024
CREDENTIAL_NAMES = ("app_id", "api_key", "api_password")

_OPTIONS = DecodeOptions(
    depth=BRACKET_MAX_DEPTH,
    strict_depth=True,
    parameter_limit=BODY_MAX_KEYS,
    list_limit=LIST_MAX_ITEMS,
    raise_on_limit_exceeded=True,
    duplicates=Duplicates.LAST,  # PHP: a repeated plain key keeps its last value
)


class ParseFailure(Exception):
    """The body is not a command API request at all: HTTP 400 in the API's error shape."""

    def __init__(self, message: str, *, field: str = "body"):
        super().__init__(message)
        self.message = message
        self.field = field


def brackets_decode(text: str) -> dict[str, Any]:
    """A form-encoded string with PHP-style brackets as nested dicts and lists."""
    if text.count("&") + 1 > BODY_MAX_KEYS * 2:  # before qs splits it: a body of nothing but '&'
        raise ParseFailure(f"More than {BODY_MAX_KEYS} keys.")
    _keys_balanced(text)
    try:
        data = decode(text, _OPTIONS)
    except IndexError as exc:
        raise ParseFailure(f"Keys are nested more than {BRACKET_MAX_DEPTH} brackets deep.") from exc
    except ValueError as exc:
        message = str(exc)
        if "list limit" in message.lower():
            message = f"A list index is above {LIST_MAX_ITEMS - 1} (or a list has more than {LIST_MAX_ITEMS} items)."
        elif "parameter limit" in message.lower():
            message = f"More than {BODY_MAX_KEYS} keys."
        raise ParseFailure(message) from exc
    except RecursionError as exc:  # pragma: no cover - depth is checked first
        raise ParseFailure("Keys are nested too deep.") from exc
    return data


# A name, then any number of [segment]s, and nothing else: `lead[email`, `lead[email]]`, `a]b` and
# `lead[a[b]]` are refused (qs and PHP would each guess something else than what was meant).
_KEY = re.compile(r"[^\[\]]+(?:\[[^\[\]]*\])*")


def _keys_balanced(text: str) -> None:
    for pair in text.split("&"):
        key = unquote_plus(pair.split("=", 1)[0])
        if key and not _KEY.fullmatch(key):
            raise ParseFailure(
                f"Unbalanced brackets in the key {key[:60]!r}.", field=key.split("[", 1)[0][:60] or "body"
            )


def _json_decode(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise ParseFailure(f"JSON nested more than {JSON_MAX_DEPTH} levels deep.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseFailure(f"JSON parse error: {str(exc)[:120]}") from exc
    if not isinstance(data, dict):
        raise ParseFailure("The JSON body must be an object.")
    _json_limits(data)
    return data


def _json_limits(data: dict[str, Any]) -> None:
    """The form's limits for a JSON body too: at most BODY_MAX_KEYS values and LIST_MAX_ITEMS items in
    any list or object (so `actions` cannot hold thousands of commands either way)."""
    values, stack = 0, [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict | list):
            if len(value) > LIST_MAX_ITEMS and value is not data:
                raise ParseFailure(f"A list or object has more than {LIST_MAX_ITEMS} items.")
            stack.extend(value.values() if isinstance(value, dict) else value)
        else:
            values += 1
            if values > BODY_MAX_KEYS:
                raise ParseFailure(f"More than {BODY_MAX_KEYS} values.")


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    try:
        body_check(data)
    except exceptions.ParseError as exc:
        raise ParseFailure(str(exc.detail)) from exc
    except exceptions.ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        field, messages = next(iter(detail.items()))
        first = messages[0] if isinstance(messages, list) else messages
        raise ParseFailure(str(first), field=str(field)) from exc
    return data


def _one_object(value: Any) -> Any:
    """A lenient client's `lead[0][email]` (a list of one object) read as `lead[email]`."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return value[0]
    return value


def request_data(request: HttpRequest) -> dict[str, Any]:
    """The call's parameters: the body by its content type (form, multipart or JSON; no or another
    content type is read as a form), then the credentials the body lacks from the query string."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isascii() or not declared.isdigit() or int(declared) > BODY_MAX_BYTES:
        raise ParseFailure(f"The body is larger than {BODY_MAX_BYTES // 1024} KiB.")
    content_type = request.content_type or ""
    try:
        if content_type == "multipart/form-data":
            pairs = [(key, value) for key, values in request.POST.lists() for value in values]
            data = brackets_decode(urlencode(pairs))
        else:
            raw = request.body
            if len(raw) > BODY_MAX_BYTES:
                raise ParseFailure(f"The body is larger than {BODY_MAX_BYTES // 1024} KiB.")
            if content_type == "application/json" or content_type.endswith("+json"):
                data = _json_decode(raw) if raw.strip() else {}
            else:
                data = brackets_decode(raw.decode("utf-8", errors="replace"))
    except (MultiPartParserError, TooManyFieldsSent, RequestDataTooBig) as exc:
        raise ParseFailure(f"Unreadable multipart body: {str(exc)[:120]}") from exc
    for name in CREDENTIAL_NAMES:
        if name not in data and name in request.GET:
            data[name] = request.GET[name]
    for name in ("lead", "get_lead"):
        if name in data:
            data[name] = _one_object(data[name])
    return _checked(data)
