"""The floor of `make bench-api`: the API's own statements without Django's request handling, DRF or
the ORM, to show what this machine allows for that work.

`/floor/leads/search` and `/floor/actions/assign_tag` do what the API does for the same requests, with
the same SQL (compiled from the project's own queries: search's one statement finds the lead and reads
its document; assign_tag's finds the lead and the tag, writes the link with its event and reads the
document), the same Redis scripts (throttle
with the credential epoch, hook wake-up) on a raw psycopg connection (autocommit, prepared
statements) and one redis-py client per process. Authentication is the API's own function
(accounts.credential_cache): the password's digest, the process's verified credentials and the
throttle script that reads the epoch; PostgreSQL only on a key's first requests, as in the API.
The response is the rows as JSON, not the lead document. Every
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

from accounts.credential_cache import api_credential_authenticate  # noqa: E402
from kartra_integrations.prepared import insert_params  # noqa: E402
from leads.models import LeadAction, LeadEvent, LeadTag, Tag  # noqa: E402
from leads.selectors.lead_document import _lead_with_details_statement  # noqa: E402
from leads.selectors.lookups import _asset_by, _lead_by  # noqa: E402
from leads.services.links import TAG_ASSIGN, _link_statement  # noqa: E402
from zaphooks.wake import dispatcher_wake_for_events  # noqa: E402

django_application = get_wsgi_application()


LEAD_BY_EMAIL, TAG_BY_NAME = _lead_by("email", False), _asset_by(Tag, "name")
# search's one statement (leads.selectors.lead_get_with_details): the lead and its document.
SEARCH = _lead_with_details_statement(LEAD_BY_EMAIL)
# assign_tag's one statement (leads.services.links.lead_tag_assign_read), for a tag given by name.
ASSIGN = _link_statement(LEAD_BY_EMAIL, (TAG_BY_NAME,), TAG_ASSIGN)
LEAD_WIDTH, TAG_WIDTH = LEAD_BY_EMAIL.width(), TAG_BY_NAME.width()
_database = None


def _db() -> psycopg.Connection:
    global _database
    if _database is None or _database.closed:
        _database = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=0)
    return _database


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    payload = json.dumps(body, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _floor(environ, start_response):
    api_key, _, password = base64.b64decode(environ["HTTP_AUTHORIZATION"].split()[1]).decode().partition(":")
    credential, counted = api_credential_authenticate(api_key=api_key, password=password)
    if credential is None or counted is None:
        return _answer(start_response, "401 Unauthorized", {"message": "Invalid API credentials"})
    account_id = credential.account_id
    if environ["PATH_INFO"] == "/floor/leads/search":
        email = parse_qs(environ["QUERY_STRING"])["email"][0]
        values = {"account_id": account_id, "lead.account_id": account_id, "lead.value": email.lower()}
        rows = _db().execute(SEARCH.text, SEARCH.bind(values)).fetchall()
        lead, details = rows[0][:LEAD_WIDTH], [row[LEAD_WIDTH:] for row in rows]
        body = {"message": "Lead found", "lead": lead, "rows": details, "count": counted.count}
        return _answer(start_response, "200 OK", body)
    data = json.loads(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
    event = LeadEvent(account_id=account_id, action=LeadAction.ASSIGN_TAG)
    values = {"account_id": account_id, "lead.account_id": account_id, "lead.value": data["email"].lower()}
    values |= {"asset0.account_id": account_id, "asset0.value": data["tag"]}
    values |= insert_params(event, name="event") | insert_params(LeadTag(), name="link")
    rows = _db().execute(ASSIGN.text, ASSIGN.bind(values)).fetchall()
    if rows[0][LEAD_WIDTH + TAG_WIDTH]:
        dispatcher_wake_for_events()
    lead, details = rows[0][:LEAD_WIDTH], [row[LEAD_WIDTH + TAG_WIDTH + 1 :] for row in rows]
    body = {"message": "Tag added to lead", "lead": lead, "rows": details, "count": counted.count}
    return _answer(start_response, "200 OK", body)


def application(environ, start_response):
    if environ["PATH_INFO"].startswith("/floor/"):
        return _floor(environ, start_response)
    return django_application(environ, start_response)
