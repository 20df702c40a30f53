"""End to end in a real browser: Playwright driving Debian's Chromium against the live server.

Screenshots of every page land in test-output/screenshots/. Skipped only when no Chromium
can be found (``make test`` and ``.ci/run`` install it where they can)."""

import datetime
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.urls import Resolver404, resolve

from accounts.choices import Classification
from accounts.groups import ANALYSTS, EDITORS, POLICY_STAFF, sync_groups
from agreements.choices import AgreementStatus, AgreementType, ProvisionCategory
from agreements.models import Agreement, Review
from partners.choices import ContactRole
from partners.models import PointOfContact, Posting

from .factories import (
    AgreementFactory,
    MembershipFactory,
    NationFactory,
    OrganizationFactory,
    ProvisionFactory,
    UserFactory,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

# Playwright's sync API runs an event loop in this thread; the ORM calls made here between
# browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

SHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or Path(settings.BASE_DIR) / "test-output/screenshots"
)
SECRET_TITLE = "Zebra Covert Accord"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _sync_access_groups():
    for app_config in django_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    sync_groups(django_apps)


@pytest.fixture(autouse=True)
def access_groups(transactional_db):
    """The live server needs committed data, so transactional tests flush the database
    afterwards, groups included: make sure the groups (made by a migration) are there."""
    _sync_access_groups()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def registry():
    today = datetime.date.today()
    usa = NationFactory(iso3="USA", name="United States", region="Americas")
    phl = NationFactory(iso3="PHL", name="Philippines", region="Asia")
    nato = OrganizationFactory(acronym="NATO", name="North Atlantic Treaty Organization")
    MembershipFactory(nation=usa, organization=nato, joined_on=datetime.date(1949, 8, 24))
    jane = PointOfContact.objects.create(
        name="Jane Doe",
        rank="Col.",
        role=ContactRole.DEFENSE_ATTACHE,
        represents=usa,
        posted_to=phl,
        email="jane.doe@example.org",
    )
    # Postings with long titles, the current one and two others (the nation pages list them).
    for place, start, end, title in (
        ({"nation": phl}, datetime.date(2024, 8, 1), None, "Defense attaché, also accredited"),
        ({"organization": nato}, datetime.date(2019, 8, 1), datetime.date(2023, 7, 31), ""),
        ({"nation": usa}, datetime.date(2016, 1, 1), datetime.date(2019, 6, 30), "Desk officer"),
    ):
        Posting.objects.create(contact=jane, active_from=start, active_to=end, title=title, **place)
    public = AgreementFactory(
        reference="US-PH-2014-EDCA",
        title="Enhanced Defense Cooperation Agreement",
        short_title="US-Philippines EDCA",
        summary="Rotational presence and agreed locations.",
        type=AgreementType.DCA,
        signed_on=datetime.date(2014, 4, 28),
        entered_into_force_on=datetime.date(2014, 6, 25),
        expires_on=today + datetime.timedelta(days=45),
        notice_period_days=30,
        next_review_on=today + datetime.timedelta(days=60),
        parties=[usa, phl],
    )
    ProvisionFactory(agreement=public, category=ProvisionCategory.TRAINING, title="Joint training")
    ProvisionFactory(agreement=public, category=ProvisionCategory.BASING, title="Agreed locations")
    AgreementFactory(
        reference="NATO-1951-SOFA",
        title="NATO Status of Forces Agreement",
        type=AgreementType.SOFA,
        signed_on=datetime.date(1951, 6, 19),
        entered_into_force_on=datetime.date(1953, 8, 23),
        parties=[nato, usa, phl],
    )
    secret = AgreementFactory(
        reference="SEC-0001",
        title=SECRET_TITLE,
        type=AgreementType.DEFENSE_INDUSTRIAL,
        status=AgreementStatus.SUSPENDED,
        classification=Classification.SECRET,
        signed_on=datetime.date(1977, 5, 1),
        entered_into_force_on=datetime.date(1977, 6, 1),
        expires_on=today + datetime.timedelta(days=20),
        parties=[usa, phl, nato],
    )
    ProvisionFactory(agreement=secret, category=ProvisionCategory.INTELLIGENCE_SHARING)
    return {"public": public, "secret": secret}


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # the dashboard needs a login
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_policy_staff_journey_never_sees_classified(page, live_server, registry):
    UserFactory(username="policy", group=POLICY_STAFF)
    seen = []

    def visit_check():
        html = page.content()
        seen.append(page.url)
        assert SECRET_TITLE not in html and "SEC-0001" not in html, page.url

    sign_in(page, live_server, "policy")
    assert page.locator("#count-total").inner_text() == "2"
    assert page.locator("#count-suspended").inner_text() == "0"
    assert page.get_by_role("heading", name="Agreements by type").is_visible()
    charts = page.locator(".bars").inner_text() + page.locator(".column-chart").inner_html()
    assert "Defense industrial" not in charts and "1977" not in charts
    assert "Status of forces agreement" in charts and "1951" in charts
    visit_check()
    shoot(page, "dashboard")

    # Search from the list page.
    page.get_by_role("link", name="Agreements", exact=True).click()
    main = page.locator("main")  # the header has the registry-wide search box too
    main.get_by_role("searchbox", name="Search").fill("EDCA")
    main.get_by_role("button", name="Search", exact=True).click()
    assert page.url.endswith("/agreements/?q=EDCA")
    assert page.locator("#result-count").inner_text().startswith("1 agreement matches")
    visit_check()

    # Filter by type through the form; the state is in the URL.
    page.goto(f"{live_server.url}/agreements/")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_role("checkbox", name="Status of forces agreement").check()
    page.get_by_role("button", name="Apply filters").click()
    assert page.url.endswith("/agreements/?type=sofa")
    assert page.get_by_role("link", name="NATO Status of Forces Agreement").is_visible()
    assert page.get_by_role("link", name="US-Philippines EDCA").count() == 0
    page.goto(f"{live_server.url}/agreements/?ordering=-signed_on")
    visit_check()
    shoot(page, "list")

    # A bad filter value is explained next to the form.
    page.goto(f"{live_server.url}/agreements/?signed_after=yesterday")
    assert "signed_after" in page.locator("#filter-errors").inner_text()

    # Open an agreement.
    page.goto(f"{live_server.url}/agreements/")
    page.get_by_role("link", name="US-Philippines EDCA").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Enhanced Defense Cooperation Agreement"
    )
    # The provisions (their titles are headings again under "Activities under this
    # agreement").
    provisions = page.locator("section[aria-labelledby='provisions-heading']")
    assert provisions.get_by_role("heading", name="Joint training").is_visible()
    assert provisions.get_by_role("heading", name="Basing").is_visible()
    assert page.get_by_text("Notice deadline", exact=True).is_visible()
    visit_check()
    shoot(page, "agreement")

    # Its partners.
    page.get_by_role("link", name="United States").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "United States"
    assert page.get_by_text("Jane Doe").is_visible()
    visit_check()
    shoot(page, "nation")
    page.goto(f"{live_server.url}/organizations/NATO/")
    assert page.get_by_role("heading", level=1).inner_text() == "North Atlantic Treaty Organization"
    visit_check()
    shoot(page, "organization")

    # The hidden agreement is simply not there.
    response = page.goto(f"{live_server.url}{registry['secret'].get_absolute_url()}")
    assert response.status == 404
    visit_check()

    # Deadlines and the personal calendar feed.
    page.get_by_role("link", name="Deadlines").click()
    page.get_by_role("button", name="Create my feed address").click()
    feed_url = page.locator("#feed-url a").inner_text()
    assert "/calendar/" in feed_url and feed_url.endswith(".ics")
    visit_check()
    shoot(page, "deadlines")
    with urllib.request.urlopen(feed_url) as response:  # no session: the token is the key
        body = response.read().decode()
    assert "BEGIN:VEVENT" in body and "US-PH-2014-EDCA" in body
    assert SECRET_TITLE not in body and "SEC-0001" not in body

    page.get_by_role("button", name="Turn off feed").click()
    assert page.get_by_role("button", name="Create my feed address").is_visible()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(feed_url)
    assert refused.value.code == 404

    page.get_by_role("button", name="Sign out").click()
    assert "/accounts/login/" in page.url
    assert len(seen) >= 8


