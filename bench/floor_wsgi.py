"""The floor of `make bench-api`: the API's own statements without Django's request handling, DRF or
the ORM, to show what this machine allows for that work.

`/floor/leads/search` and `/floor/actions/assign_tag` do what the API does for the same requests, with
the same SQL (compiled from the project's own queries), the same Redis scripts (throttle, hook
wake-up) and the same password check, on a raw psycopg connection (autocommit, prepared statements)
and one redis-py client per process. The response is the rows as JSON, not the lead document. Every
other path goes to the Django application, so GET /healthz is the same ceiling as in the main run.
Served by gunicorn as `floor_wsgi:application` with bench/ on the path; nothing else imports it.
"""

import base64
import json
import os
from urllib.parse import parse_qs

import django

django.setup()

import psycopg  # noqa: E402  (after django.setup(): the project's modules need settings)
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection as django_connection  # noqa: E402

from accounts.crypto import api_password_matches  # noqa: E402
from accounts.models import ApiCredential  # noqa: E402
from accounts.selectors import _credential_by_key  # noqa: E402
from accounts.throttling import request_count  # noqa: E402
from kartra_integrations.prepared import _Compiled, _insert_pair_sql, _values  # noqa: E402
from leads.models import LeadAction, LeadEvent, LeadTag, Tag  # noqa: E402
from leads.selectors.lead_document import _lead_detail_rows  # noqa: E402
from leads.selectors.lookups import _asset_by, _lead_by_email  # noqa: E402
from zaphooks.wake import dispatcher_wake_for_events  # noqa: E402

django_application = get_wsgi_application()


def _compiled(query) -> _Compiled:
    return query._for(None, _Compiled)[1]


CREDENTIAL, LEAD, TAG, DETAILS = (
    _compiled(query) for query in (_credential_by_key, _lead_by_email, _asset_by(Tag, "name"), _lead_detail_rows)
)
ASSIGN_SQL, LINK_FIELDS, EVENT_FIELDS = _insert_pair_sql(LeadTag, LeadEvent, "default")
_database = None
# The credential row starts with ApiCredential's own columns, in model order (by name: a new column
# such as `kind` moved password_hash, and every floor request answered 401).
_CREDENTIAL_COLUMNS = [field.attname for field in ApiCredential._meta.concrete_fields]
PASSWORD_HASH = _CREDENTIAL_COLUMNS.index("password_hash")
ACCOUNT_ID = _CREDENTIAL_COLUMNS.index("account_id")


def _db() -> psycopg.Connection:
    global _database
    if _database is None or _database.closed:
        _database = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=0)
    return _database


def _row(compiled: _Compiled, **values):
    return _db().execute(compiled.sql, compiled.bind(values)).fetchone()


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    payload = json.dumps(body, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _floor(environ, start_response):
    api_key, _, password = base64.b64decode(environ["HTTP_AUTHORIZATION"].split()[1]).decode().partition(":")
    credential = _row(CREDENTIAL, api_key=api_key)
    if credential is None or not api_password_matches(password, credential[PASSWORD_HASH]):
        return _answer(start_response, "401 Unauthorized", {"message": "Invalid API credentials"})
    account_id = credential[ACCOUNT_ID]
    count, _ = request_count(f"throttle_account_{account_id}", 1)
    if environ["PATH_INFO"] == "/floor/leads/search":
        email = parse_qs(environ["QUERY_STRING"])["email"][0]
        lead = _row(LEAD, account_id=account_id, email=email.lower())
        message = "Lead found"
    else:
        data = json.loads(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        lead = _row(LEAD, account_id=account_id, email=data["email"].lower())
        tag = _row(TAG, account_id=account_id, value=data["tag"])
        event = LeadEvent(account_id=account_id, lead_id=lead[0], action=LeadAction.ASSIGN_TAG, details={})
        link = LeadTag(lead_id=lead[0], tag_id=tag[0])
        values = _values(link, LINK_FIELDS, django_connection) + _values(event, EVENT_FIELDS, django_connection)
        if _db().execute(ASSIGN_SQL, values).fetchone():
            dispatcher_wake_for_events()
        message = "Tag added to lead"
    rows = _db().execute(DETAILS.sql, DETAILS.bind({"lead_id": lead[0], "account_id": account_id})).fetchall()
    return _answer(start_response, "200 OK", {"message": message, "lead": lead, "rows": rows, "count": count})


def application(environ, start_response):
    if environ["PATH_INFO"].startswith("/floor/"):
        return _floor(environ, start_response)
    return django_application(environ, start_response)
