"""The API's JSON parser: DRF's, plus the checks every body needs before any serializer sees it.

- Nesting deeper than `JSON_MAX_DEPTH`: 400 `parse_error` (Python's decoder would otherwise run out
  of stack a few thousand levels down: a RecursionError, a 500).
- Text with a NUL (U+0000) or an unpaired surrogate (a lone "\\ud800" escape), in a value or a key,
  anywhere in the body: 400 `invalid`, naming the field. PostgreSQL stores neither, and UTF-8 cannot
  encode a lone surrogate (not even to echo it in an error message), so no text carrying one goes
  further: this is the one place that refuses them for the API.
"""

from typing import Any

from rest_framework import exceptions, parsers

from .limits import JSON_MAX_DEPTH

NUL = "must not contain NUL characters (U+0000)."
SURROGATE = "must not contain unpaired surrogates (U+D800 to U+DFFF)."
TOO_DEEP_MESSAGE = f"JSON parse error - nested more than {JSON_MAX_DEPTH} levels deep."


def text_problem(text: str) -> str | None:
    """What is wrong with this text for storing (NUL or SURROGATE), or None."""
    if "\x00" in text:
        return NUL
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE
    return None


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(TOO_DEEP_MESSAGE) from exc
        body_check(data)
        return data


def body_check(data: Any) -> None:
    """Raise ParseError for nesting past the limit, ValidationError for NUL or unpaired surrogates."""
    stack: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                _refuse(path, f"Text {problem}")
        elif isinstance(value, dict | list):
            if depth >= JSON_MAX_DEPTH:
                raise exceptions.ParseError(TOO_DEEP_MESSAGE)
            if isinstance(value, list):
                stack.extend((item, (*path, str(index)), depth + 1) for index, item in enumerate(value))
                continue
            for key, item in value.items():
                problem = text_problem(key)
                if problem:
                    _refuse(path, f"Keys {problem}")
                stack.append((item, (*path, key), depth + 1))


def _refuse(path: tuple[str, ...], message: str) -> None:
    """A field error in the exception handler's style: the top-level key names the field, the path
    below it goes before the message ({"custom_fields": ["colour: Text must not ..."]})."""
    if not path:
        raise exceptions.ValidationError({"non_field_errors": [message]})
    inner = ".".join(path[1:])
    raise exceptions.ValidationError({path[0]: [f"{inner}: {message}" if inner else message]})
