"""Review of issue 13 ("what users of the best registries expect"): the partner pages, the
search, the list's sorting and the pages at 390 px. Each test pins a finding of that review
(it failed before the fix) and says in its docstring what was wrong and how much it mattered.
Most read the world of tests/world.py (frozen on 15 June 2026)."""

import os
import shutil

import pytest

from accounts.groups import POLICY_STAFF
from partners.choices import ContactRole
from partners.services import point_of_contact_save

from .api_helpers import client_for
from .factories import AgreementFactory, UserFactory
from .world import TODAY

READER_ONLY = ["agreements.view_agreement"]


def get(client, user, url, status=200) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content[:800]
    return response.content.decode()


# Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/nations/USA/", "/nations/PHL/", "/organizations/NATO/"])
def test_partner_pages_show_contacts_only_with_the_permission_to_view_them(client, world, url):
    """MEDIUM. The search leaves points of contact out for a reader without
    ``partners.view_pointofcontact`` (and the API answers 403), but the nation and
    organization pages listed the same people, with their e-mail addresses, to anyone who
    may read agreements: Col. Jane Doe (represents the USA, posted to the Philippines, USA a
    NATO member) was on all three pages for a reader with ``view_agreement`` alone."""
    reader = UserFactory(username="reader", permissions=READER_ONLY)
    html = get(client, reader, url)
    assert "Jane Doe" not in html and "jane.doe@example.org" not in html
    assert 'id="contacts-heading"' not in html


def test_partner_pages_still_show_contacts_to_those_who_may_see_them(client, world, viewer):
    for url in ("/nations/USA/", "/nations/PHL/", "/organizations/NATO/"):
        assert "jane.doe@example.org" in get(client, viewer, url)


def test_partner_history_leaves_contacts_out_without_the_permission(client, partners):
    """MEDIUM, with the one above. A contact's records belong to the nation it represents,
    so the nation page's change history also told a reader without the permission who the
    contact is and their e-mail address ("Point of contact added: Maj. Ann Roe")."""
    point_of_contact_save(
        name="Ann Roe",
        rank="Maj.",
        role=ContactRole.DEFENSE_ATTACHE,
        represents="USA",
        email="ann.roe@example.org",
    )
    reader = UserFactory(username="reader", permissions=READER_ONLY)
    html = get(client, reader, "/nations/USA/")
    assert "Ann Roe" not in html and "ann.roe@example.org" not in html
    viewer = UserFactory(username="viewer2", group=POLICY_STAFF)
    assert "ann.roe@example.org" in get(client, viewer, "/nations/USA/")


def test_dashboard_changes_leave_contacts_out_without_the_permission(client, partners):
    """MEDIUM, the same on the dashboard: its ten newest changes named the contact."""
    point_of_contact_save(
        name="Ann Roe", role=ContactRole.DEFENSE_ATTACHE, represents="USA", email="a@example.org"
    )
    reader = UserFactory(username="reader", permissions=READER_ONLY)
    assert "Ann Roe" not in get(client, reader, "/")
    viewer = UserFactory(username="viewer2", group=POLICY_STAFF)
    assert "Ann Roe" in get(client, viewer, "/")


# Sorting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["expires_on", "next_review_on"])
@pytest.mark.parametrize("direction", ["", "-"])
def test_sorting_by_a_date_puts_the_rows_without_one_last_on_every_database(
    client, viewer, partners, field, direction
):
    """MEDIUM. "Expires" sorted ascending (the list's sortable heading, the API's
    ``ordering=expires_on``) is how one asks what expires first; on SQLite every agreement
    without an expiry came first (most of the demo: a page of "—"), and on PostgreSQL the same
    happened in descending order: the order depended on the database. Rows without the date
    now come last in both directions, on both."""
    AgreementFactory(reference="A-DATED", **{field: TODAY})
    AgreementFactory(reference="B-UNDATED", **{field: None})
    response = client_for(viewer).get("/api/v1/agreements/", {"ordering": f"{direction}{field}"})
    assert [row["reference"] for row in response.json()["results"]] == ["A-DATED", "B-UNDATED"]
    html = get(client, viewer, f"/agreements/?ordering={direction}{field}")
    assert html.index("A-DATED") < html.index("B-UNDATED")


# Pages on a phone --------------------------------------------------------------------------

LONG_WORD = "x" * 120  # a pasted address or reference: one word wider than a phone


@pytest.fixture
def phone(live_server, transactional_db):
    """A 390 px browser signed in as an uncleared reader (skipped without Chromium)."""
    if not shutil.which(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")):
        pytest.skip("no Chromium")
    from . import test_browser as browser_tests

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    browser_tests._sync_access_groups()
    UserFactory(username="policy", group=POLICY_STAFF)
    with browser_tests.playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_tests.CHROMIUM, args=browser_tests.ARGS
        )
        page = browser.new_context(viewport={"width": 390, "height": 900}).new_page()
        page.set_default_timeout(15000)
        browser_tests.sign_in(page, live_server, "policy")
        yield page
        browser.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    "path",
    [
        f"/search/?q={LONG_WORD}",
        f"/agreements/?party={LONG_WORD}",
        f"/nations/?q={LONG_WORD}",
        f"/agreements/?q={LONG_WORD}&type=sofa",
    ],
)
def test_a_long_word_in_the_query_does_not_widen_the_page_on_a_phone(phone, live_server, path):
    """LOW. One long word in a search or a filter (a pasted address, a mistyped code) was
    echoed in the heading, the error summary and the field's error without breaking, so the
    page scrolled sideways at 390 px: the search page was 2,709 px wide, the agreement list
    574 px."""
    phone.goto(f"{live_server.url}{path}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width} px wide at 390 px"
