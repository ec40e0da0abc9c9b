"""`Idempotency-Key` for every API write: the same key with the same request replays the first response.

How a write view uses it (leads.api.actions.ActionApi, and any other POST that changes data):

    return idempotent(request, lambda: Response(...work...))

- No header: the work runs as usual.
- A new key: the key is reserved for the account (a row in accounts.IdempotencyKey, committed at once,
  so a concurrent request with the same key sees it), the work runs in its own transaction (the
  service's), and a successful (2xx) response is stored with the key. A refused or failed request
  frees the key: nothing was written, so running it again is safe, and a corrected retry may reuse it.
- The same key and the same request within IDEMPOTENCY_KEY_TTL: the stored response, with the header
  `Idempotent-Replayed: true`, and no work done.
- The same key with a different request (method, path or JSON body): 422 idempotency_key_reused.
- The same key while the first request still runs: 409 idempotency_key_in_progress. A reservation
  whose request died (older than IDEMPOTENCY_LOCK_TIMEOUT without a response) may be taken over.

- The same key after the lead its stored response names was erased (leads.services.data_rights.lead_erase):
  410 lead_erased, whatever the request; the stored body is gone and the work is not done again (a
  retried create_lead must not bring an erased person back). The row expires as any other.

The reservation and the work are two transactions on purpose: services own their transaction
(durable), so the work cannot be nested inside one opened here. Expired rows are deleted by the
beat task accounts.tasks.idempotency_keys_expire.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import cast

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Account, ApiCredential, IdempotencyKey

from .errors import ApplicationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(minutes=5)
MAX_KEY_LENGTH = 255
# What a row holds once its lead is erased: no fingerprint (a hash of a body with the address in it)
# and no response body, only this status. A stored response is otherwise always 2xx.
ERASED_STATUS = status.HTTP_410_GONE
LEAD_ERASED_MESSAGE = "The lead this request concerned has been erased; its response is no longer kept."


def idempotent(request: Request, perform: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return perform()
    _validate_key(key)
    account = cast(ApiCredential, request.auth).account  # the API's authentication sets it
    fingerprint = request_fingerprint(request)
    record = idempotency_key_reserve(account=account, key=key, fingerprint=fingerprint)
    if record.response_status == ERASED_STATUS:
        raise ApplicationError(LEAD_ERASED_MESSAGE, code="lead_erased", status_code=ERASED_STATUS)
    if record.fingerprint != fingerprint:
        raise ApplicationError(
            "This Idempotency-Key was already used with a different request",
            code="idempotency_key_reused",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if record.response_status is not None:
        response = Response(record.response_body, status=record.response_status)
        response[REPLAYED_HEADER] = "true"
        return response
    if not record.reserved_now:
        raise ApplicationError(
            "A request with this Idempotency-Key is still in progress",
            code="idempotency_key_in_progress",
            status_code=status.HTTP_409_CONFLICT,
        )

    try:
        response = perform()
    except BaseException:
        idempotency_key_release(record_id=record.id)
        raise
    if status.is_success(response.status_code):
        idempotency_key_store(record_id=record.id, response=response)
    else:
        idempotency_key_release(record_id=record.id)
    return response


def _validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ApplicationError(
            f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            code="invalid_idempotency_key",
        )


def request_fingerprint(request: Request) -> str:
    """The request as the client meant it: method, path and the JSON body with its keys sorted."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def idempotency_key_reserve(*, account: Account, key: str, fingerprint: str) -> IdempotencyKey:
    """Reserve `key` for this request, or return the row that holds it (`reserved_now` says which).

    One INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite): of two concurrent requests
    exactly one inserts; the other waits for it to commit and then reads its row. An expired row,
    or an unfinished one past the lock timeout, is taken over with a conditional update.
    """
    now = timezone.now()
    q = connection.ops.quote_name
    table, account_id, key_column = q(IdempotencyKey._meta.db_table), q("account_id"), q("key")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({account_id}, {key_column}, {q('fingerprint')}, {q('created_at')}) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s) ON CONFLICT ({account_id}, {key_column}) DO NOTHING RETURNING {q('id')}",
            [account.id, key, fingerprint, now],
        )
        row = cursor.fetchone()
    if row is not None:
        return _reserved(IdempotencyKey(id=row[0], account=account, key=key, fingerprint=fingerprint, created_at=now))

    record = IdempotencyKey.objects.get(account=account, key=key)
    expired = record.created_at <= now - IDEMPOTENCY_KEY_TTL
    abandoned = record.response_status is None and record.created_at <= now - IDEMPOTENCY_LOCK_TIMEOUT
    if expired or abandoned:
        taken = IdempotencyKey.objects.filter(
            pk=record.pk, created_at=record.created_at, response_status=record.response_status
        ).update(fingerprint=fingerprint, created_at=now, response_status=None, response_body=None)
        if taken:
            record.fingerprint, record.created_at, record.response_status, record.response_body = (
                fingerprint,
                now,
                None,
                None,
            )
            return _reserved(record)
        record.refresh_from_db()
    record.reserved_now = False
    return record


def _reserved(record: IdempotencyKey) -> IdempotencyKey:
    record.reserved_now = True
    return record


def idempotency_key_store(*, record_id: int, response: Response) -> None:
    """Keep the response with its key; as the erased marker if its lead was erased meanwhile.

    The lead's row is locked first (the erasure locks it too), so either the erasure has committed and
    is seen here, or it comes after this commit and its idempotency_keys_erase finds this row."""
    lead_id = response_lead_id(response.data)
    if lead_id is None:
        IdempotencyKey.objects.filter(pk=record_id).update(
            response_status=response.status_code, response_body=response.data
        )
        return
    from leads.services.data_rights import lead_erased_locked

    with transaction.atomic():
        if lead_erased_locked(lead_id=lead_id):
            IdempotencyKey.objects.filter(pk=record_id).update(**_ERASED)
        else:
            IdempotencyKey.objects.filter(pk=record_id).update(
                response_status=response.status_code, response_body=response.data
            )


def response_lead_id(body) -> int | None:
    """The id of the lead whose document a response carries (the actions' {"message", "lead": {...}})."""
    lead = body.get("lead") if isinstance(body, dict) else None
    lead_id = lead.get("id") if isinstance(lead, dict) else None
    return lead_id if isinstance(lead_id, int) else None


_ERASED = {"fingerprint": "", "response_status": ERASED_STATUS, "response_body": None}


def idempotency_keys_erase(*, account_id: int, lead_id: int) -> int:
    """The lead was erased: every stored response carrying its document becomes the erased marker.
    One UPDATE on the account's keys (the table holds 24 hours of them); returns the rows changed."""
    return IdempotencyKey.objects.filter(account_id=account_id, response_body__lead__id=lead_id).update(**_ERASED)


def idempotency_key_release(*, record_id: int) -> None:
    IdempotencyKey.objects.filter(pk=record_id, response_status__isnull=True).delete()


def idempotency_keys_expire(*, now=None) -> int:
    """Delete keys past their TTL; returns how many. Run by the beat task."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
