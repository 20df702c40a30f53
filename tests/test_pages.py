"""The browser pages: access, the clearance rule on every page (counts and charts included),
bad input, and no query per row."""

import datetime
import gzip
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import Classification
from agreements.choices import AgreementStatus, AgreementType, ProvisionCategory
from agreements.models import Agreement, AgreementEvent, Reminder, Review
from agreements.services import provision_save
from partners.choices import ContactRole
from partners.models import PointOfContact

from .factories import (
    AgreementFactory,
    MembershipFactory,
    NationFactory,
    ProvisionFactory,
)

SECRET_TITLE = "Zebra Covert Accord"


@pytest.fixture
def world(db, partners, frozen_today):
    """One public agreement and one secret one, both with the USA, NATO and PHL, each due
    within 90 days; the secret one has a distinctive title, type, year and provision."""
    usa, phl, nato = partners["USA"], partners["PHL"], partners["NATO"]
    MembershipFactory(nation=usa, organization=nato, joined_on=datetime.date(1949, 8, 24))
    PointOfContact.objects.create(
        name="Jane Doe",
        rank="Col.",
        role=ContactRole.DEFENSE_ATTACHE,
        represents=usa,
        posted_to=phl,
        email="jane.doe@example.org",
    )
    public = AgreementFactory(
        title="Public Training Accord",
        type=AgreementType.TRAINING,
        signed_on=datetime.date(2015, 3, 1),
        entered_into_force_on=datetime.date(2015, 6, 1),
        expires_on=frozen_today + datetime.timedelta(days=30),
        next_review_on=frozen_today + datetime.timedelta(days=40),
        parties=[usa, phl, nato],
    )
    provision_save(agreement=public, category=ProvisionCategory.TRAINING, title="Courses")
    provision_save(
        agreement=public,
        category=ProvisionCategory.CYBER,
        title="Hidden annex on cyber",
        classification=Classification.SECRET,
    )
    secret = AgreementFactory(
        title=SECRET_TITLE,
        reference="SEC-0001",
        type=AgreementType.DEFENSE_INDUSTRIAL,
        status=AgreementStatus.SUSPENDED,
        classification=Classification.SECRET,
        signed_on=datetime.date(1977, 5, 1),
        entered_into_force_on=datetime.date(1977, 6, 1),
        expires_on=frozen_today + datetime.timedelta(days=20),
        notice_period_days=10,
        parties=[usa, phl, nato],
    )
    provision_save(
        agreement=secret, category=ProvisionCategory.INTELLIGENCE_SHARING, title="Sharing"
    )
    return {"public": public, "secret": secret, "usa": usa, "phl": phl, "nato": nato}


