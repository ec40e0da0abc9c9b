"""Which filter keys fit which event, and whether an event's details match a resolved filter.

A filter names the asset an event is about, by id or exact name; it is resolved to ids once, at
subscribe time (`filter_resolve`), so matching an event is a dictionary walk with no queries.
"""

from collections.abc import Callable

from kartra_integrations.limits import SCORE_MAX, ascii_int
from leads.models import ASSET_KINDS, LeadAction

# The 26 trigger events: the lead event actions of the outbox, in the seed's order.
EVENTS = tuple(LeadAction.values)

# filter key -> the events it fits, and the names under which its id appears inside action_details
# (searched at any depth): an asset kind or part of leads.models.ASSET_KINDS, each after its asset.
KEY_EVENTS: dict[str, tuple[str, ...]] = {}
DETAIL_ID_KEYS: dict[str, tuple[str, ...]] = {}
# A child key is resolved within its parent: a class within a calendar, and so on. A class or a
# level is named by id or by a name unique only within its parent, so it needs the parent; a
# price point is named by its id, unique on its own, so the product is optional (checked when given).
PARENT_KEY: dict[str, str] = {}
PARENT_REQUIRED: set[str] = set()
for _kind in ASSET_KINDS:
    if not _kind.filterable:
        continue
    KEY_EVENTS[_kind.key] = tuple(str(event) for event in _kind.events)
    DETAIL_ID_KEYS[_kind.key] = _kind.detail_id_keys
    if _kind.part is not None and _kind.part.events:
        KEY_EVENTS[_kind.part.key] = tuple(str(event) for event in _kind.part.events)
        DETAIL_ID_KEYS[_kind.part.key] = _kind.part.detail_id_keys
        PARENT_KEY[_kind.part.key] = _kind.key
        if _kind.part.parent_required:
            PARENT_REQUIRED.add(_kind.part.key)
KEY_EVENTS["score"] = (str(LeadAction.REACHES_SCORE),)


def keys_for_event(event: str) -> list[str]:
    return [key for key, events in KEY_EVENTS.items() if event in events]


def filter_problems(event: str, raw: dict) -> dict[str, list[str]]:
    """Field errors for the shape of a filter (not whether its assets exist)."""
    problems: dict[str, list[str]] = {}
    if not isinstance(raw, dict):
        return {"filter": ["The filter must be an object."]}
    fitting = keys_for_event(event)
    for key, value in raw.items():
        if key not in fitting:
            allowed = ", ".join(fitting) or "none"
            problems[key] = [f"This filter does not fit the event {event} (it takes: {allowed})."]
        elif key == "score":
            if not _positive_integer(value):
                problems[key] = [f"The score must be a whole number from 1 to {SCORE_MAX:,}."]
        elif isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
            problems[key] = ["Give the id or the exact name."]
        elif key in PARENT_REQUIRED and PARENT_KEY[key] not in raw:
            problems[key] = [f"Give the {PARENT_KEY[key]} too."]
    if event == "reaches_score" and "score" not in raw:
        problems["score"] = ["The reaches_score event needs a score (a positive integer)."]
    return problems


def _positive_integer(value) -> bool:
    return ascii_int(value, max_value=SCORE_MAX) is not None


Resolver = Callable[[str, str, int | None], int]


def filter_resolve(event: str, raw: dict, resolve: Resolver) -> dict:
    """Asset ids for a valid filter. `resolve(key, ref, parent_id)` returns an id or raises NotFound."""
    resolved: dict = {}
    for key in sorted(raw, key=lambda k: k in PARENT_KEY):  # parents first
        if key == "score":
            resolved["score"] = ascii_int(raw["score"], max_value=SCORE_MAX)
        else:
            parent = PARENT_KEY.get(key)
            resolved[key] = resolve(key, str(raw[key]).strip(), resolved.get(parent) if parent else None)
    return resolved


def _ids_in(details, names: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    stack = [details]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for name, value in node.items():
                if name in names and not isinstance(value, dict | list):
                    found.add(str(value))
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def filter_matches(resolved: dict, details: dict, *, score_matches: Callable[[dict, int], bool] | None = None) -> bool:
    for key, wanted in resolved.items():
        if key == "score":
            if score_matches is None or not score_matches(details, wanted):
                return False
        elif str(wanted) not in _ids_in(details, DETAIL_ID_KEYS[key]):
            return False
    return True
