"""The browser pages: access, the clearance rule on every page (counts and charts included),
bad input, and no query per row."""

import datetime
import gzip
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.choices import ProvisionCategory
from agreements.models import Agreement, AgreementEvent, Reminder, Review
from partners.models import PointOfContact, Posting

from .factories import (
    AgreementFactory,
    MembershipFactory,
    NationFactory,
    ProvisionFactory,
)
from .world import SECRET_TITLE

# Most tests read the world of tests/world.py: the public US-PH-TRG ("Combined Training
# Accord", with the USA, the Philippines and NATO, and a secret annex) and US-CO-DCA, the
# confidential UK-FR-BASING, and the secret SEC-0001 (SECRET_TITLE, suspended, defense
# industrial, 1977, with the USA, the Philippines and NATO). The query-count tests build
# their own rows, one and then a hundred.
PUBLIC_TITLE = "Combined Training Accord"


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
    reverse("partners:nations"),
    reverse("partners:organizations"),
    f"{reverse('agreements:search')}?q=training",
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
    assert "Hidden basing arrangement" not in html and "UK-FR-BASING" not in html
    assert count(html, "count-total") == 2
    assert count(html, "count-suspended") == 0
    assert count(html, "count-in_force") == 2
    assert "Defense industrial" not in html  # the type bar
    assert "Status of forces agreement" not in html  # the confidential one's
    assert "1977" not in html  # the year column and its table row
    assert "Training" in html and "2015" in html
    assert PUBLIC_TITLE in html  # expiring and review due


def test_dashboard_counts_classified_for_cleared_user(client, world, analyst):
    html = page(client, analyst, "/")
    assert count(html, "count-total") == 4
    assert count(html, "count-suspended") == 1
    assert "Defense industrial" in html and "1977" in html
    assert SECRET_TITLE in html


def test_dashboard_lists_deadlines_and_recent_changes(client, world, analyst):
    html = page(client, analyst, "/")
    expiring = html.split('id="due-expiry"')[1].split("</section>")[0]
    assert PUBLIC_TITLE in expiring and SECRET_TITLE in expiring
    notice = html.split('id="due-notice_deadline"')[1].split("</section>")[0]
    assert SECRET_TITLE in notice and PUBLIC_TITLE not in notice
    changes = html.split('id="recent-changes"')[1]
    assert "Provision added: Combined training" in changes


def test_dashboard_recent_changes_skip_hidden_provisions(client, world, viewer, analyst):
    html = page(client, viewer, "/")
    # the secret annexes of the two public agreements
    assert "Zanzibar signals annex" not in html and "Riverine training annex" not in html
    # They are among the newest records: a reader cleared for them sees them there.
    changes = page(client, analyst, "/").split('id="recent-changes"')[1]
    assert "Zanzibar signals annex" in changes and "Riverine training annex" in changes


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


def test_agreement_page_shows_everything_visible(client, world, viewer):
    public = world["public"]  # with a review and a reminder sent
    html = page(client, viewer, public.get_absolute_url())
    assert PUBLIC_TITLE in html
    assert "Combined training" in html  # a visible provision, under its category
    assert "Zanzibar signals annex" not in html  # a secret provision
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


def test_hidden_agreement_is_404(client, world, viewer, editor, analyst):
    page(client, viewer, world["secret"].get_absolute_url(), status=404)
    assert SECRET_TITLE in page(client, analyst, world["secret"].get_absolute_url())
    confidential = world["confidential"].get_absolute_url()
    page(client, viewer, confidential, status=404)
    page(client, editor, world["secret"].get_absolute_url(), status=404)
    assert "Hidden basing arrangement" in page(client, editor, confidential)


def test_agreement_page_hides_classified_history_and_links(client, world, viewer):
    public = world["public"]
    Agreement.objects.filter(pk=public.pk).update(supersedes=world["secret"])
    html = page(client, viewer, public.get_absolute_url())
    assert "Zanzibar signals annex" not in html  # its create record is secret
    assert "SEC-0001" not in html and SECRET_TITLE not in html
    assert "Provision added: Combined training" in html  # the public provision's record


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
    assert PUBLIC_TITLE in html
    assert SECRET_TITLE not in html
    # hidden provisions: the public one's annex, the secret one's provision
    assert "Intelligence sharing" not in html and "Technology transfer" not in html
    assert "Training" in html
    # NATO is a party too: look for the membership in its own section
    memberships = html.split('id="memberships-heading"')[1]
    assert "North Atlantic Treaty Organization" in memberships
    assert "Jane Doe" in html and "Defense attaché" in html
    heading = r'id="agreements-heading">Agreements with United States <span class="aside">2<'
    assert re.search(heading, html)