def page(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def count(html: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}">(\d+)<', html)
    assert match, f"no #{element_id} on the page"
    return int(match.group(1))


def queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


PAGES = [
    reverse("agreements:dashboard"),
    reverse("agreements:list"),
    reverse("agreements:deadlines"),
    "/nations/USA/",
    "/organizations/NATO/",
]


# Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*PAGES, "/agreements/1/"])
def test_pages_need_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_view_permission(client, outsider, partners, url):
    page(client, outsider, url, status=403)


def test_login_and_logout(client, viewer):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'for="id_username"' in response.content.decode()
    response = client.post("/accounts/login/", {"username": "viewer", "password": "pw"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_login_error_is_shown(client, viewer):
    response = client.post("/accounts/login/", {"username": "viewer", "password": "wrong"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_pages_are_csp_clean(client, world, analyst, url):
    client.force_login(analyst)
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    assert " style=" not in html and "<style" not in html
    assert "<script" not in html
    assert "http://" not in html.replace("http://testserver", "")


def test_get_absolute_url(world):
    assert world["public"].get_absolute_url() == f"/agreements/{world['public'].pk}/"
    assert world["usa"].get_absolute_url() == "/nations/USA/"
    assert world["nato"].get_absolute_url() == "/organizations/NATO/"


# Dashboard --------------------------------------------------------------------------------


def test_dashboard_hides_classified_titles_counts_and_bars(client, world, viewer):
    html = page(client, viewer, "/")
    assert SECRET_TITLE not in html and "SEC-0001" not in html
    assert count(html, "count-total") == 1
    assert count(html, "count-suspended") == 0
    assert count(html, "count-in_force") == 1
    assert "Defense industrial" not in html  # the type bar
    assert "1977" not in html  # the year column and its table row
    assert "Training" in html and "2015" in html
    assert "Public Training Accord" in html  # expiring and review due


def test_dashboard_counts_classified_for_cleared_user(client, world, analyst):
    html = page(client, analyst, "/")
    assert count(html, "count-total") == 2
    assert count(html, "count-suspended") == 1
    assert "Defense industrial" in html and "1977" in html
    assert SECRET_TITLE in html


def test_dashboard_lists_deadlines_and_recent_changes(client, world, analyst):
    html = page(client, analyst, "/")
    expiring = html.split('id="due-expiry"')[1].split("</section>")[0]
    assert "Public Training Accord" in expiring and SECRET_TITLE in expiring
    notice = html.split('id="due-notice_deadline"')[1].split("</section>")[0]
    assert SECRET_TITLE in notice and "Public Training Accord" not in notice
    changes = html.split('id="recent-changes"')[1]
    assert "Created provision" in changes


def test_dashboard_recent_changes_skip_hidden_provisions(client, world, viewer):
    html = page(client, viewer, "/")
    assert "Hidden annex on cyber" not in html


def test_dashboard_query_count_does_not_grow(client, partners, frozen_today, viewer):
    def make(n):
        for _ in range(n):
            agreement = AgreementFactory(
                expires_on=frozen_today + datetime.timedelta(days=10),
                parties=[partners["USA"], partners["PHL"]],
            )
            ProvisionFactory(agreement=agreement)

    make(1)
    one = queries(client, viewer, "/")
    make(99)
    assert queries(client, viewer, "/") == one


# Agreement page ---------------------------------------------------------------------------


def test_agreement_page_shows_everything_visible(client, world, viewer, frozen_today):
    public = world["public"]
    AgreementEvent.objects.create(agreement=public, kind="signed", date=public.signed_on)
    Review.objects.create(
        agreement=public, reviewed_on=frozen_today, outcome="continue", notes="All good"
    )
    Reminder.objects.create(
        agreement=public,
        kind="expiry",
        due_on=public.expires_on,
        days_before=30,
        recipient="desk@example.org",
        status="sent",
    )
    html = page(client, viewer, public.get_absolute_url())
    assert "Public Training Accord" in html
    assert "Courses" in html  # a visible provision, under its category
    assert "Hidden annex on cyber" not in html  # a secret provision
    assert "Personnel exchanges" not in html
    assert "All good" in html and "desk@example.org" in html
    assert "Notice deadline" in html and "United States" in html and "NATO" in html
    assert "Edit in admin" not in html


def test_agreement_page_notice_deadline_and_edit_link(client, world, registrar):
    html = page(client, registrar, world["secret"].get_absolute_url())
    deadline = world["secret"].expires_on - datetime.timedelta(days=10)
    assert deadline.strftime("%-d %B %Y") in html
    admin_url = reverse("admin:agreements_agreement_change", args=[world["secret"].pk])
    assert admin_url in html


def test_agreement_page_edit_link_for_editor(client, world, editor):
    html = page(client, editor, world["public"].get_absolute_url())
    assert "Edit in admin" in html


def test_hidden_agreement_is_404(client, world, viewer, analyst):
    page(client, viewer, world["secret"].get_absolute_url(), status=404)
    assert SECRET_TITLE in page(client, analyst, world["secret"].get_absolute_url())


def test_agreement_page_hides_classified_history_and_links(client, world, viewer):
    public = world["public"]
    Agreement.objects.filter(pk=public.pk).update(supersedes=world["secret"])
    html = page(client, viewer, public.get_absolute_url())
    assert "Hidden annex on cyber" not in html  # its create record is secret
    assert "SEC-0001" not in html and SECRET_TITLE not in html
    assert "Created provision" in html  # the public provision's record


def test_agreement_page_query_count_does_not_grow(client, partners, viewer, frozen_today):
    def build(n):
        nations = [NationFactory() for _ in range(n)]
        agreement = AgreementFactory(parties=nations)
        for i in range(n):
            ProvisionFactory(agreement=agreement, category=ProvisionCategory.values[i % 5])
            AgreementEvent.objects.create(agreement=agreement, kind="amended", date=frozen_today)
            Review.objects.create(agreement=agreement, reviewed_on=frozen_today, outcome="amend")
        return agreement

    one = queries(client, viewer, build(1).get_absolute_url())
    assert queries(client, viewer, build(100).get_absolute_url()) == one


# Nation and organization pages -------------------------------------------------------------


def test_nation_page(client, world, viewer):
    html = page(client, viewer, "/nations/usa/")
    assert "Public Training Accord" in html
    assert SECRET_TITLE not in html
    assert "Intelligence sharing" not in html and "Cyber" not in html  # hidden provisions
    assert "Training" in html
    assert "North Atlantic Treaty Organization" in html  # membership
    assert "Jane Doe" in html and "Defense attaché" in html
    heading = r'id="agreements-heading">Agreements with United States <span class="aside">1<'
    assert re.search(heading, html)


def test_nation_page_for_cleared_user_counts_more(client, world, analyst):
    html = page(client, analyst, "/nations/USA/")
    assert SECRET_TITLE in html and "Intelligence sharing" in html and "Cyber" in html


def test_unknown_partner_is_404(client, viewer, partners):
    page(client, viewer, "/nations/ZZZ/", status=404)
    page(client, viewer, "/organizations/NOPE/", status=404)


def test_organization_page(client, world, viewer):
    html = page(client, viewer, "/organizations/nato/")
    assert "Public Training Accord" in html and SECRET_TITLE not in html
    assert "Intelligence sharing" not in html and "Cyber" not in html
    assert "United States" in html  # a member
    assert "Jane Doe" in html  # represents a member


@pytest.mark.parametrize("url", ["/nations/USA/", "/organizations/NATO/"])
def test_partner_page_query_count_does_not_grow(client, partners, viewer, url):
    usa, nato = partners["USA"], partners["NATO"]

    def make(n):
        for _ in range(n):
            nation = NationFactory()
            MembershipFactory(nation=nation, organization=nato)
            PointOfContact.objects.create(name="X", role="desk_officer", represents=nation)
            PointOfContact.objects.create(name="Y", role="desk_officer", represents=usa)
            agreement = AgreementFactory(parties=[usa, nato, nation])
            ProvisionFactory(agreement=agreement)

    MembershipFactory(nation=usa, organization=nato)
    make(1)
    one = queries(client, viewer, url)
    make(99)
    assert queries(client, viewer, url) == one


# Deadlines and the calendar feed -------------------------------------------------------------


def test_deadlines_page_hides_classified(client, world, viewer, analyst):
    html = page(client, viewer, "/deadlines/")
    assert "Public Training Accord" in html and SECRET_TITLE not in html
    assert "2 deadlines" in html  # expiry and review of the public one
    html = page(client, analyst, "/deadlines/?kind=notice_deadline")
    assert SECRET_TITLE in html and "1 deadline" in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("within=abc", "Days ahead (within): Enter a whole number"),
        ("within=-3", "Days ahead (within): Enter a number of days from 1"),
        ("kind=bogus", "Kind: Choose one of the kinds"),
    ],
)
def test_deadlines_bad_input_names_the_parameter(client, world, viewer, query, message):
    html = page(client, viewer, f"/deadlines/?{query}", status=400)
    assert message in html


def test_deadlines_query_count_does_not_grow(client, partners, viewer, frozen_today):
    def make(n):
        for _ in range(n):
            AgreementFactory(
                expires_on=frozen_today + datetime.timedelta(days=5),
                parties=[partners["USA"], partners["PHL"]],
            )

    make(1)
    one = queries(client, viewer, "/deadlines/")
    make(99)
    assert queries(client, viewer, "/deadlines/") == one


def _feed_url(client, user) -> str:
    client.force_login(user)
    response = client.post(reverse("agreements:calendar_token"), {"action": "regenerate"})
    assert response.status_code == 302
    html = client.get("/deadlines/").content.decode()
    match = re.search(r'href="http://testserver(/calendar/[^"]+\.ics)"', html)
    assert match, "no feed address on the deadlines page"
    client.logout()
    return match.group(1)


def test_calendar_feed_without_session_lists_only_visible(client, world, viewer, analyst):
    url = _feed_url(client, viewer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VCALENDAR" in body and body.count("BEGIN:VEVENT") == 2
    assert "Public Training Accord" in body and SECRET_TITLE not in body
    assert "SUMMARY:Expiry: TEST-" in body
    assert "https://registry.example.test/agreements/" in body

    analyst_body = client.get(_feed_url(client, analyst)).content.decode()
    assert SECRET_TITLE in analyst_body and analyst_body.count("BEGIN:VEVENT") == 4


def test_calendar_feed_regenerate_and_revoke(client, world, viewer):
    first = _feed_url(client, viewer)
    second = _feed_url(client, viewer)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    client.force_login(viewer)
    client.post(reverse("agreements:calendar_token"), {"action": "revoke"})
    client.logout()
    assert client.get(second).status_code == 404


def test_calendar_feed_stops_for_user_without_permission(client, world, viewer):
    url = _feed_url(client, viewer)
    viewer.groups.clear()
    assert client.get(url).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_calendar_token_needs_post_and_login(client, viewer):
    assert client.post(reverse("agreements:calendar_token")).status_code == 302
    client.force_login(viewer)
    assert client.get(reverse("agreements:calendar_token")).status_code == 405


def test_calendar_feed_query_count_does_not_grow(client, partners, viewer, frozen_today):
    url = _feed_url(client, viewer)

    def make(n):
        for _ in range(n):
            AgreementFactory(
                expires_on=frozen_today + datetime.timedelta(days=5),
                parties=[partners["USA"], partners["PHL"]],
            )

    make(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).content.decode().count("BEGIN:VEVENT") == 1
    make(99)
    with CaptureQueriesContext(connection) as hundred:
        assert client.get(url).content.decode().count("BEGIN:VEVENT") == 100
    assert len(hundred) == len(one)


# Agreement list -----------------------------------------------------------------------------


def test_list_hides_classified_from_results_and_count(client, world, viewer):
    html = page(client, viewer, "/agreements/")
    assert "Public Training Accord" in html and SECRET_TITLE not in html
    assert "1 agreement matches" in html
    # The search and filters must not find it either.
    html = page(client, viewer, "/agreements/?q=Zebra")
    assert "0 agreements match" in html and SECRET_TITLE not in html
    html = page(client, viewer, "/agreements/?type=defense_industrial")
    assert "0 agreements match" in html
    assert 'value="secret"' not in html  # no classification choice above clearance


def test_list_filters_search_and_repeated_keys(client, world, analyst):
    html = page(client, analyst, "/agreements/")
    assert "2 agreements match" in html
    html = page(client, analyst, "/agreements/?q=zebra")
    assert SECRET_TITLE in html and "Public Training Accord" not in html
    response = client.get("/agreements/?type=training&type=defense_industrial&party=&q=")
    assert response.status_code == 302
    assert response.url == "/agreements/?type=training%2Cdefense_industrial"
    html = page(client, analyst, response.url)
    assert "2 agreements match" in html
    html = page(client, analyst, "/agreements/?status=suspended&party=USA")
    assert "1 agreement matches" in html and SECRET_TITLE in html
    assert '<option value="suspended" selected>' in html


def test_list_sorting_and_pagination(client, partners, analyst):
    for i in range(3):
        AgreementFactory(title=f"Accord {'CBA'[i]}", signed_on=datetime.date(2010 + i, 1, 1))
    html = page(client, analyst, "/agreements/?ordering=title&page_size=2")
    assert html.index("Accord A") < html.index("Accord B")
    assert "Accord C" not in html
    assert 'aria-sort="ascending"' in html and "ordering=-title" in html
    assert "page=2" in html and "page 1 of 2" in html
    html = page(client, analyst, "/agreements/?ordering=title&page_size=2&page=2")
    assert "Accord C" in html and "Accord A" not in html


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("type=nope", "type"),
        ("signed_after=2020-13-45", "signed_after"),
        ("expiring_within=-5", "expiring_within"),
        ("party=ZZZ", "party"),
        ("page_size=9999", "page_size"),
        ("ordering=bogus", "ordering"),
    ],
)
def test_list_bad_filters_are_shown_by_parameter(client, world, viewer, query, parameter):
    html = page(client, viewer, f"/agreements/?{query}", status=400)
    assert f'<a href="#id_{parameter}">{parameter}</a>:' in html
    assert "Public Training Accord" not in html


def test_list_export_link_keeps_filters(client, world, analyst, viewer):
    html = page(client, analyst, "/agreements/?type=training%2Cdca&q=accord&page=1")
    assert 'href="/api/v1/agreements/export/?type=training%2Cdca&amp;q=accord"' in html
    assert "Export CSV" not in page(client, viewer, "/agreements/")  # no export permission


def test_list_query_count_does_not_grow(client, partners, viewer):
    def make(n):
        for _ in range(n):
            agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
            ProvisionFactory(agreement=agreement)

    url = "/agreements/?party=USA&category=training&page_size=200"
    make(1)
    one = queries(client, viewer, url)
    make(99)
    assert queries(client, viewer, url) == one


def test_reminder_sent_after_a_failure_shows_no_stale_error(client, world, analyst):
    public = world["public"]
    common = {"agreement": public, "kind": "expiry", "due_on": public.expires_on}
    Reminder.objects.create(
        **common,
        days_before=30,
        recipient="a@example.org",
        status="sent",
        attempts=2,
        error="BrokenPipeError: [Errno 32] Broken pipe",  # a row written before the fix
    )
    Reminder.objects.create(
        **common,
        days_before=7,
        recipient="b@example.org",
        status="failed",
        attempts=1,
        error="ConnectionRefusedError: refused",
    )
    html = page(client, analyst, public.get_absolute_url())
    assert 'Sent <span class="muted">(after 1 failed attempt)</span>' in html
    assert "BrokenPipeError" not in html
    assert 'Failed <span class="muted">(ConnectionRefusedError: refused)</span>' in html


def test_pages_are_compressed_for_clients_that_accept_gzip(client, world, analyst):
    client.force_login(analyst)
    response = client.get("/agreements/", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"Public Training Accord" in gzip.decompress(response.content)
    assert "Content-Encoding" not in client.get("/agreements/")  # not asked: not compressed
