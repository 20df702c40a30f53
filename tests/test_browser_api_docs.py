"""The API docs (Swagger UI at /api/v1/docs/) in headless Chromium, under the site's
Content-Security-Policy: the page renders every operation, one opens, and the browser reports
no error (a blocked inline style or script is a console error)."""

import pytest

from accounts.groups import ANALYSTS

from .factories import UserFactory
from .test_browser import access_groups, browser, page, shoot, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_loads_with_no_console_error(page, live_server):  # noqa: F811
    UserFactory(username="analyst", group=ANALYSTS)
    problems = []
    page.on(
        "console",
        lambda message: (
            message.type in ("error", "warning")
            and problems.append(f"{message.type}: {message.text}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    sign_in(page, live_server, "analyst")
    # Registered after signing in: the sign-in page's own icon request may be cut short by
    # the navigation away from it (net::ERR_ABORTED), which is no error of the docs page.
    page.on(
        "requestfailed",
        lambda request: (
            "ERR_ABORTED" not in (request.failure or "")
            and problems.append(f"failed: {request.url} ({request.failure})")
        ),
    )

    response = page.goto(f"{live_server.url}/api/v1/docs/")
    csp = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["style-src"] == "'self'" and "unsafe-inline" not in csp
    page.wait_for_selector(".opblock-summary", timeout=20000)
    operations = page.locator(".opblock-summary")
    assert operations.count() >= 22  # every operation of the schema
    assert page.get_by_text("List agreements, filtered").count() >= 1  # the summaries
    stats = page.locator(".opblock-summary", has_text="/api/v1/stats/").first
    stats.click()
    page.wait_for_selector(".opblock-body .parameters", timeout=10000)
    assert page.locator(".opblock-body").get_by_text("group_by").count() >= 1
    page.wait_for_timeout(500)  # anything late (fonts, images) reports by now
    shoot(page, "api-docs")
    assert problems == []