def test_analyst_sees_classified_and_exports_csv(page, live_server, registry):
    UserFactory(username="analyst", group=ANALYSTS, clearance=Classification.SECRET)
    sign_in(page, live_server, "analyst")
    assert page.locator("#count-total").inner_text() == "3"
    assert page.get_by_text(SECRET_TITLE).first.is_visible()

    page.goto(f"{live_server.url}/agreements/?type=dca&type=defense_industrial")
    assert page.locator("#result-count").inner_text().startswith("2 agreements match")
    link = page.get_by_role("link", name="Export CSV")
    href = link.get_attribute("href")
    assert href == "/api/v1/agreements/export/?type=dca%2Cdefense_industrial"
    try:
        resolve("/api/v1/agreements/export/")
    except Resolver404:
        pytest.skip("the API's export endpoint is not in this build (branch api)")
    with page.expect_download() as download_info:
        link.click()
    path = download_info.value.path()
    rows = Path(path).read_text().splitlines()
    assert rows[0].startswith("id,reference,title")
    assert len(rows) == 3 and any("SEC-0001" in row for row in rows)


@pytest.fixture
def wide_page(browser):
    """A laptop's width (1366 px), where the admin's change list shows its filters beside."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _choose(page, row_selector, text):
    """Pick ``text`` in the Select2 autocomplete inside ``row_selector``."""
    page.locator(f"{row_selector} .select2-selection").first.click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def test_editor_enters_an_agreement_filters_and_records_reviews(wide_page, live_server, registry):
    page = wide_page
    editor = UserFactory(
        username="editor", group=EDITORS, clearance=Classification.CONFIDENTIAL, is_staff=True
    )
    sign_in(page, live_server, "editor")

    # The add form: two party rows and a provision row ready, the editor as owner.
    page.goto(f"{live_server.url}/admin/agreements/agreement/add/")
    assert page.locator("#parties-0").is_visible() and page.locator("#parties-1").is_visible()
    assert page.locator("#provisions-0").is_visible()
    assert "editor" in page.locator("#id_owner + .select2").inner_text()
    title = page.locator("#id_title")
    assert title.bounding_box()["width"] > 500  # wide enough for a treaty's title
    shoot(page, "admin13-add-form")
    title.fill("Agreement on Reciprocal Access between Japan and the Philippines")
    page.locator("#id_type").select_option("access")
    page.locator("#id_status").select_option("negotiating")
    _choose(page, "#parties-0", "Philippines")
    _choose(page, "#parties-1", "United States")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/agreements/agreement/")
    assert "was added successfully" in page.locator(".messagelist").inner_text()
    added = Agreement.objects.get(title__startswith="Agreement on Reciprocal Access")
    assert sorted(p.code for p in added.parties.all()) == ["PHL", "USA"]
    assert added.provisions.count() == 0 and added.owner == editor

    # The change list: filters beside it, the partner filter a text box with suggestions.
    box = page.locator("#partner-filter-input")
    box.fill("NATO")
    box.press("Enter")
    page.wait_for_url("**/admin/agreements/agreement/?partner=NATO")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "NATO-1951-SOFA" in rows.first.inner_text()
    page.goto(f"{live_server.url}/admin/agreements/agreement/?type__exact=dca")
    page.locator("#partner-filter-input").fill("PHL")
    page.locator("#partner-filter-input").press("Enter")
    page.wait_for_url("**/admin/agreements/agreement/?type__exact=dca&partner=PHL")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.locator("#partner-filter-input").input_value() == "PHL"
    shoot(page, "admin13-changelist-partner")
    page.goto(f"{live_server.url}/admin/agreements/agreement/")
    assert SECRET_TITLE not in page.content()
    shoot(page, "admin13-changelist")

    # Record a review of two agreements: a page asks, then both are recorded.
    for reference in ("US-PH-2014-EDCA", "NATO-1951-SOFA"):
        page.locator("#result_list tr", has_text=reference).locator(".action-select").check()
    page.locator("select[name=action]").select_option("record_review")
    page.get_by_role("button", name="Go").click()
    page.wait_for_selector("#record_review_form")
    assert page.locator(".record-review-agreements li").count() == 2
    page.locator("#id_outcome").select_option("continue")
    page.locator("#id_notes").fill("Both still serve their purpose.")
    shoot(page, "admin13-record-review")
    page.get_by_role("button", name="Record 2 reviews").click()
    page.wait_for_url(f"{live_server.url}/admin/agreements/agreement/")
    assert "Recorded a review of 2 agreements." in page.locator(".messagelist").inner_text()
    assert Review.objects.filter(reviewer=editor).count() == 2
    shoot(page, "admin13-reviews-recorded")


# The partner indexes, the registry-wide search, the timeline and the maps, on a phone and on
# a desktop: nothing wider than the window, nothing above the reader's clearance.
WIDTHS = (390, 1366)
PAGES_AT_WIDTHS = [
    ("nations", "/nations/"),
    ("organizations", "/organizations/"),
    ("search", "/search/?q=training"),
    ("agreement", "{public}"),
    ("dashboard", "/"),
    ("nation", "/nations/USA/"),
    ("nation-posted-here", "/nations/PHL/"),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_fit_phone_and_desktop_widths(browser, live_server, registry, width):
    UserFactory(username="policy", group=POLICY_STAFF)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, live_server, "policy")
        for name, path in PAGES_AT_WIDTHS:
            path = path.format(public=registry["public"].get_absolute_url())
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            html = page.content()
            assert SECRET_TITLE not in html and "SEC-0001" not in html, path
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{path} is {scroll} px wide at {width} px"
            shoot(page, f"{name}-{width}")

        # The header's search box, from any page, to the grouped results.
        page.goto(f"{live_server.url}/deadlines/")
        page.get_by_role("searchbox", name="Search the registry").fill("training")
        page.locator("header").get_by_role("button", name="Search").click()
        page.wait_for_url("**/search/?q=training")
        assert page.locator("#count-agreements").inner_text() == "1"
        assert page.get_by_role("link", name="US-Philippines EDCA").is_visible()

        # The timeline of the agreement shows its dates without any recorded event.
        page.goto(f"{live_server.url}{registry['public'].get_absolute_url()}")
        timeline = page.locator("ol.timeline").inner_text()
        assert "28 Apr 2014 · Signed" in timeline and "Entered into force" in timeline

        # A country on the map is a link to its nation page (by keyboard: the islands are
        # too small to aim at on a phone).
        page.goto(f"{live_server.url}/")
        page.locator('svg.map a[href="/nations/PHL/"]').focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/nations/PHL/")
        assert page.get_by_role("heading", level=1).inner_text() == "Philippines"
    finally:
        context.close()
