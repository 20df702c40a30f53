"""The engagement pages in a real browser at a phone's and a laptop's width: the list, the
month calendar, the engagement page, and the cross-links on the agreement, nation and
dashboard pages. Nothing scrolls sideways at 390 px, axe-core finds nothing serious, and a
secret engagement never shows for policy staff. Screenshots in SCREENSHOT_DIR (default
test-output/screenshots)."""

import datetime

import pytest

from accounts.choices import Classification
from accounts.groups import POLICY_STAFF
from engagements.choices import EngagementStatus
from partners.models import Nation

from . import test_browser as base
from .factories import EngagementFactory, UserFactory
from .test_browser_list import WIDTHS, open_page, page_width, serious_violations, shoot

access_groups = base.access_groups
browser = base.browser
registry = base.registry
sign_in = base.sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHADOW = "Zebra Shadow Drill"


@pytest.fixture
def engagements(registry):
    """Engagements this month and last under the public agreement (one over a month's end,
    one with a long title), and a secret one."""
    today = datetime.date.today()
    public = registry["public"]
    usa, phl = Nation.objects.get(iso3="USA"), Nation.objects.get(iso3="PHL")
    provision = public.provisions.get(title="Joint training")
    first = today.replace(day=1)
    rows = [
        EngagementFactory(
            title="Balikatan with a rather long name for a combined joint exercise",
            status=EngagementStatus.COMPLETED,
            starts_on=first - datetime.timedelta(days=10),
            ends_on=first + datetime.timedelta(days=3),
            location="Luzon and Palawan",
            participants=[phl, usa],
        ),
        EngagementFactory(
            title="Staff talks",
            kind="staff_talks",
            starts_on=first + datetime.timedelta(days=12),
            ends_on=first + datetime.timedelta(days=13),
            participants=[usa, phl],
        ),
        EngagementFactory(
            title="Port visit",
            kind="port_visit",
            starts_on=first + datetime.timedelta(days=12),
            ends_on=first + datetime.timedelta(days=16),
            participants=[phl, usa],
        ),
        EngagementFactory(
            title=SHADOW,
            classification=Classification.SECRET,
            starts_on=first + datetime.timedelta(days=5),
            ends_on=first + datetime.timedelta(days=8),
            participants=[phl, usa],
        ),
    ]
    for engagement in rows:
        engagement.agreements.add(public)
        engagement.provisions.add(provision)
    return rows


@pytest.mark.parametrize("width", WIDTHS)
def test_engagement_pages_fit_and_hide_the_secret(
    browser, live_server, registry, engagements, width
):
    UserFactory(username="policy", group=POLICY_STAFF)
    context, page = open_page(browser, width)
    month = datetime.date.today().strftime("%Y-%m")
    pages = [
        ("engagements", "/engagements/"),
        ("engagements-filtered", "/engagements/?partner=PHL&kind=exercise,port_visit"),
        ("engagement-calendar", f"/engagements/calendar/?month={month}"),
        ("engagement", engagements[0].get_absolute_url()),
        ("agreement-activities", f"{registry['public'].get_absolute_url()}#activities"),
        ("nation-engagements", "/nations/PHL/"),
        ("dashboard-engagements", "/"),
    ]
    try:
        sign_in(page, live_server, "policy")
        for name, path in pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            html = page.content()
            assert SHADOW not in html and "SEC-0001" not in html, path
            assert page_width(page) <= width, f"{path} is {page_width(page)} px wide"
            assert serious_violations(page) == [], path
            shoot(page, f"{name}-{width}")

        # The navigation reaches the list; a heading sorts it.
        page.goto(f"{live_server.url}/")
        page.get_by_role("link", name="Engagements", exact=True).click()
        page.wait_for_url("**/engagements/")
        assert page.locator("#result-count").inner_text().startswith("3 engagements match")
        page.get_by_role("link", name="Title (sort ascending)").click()
        assert page.url.endswith("/engagements/?ordering=title")

        # The calendar: on a laptop the grid of weeks, on a phone the list of days.
        page.goto(f"{live_server.url}/engagements/calendar/?month={month}")
        grid = page.locator("table.month")
        agenda = page.locator(".agenda-days")
        assert agenda.is_visible()
        assert grid.is_visible() is (width > 640)
        page.locator("#next-month").click()
        assert "month=" in page.url and page.locator("h1").inner_text() != ""
        response = page.goto(f"{live_server.url}/engagements/calendar/?month=2026-13")
        assert response.status == 400
        assert "There is no month 13" in page.locator("#month-error").inner_text()
        assert page_width(page) <= width
        shoot(page, f"engagement-calendar-bad-month-{width}")
    finally:
        context.close()
