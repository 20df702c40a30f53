"""The agreement list and the fit of every page, in a real browser at a phone's width (390
px) and a laptop's (1366 px): filters by name, a chip removes its filter, a heading sorts;
no page scrolls sideways on the phone; and axe-core (from the axe-playwright-python package)
finds nothing serious or critical on any of those pages (the demo: on the dashboard, the
list and NATO's founding treaty).

Uses the Chromium, live server and data of tests/test_browser.py. Screenshots go to
$SCREENSHOT_DIR (default test-output/screenshots/)."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.choices import Classification
from accounts.groups import ANALYSTS
from agreements.choices import AgreementType
from agreements.models import Agreement

from . import test_browser as base
from .factories import AgreementFactory, NationFactory, UserFactory

# The Chromium, the access groups and the data of tests/test_browser.py (which skips the
# module when there is no Chromium).
access_groups = base.access_groups
browser = base.browser
registry = base.registry
sign_in = base.sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or settings.BASE_DIR / "test-output" / "screenshots")
WIDTHS = (390, 1366)
LONG_URL = "https://treaties.example.org/collections/defence/" + "x" * 90 + "/full-text.pdf"


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def open_page(browser, width):
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each."""
    axe = pytest.importorskip("axe_playwright_python.base", reason="axe-playwright-python")
    page.evaluate(axe.AXE_SCRIPT)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def many_parties(registry):
    """An agreement of thirty parties with a long source address, like NATO's founding
    treaty in the demo."""
    nations = [NationFactory(iso3=f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}") for i in range(30)]
    return AgreementFactory(
        reference="MANY-1949",
        title="A treaty of very many parties with a long source address",
        type=AgreementType.ALLIANCE,
        signed_on=datetime.date(1949, 4, 4),
        source_url=LONG_URL,
        parties=nations,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_list_filters_by_name_chips_and_sorting(browser, live_server, registry, width):
    UserFactory(username="analyst", group=ANALYSTS, clearance=Classification.SECRET)
    context, page = open_page(browser, width)
    try:
        sign_in(page, live_server, "analyst")
        page.goto(f"{live_server.url}/agreements/")
        assert page_width(page) <= width
        assert page.locator('#partner-names option[value="Philippines"]').count() == 1

        # A name typed in the party field, two boxes ticked: one short address.
        page.get_by_text("Filters", exact=True).click()
        page.get_by_label("All of these parties").fill("Philippines")
        page.get_by_role("checkbox", name="Status of forces agreement").check()
        page.get_by_role("checkbox", name="Defense cooperation agreement").check()
        page.get_by_role("button", name="Apply filters").click()
        assert page.url.endswith("/agreements/?party=Philippines&type=dca%2Csofa")
        assert page.locator("#result-count").inner_text().startswith("2 agreements match")
        assert page_width(page) <= width
        shoot(page, f"list-filtered-{width}")

        # Each value is a chip; following one removes only that value.
        chips = page.locator("#active-filters a.chip")
        assert chips.count() == 3
        page.get_by_role("link", name="Remove Type: Status of forces agreement").click()
        assert page.url.endswith("/agreements/?party=Philippines&type=dca")
        assert page.locator("#result-count").inner_text().startswith("1 agreement matches")
        assert page.get_by_role("link", name="US-Philippines EDCA").is_visible()
        page.get_by_role("link", name="Clear all", exact=True).first.click()
        assert page.url.endswith("/agreements/")
        assert page.locator("#result-count").inner_text().startswith("3 agreements match")

        # Headings sort, and say which one is the order.
        signed = page.locator("th", has_text="Signed")
        assert signed.get_attribute("aria-sort") == "descending"
        page.get_by_role("link", name="Reference (sort ascending)").click()
        assert page.url.endswith("/agreements/?ordering=reference")
        assert page.locator("th", has_text="Reference").get_attribute("aria-sort") == "ascending"
        assert signed.get_attribute("aria-sort") is None
        refs = page.locator("tbody td.ref").all_inner_texts()
        assert refs == sorted(refs) and len(refs) == 3
        page.get_by_role("link", name="Reference (sort descending)").click()
        assert page.url.endswith("/agreements/?ordering=-reference")
        assert page.locator("tbody td.ref").all_inner_texts() == sorted(refs, reverse=True)
        page.get_by_role("link", name="Status (sort ascending)").click()
        assert page.locator("th", has_text="Status").get_attribute("aria-sort") == "ascending"
        assert page_width(page) <= width
        shoot(page, f"list-sorted-{width}")
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_and_has_no_serious_axe_violation(
    browser, live_server, registry, many_parties, width
):
    UserFactory(username="analyst", group=ANALYSTS, clearance=Classification.SECRET)
    context, page = open_page(browser, width)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        assert page_width(page) <= width
        assert serious_violations(page) == []
        shoot(page, f"fit-login-{width}")
        sign_in(page, live_server, "analyst")
        pages = {
            "dashboard": "/",
            "list": "/agreements/?type=dca,sofa,alliance",
            "agreement": many_parties.get_absolute_url(),
            "deadlines": "/deadlines/",
            "nation": "/nations/USA/",
            "organization": "/organizations/NATO/",
            "nations": "/nations/",
            "organizations": "/organizations/",
            "search": "/search/?q=treaty",
        }
        for name, url in pages.items():
            page.goto(f"{live_server.url}{url}")
            assert page_width(page) <= width, name
            assert serious_violations(page) == [], name
            shoot(page, f"fit-{name}-{width}")
        # The long source address wraps inside its card.
        page.goto(f"{live_server.url}{many_parties.get_absolute_url()}")
        source = page.get_by_role("link", name=LONG_URL[:40], exact=False)
        box = source.bounding_box()
        assert box["x"] + box["width"] <= width
    finally:
        context.close()


def test_the_demo_fits_a_phone(browser, live_server):
    """The demo's real records (NATO's founding treaty has thirty-two parties and long
    notes on their acts) at 390 px, with axe on the dashboard, list and treaty."""
    call_command("setup_demo", stdout=io.StringIO())
    UserFactory(username="reader", group=ANALYSTS, clearance=Classification.SECRET)
    nato = Agreement.objects.get(reference="NATO-1949-NAT")
    context, page = open_page(browser, 390)
    try:
        sign_in(page, live_server, "reader")
        for name, url in {
            "demo-dashboard": "/",
            "demo-list": "/agreements/",
            "demo-agreement": nato.get_absolute_url(),
            "demo-deadlines": "/deadlines/",
            "demo-nation": "/nations/PHL/",
            "demo-organization": "/organizations/NATO/",
        }.items():
            page.goto(f"{live_server.url}{url}")
            assert page_width(page) <= 390, name
            if name in ("demo-dashboard", "demo-list", "demo-agreement"):
                assert serious_violations(page) == [], name
            shoot(page, f"{name}-390")
    finally:
        context.close()


def test_axe_finds_the_chart_markup_this_replaced(browser):
    """The check can fail: links inside an svg of role="img" (the year chart before) are
    nested interactive elements, a serious violation."""
    context, page = open_page(browser, 390)
    try:
        page.set_content(
            '<!doctype html><html lang="en"><title>t</title><main>'
            '<svg role="img" aria-label="chart"><a href="/a"><rect width="9" height="9"/></a>'
            "</svg></main></html>"
        )
        assert any(line.startswith("nested-interactive") for line in serious_violations(page))
    finally:
        context.close()
