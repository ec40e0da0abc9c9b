"""The API docs page renders ReDoc from our own files under our Content-Security-Policy."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_with_no_csp_violation_and_no_other_origin(live_server, browser_page):
    page = browser_page
    errors, violations, origins = [], [], set()
    page.on(
        "console",
        # The browser's own request for /favicon.ico (we serve none) is not the page's doing.
        lambda message: (
            message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico")
            and errors.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: origins.add(response.url.split("/", 3)[2]))
    # Every violation of the policy is also a DOM event: count them from the first script on.
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    # ReDoc rendered the schema: the title and an operation of it.
    page.get_by_role("heading", name="Kartra Integrations API").first.wait_for()
    page.get_by_text("platform_event_record").first.wait_for(state="attached")
    # Its search box works (the search index is built in a Web Worker).
    page.get_by_placeholder("Search...").fill("events")
    page.locator("[role=search] li, .search-result, [data-role='search:results'] li").first.wait_for()
    violations.extend(page.evaluate("window.__cspViolations"))

    # ReDoc's sidebar credit is an <img> hard-coded to cdn.redoc.ly: the policy blocks it, as it
    # should (no request leaves our origin; ReDoc hides the broken image). Nothing else is refused.
    blocked_logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [v for v in violations if v != f"img-src {blocked_logo}"] == []
    assert [e for e in errors if blocked_logo not in e] == []
    host = live_server.url.split("/", 3)[2]
    assert origins == {host}  # every file came from us: nothing answered from another origin
