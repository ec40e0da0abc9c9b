"""Content-Security-Policy on every kind of page, and templates without inline
script or style, which the policy would block."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.leads.factories import FormFactory, PricePointFactory, ProductFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def _anonymous(client, request):
    return client


def _owner(client, request):
    client.force_login(request.getfixturevalue("owner"))
    return client


def _moderator(client, request):
    client.force_login(request.getfixturevalue("moderator"))
    return client


def _hosted_form(request):
    return reverse(
        "hosted:form", kwargs={"public_id": FormFactory(account=request.getfixturevalue("account")).public_id}
    )


def _hosted_checkout(request):
    product = ProductFactory(account=request.getfixturevalue("account"))
    PricePointFactory(product=product, number=1)
    return reverse("hosted:checkout", kwargs={"public_id": product.public_id})


PAGES = {
    "login page": (_anonymous, lambda request: "/login/"),
    "owner page": (_owner, lambda request: "/settings/api/"),
    "owner leads page": (_owner, lambda request: "/leads/"),
    "moderator page": (_moderator, lambda request: "/moderation/queue/"),
    "hosted opt-in form": (_anonymous, _hosted_form),
    "hosted checkout": (_anonymous, _hosted_checkout),
    "API docs": (_anonymous, lambda request: "/api/v1/docs"),
    "API schema": (_anonymous, lambda request: "/api/v1/schema"),
    "API error": (_anonymous, lambda request: "/api/v1/me"),
    "admin login": (_anonymous, lambda request: "/admin/login/"),
}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_type_sends_a_policy_of_our_origin_only(client, request, page):
    who, url = PAGES[page]
    response = who(client, request).get(url(request), REMOTE_ADDR="203.0.113.7")
    assert response.status_code in (200, 401)
    policy = _directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    # Only our origin (and data: images): no host of any other site appears in the policy.
    sources = {source for values in policy.values() for source in values}
    assert not {source for source in sources if "." in source and not source.startswith("'sha256-")}


def test_only_the_api_docs_page_allows_a_blob_worker(client):
    assert _directives(client.get("/api/v1/docs"))["worker-src"] == ["'self'", "blob:"]
    assert "worker-src" not in _directives(client.get("/login/"))


def test_api_docs_load_redoc_from_our_static_files(client):
    page = client.get("/api/v1/docs").content.decode()
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
    assert sources and all(source.startswith("/static/") for source in sources)
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in sources
    assert "cdn.jsdelivr.net" not in page and "@latest" not in page
    assert "fonts.googleapis.com" not in page


def test_api_docs_style_nonce_matches_the_policy(client):
    response = client.get("/api/v1/docs")
    nonce = re.search(r'data-style-nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in _directives(response)["style-src"]


INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_template_has_inline_script_or_style():
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}: {what}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for what, pattern in INLINE.items()
        if pattern.search(line)
    ]
    assert found == []


def test_the_inline_scan_finds_what_it_looks_for():
    samples = {
        "inline <script>": "<script>alert(1)</script>",
        "<style> element": "<style>body{}</style>",
        "style attribute": '<p style="color:red">',
        "event-handler attribute": "<button onclick=\"return confirm('x')\">",
        "javascript: URL": '<a href="javascript:void(0)">',
    }
    assert all(INLINE[what].search(sample) for what, sample in samples.items())
    assert not INLINE["inline <script>"].search('<script src="/static/js/confirm.js" defer></script>')