def test_nation_page_for_cleared_user_counts_more(client, world, analyst):
    html = page(client, analyst, "/nations/USA/")
    assert SECRET_TITLE in html
    assert "Intelligence sharing" in html and "Technology transfer" in html
    heading = r'id="agreements-heading">Agreements with United States <span class="aside">3<'
    assert re.search(heading, html)


def test_unknown_partner_is_404(client, viewer, partners):
    page(client, viewer, "/nations/ZZZ/", status=404)
    page(client, viewer, "/organizations/NOPE/", status=404)


def test_organization_page(client, world, viewer):
    html = page(client, viewer, "/organizations/nato/")
    assert PUBLIC_TITLE in html and SECRET_TITLE not in html
    assert "Intelligence sharing" not in html and "Technology transfer" not in html
    # the USA is a party too: look for the member in its own section
    assert "United States" in html.split('id="members-heading"')[1]
    assert "Jane Doe" in html  # represents a member


@pytest.mark.parametrize("url", ["/nations/USA/", "/organizations/NATO/"])
def test_partner_page_query_count_does_not_grow(client, partners, viewer, url):
    usa, nato = partners["USA"], partners["NATO"]

    def make(n):
        for _ in range(n):
            nation = NationFactory()
            MembershipFactory(nation=nation, organization=nato)
            PointOfContact.objects.create(name="X", role="desk_officer", represents=nation)
            posted = PointOfContact.objects.create(name="Y", role="desk_officer", represents=usa)
            # Posted here (the nation page) and to the organization (its page) today.
            Posting.objects.create(
                contact=posted, nation=usa, active_from=datetime.date(2000, 1, 1)
            )
            Posting.objects.create(
                contact=posted, organization=nato, active_from=datetime.date(2000, 1, 1)
            )
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
    assert PUBLIC_TITLE in html and SECRET_TITLE not in html
    assert "3 deadlines" in html  # expiry and review of the public one, Colombia's expiry
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
    assert "BEGIN:VCALENDAR" in body and body.count("BEGIN:VEVENT") == 3
    assert PUBLIC_TITLE in body and SECRET_TITLE not in body
    assert "Hidden basing arrangement" not in body
    assert "SUMMARY:Expiry: US-PH-TRG" in body
    assert "https://registry.example.test/agreements/" in body

    analyst_body = client.get(_feed_url(client, analyst)).content.decode()
    assert SECRET_TITLE in analyst_body and analyst_body.count("BEGIN:VEVENT") == 6


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
    assert PUBLIC_TITLE in html and SECRET_TITLE not in html
    assert "2 agreements match" in html
    # The search and filters must not find it either.
    html = page(client, viewer, "/agreements/?q=Zebra")
    assert "0 agreements match" in html and SECRET_TITLE not in html
    html = page(client, viewer, "/agreements/?type=defense_industrial")
    assert "0 agreements match" in html
    assert 'value="secret"' not in html  # no classification choice above clearance


def test_list_filters_search_and_repeated_keys(client, world, analyst):
    html = page(client, analyst, "/agreements/")
    assert "4 agreements match" in html
    html = page(client, analyst, "/agreements/?q=zebra")
    assert SECRET_TITLE in html and PUBLIC_TITLE not in html
    response = client.get("/agreements/?type=training&type=defense_industrial&party=&q=")
    assert response.status_code == 302
    assert response.url == "/agreements/?type=training%2Cdefense_industrial"
    html = page(client, analyst, response.url)
    assert "2 agreements match" in html
    html = page(client, analyst, "/agreements/?status=suspended&party=USA")
    assert "1 agreement matches" in html and SECRET_TITLE in html
    assert '<input type="checkbox" name="status" value="suspended" checked>' in html


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
    assert PUBLIC_TITLE not in html


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
    assert b"Combined Training Accord" in gzip.decompress(response.content)
    assert "Content-Encoding" not in client.get("/agreements/")  # not asked: not compressed
