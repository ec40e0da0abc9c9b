"""How a lead service owns its transaction and schedules what happens after it (the rule is stated
in the leads.services package docstring; this is its code)."""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import ParamSpec, TypeVar, overload

from django.db import transaction

P = ParamSpec("P")
R = TypeVar("R")


# Typed so that a decorated service keeps its signature: a call with a wrong or missing keyword is
# a type error.
@overload
def lead_transaction(func: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def lead_transaction(func: None = None, /, *, durable: bool = False) -> transaction.Atomic: ...
def lead_transaction(
    func: Callable[P, R] | None = None, /, *, durable: bool = False
) -> Callable[P, R] | transaction.Atomic:
    """The one way a lead service owns its transaction: `@lead_transaction` (nests: a savepoint
    inside a caller's transaction, so services compose), `@lead_transaction(durable=True)` for an
    entry point that callers treat as one unit (refuses to run inside another transaction), or
    `with lead_transaction():` around a step that must roll back alone."""
    if func is not None:
        return transaction.atomic(func)
    return transaction.atomic(durable=durable)


@dataclass
class _Pending:
    ran: bool = False


# callback -> the token of its latest registration, per thread / task (a ContextVar).
_pending: ContextVar[dict[Callable[[], None], _Pending] | None] = ContextVar("lead_on_commit_pending", default=None)


def _run_once(token: _Pending, callback: Callable[[], None]) -> None:
    if token.ran:
        return
    token.ran = True
    callback()


def lead_on_commit(callback: Callable[[], None], *, once: bool = False, robust: bool = False) -> None:
    """Run `callback` after the current transaction commits (at once outside a transaction), through
    Django's public `transaction.on_commit`; never inside the transaction.

    With `once`, however often it is asked for in one transaction the callback runs once at its
    commit: every request registers a callback, and those of one commit share a token; the first to
    run does the work. A rolled-back transaction drops its callbacks with their token unspent, so the
    next transaction's still runs. (An import that writes thousands of events wakes hook delivery
    once.) `robust`: an exception in the callback is logged, not raised into the committer."""
    if not once:
        transaction.on_commit(callback, robust=robust)
        return
    pending = _pending.get()
    if pending is None:
        pending = {}
        _pending.set(pending)
    token = pending.get(callback)
    if token is None or token.ran:
        token = pending[callback] = _Pending()
    transaction.on_commit(partial(_run_once, token, callback), robust=robust)
