"""The partner indexes, the registry-wide search, change history as people read it, the
derived timeline and the partner maps: what each shows, within clearance, and no query per row.

Most tests read the world of tests/world.py (frozen on 15 June 2026). Seen from that day, by
the dates: the public US-PH-TRG (USA, PHL, NATO) and US-CO-DCA (USA, COL) are in force, and so
are the confidential UK-FR-BASING (GBR, FRA) and the secret SEC-0001 (USA, PHL, NATO; its
status says suspended, but no suspension event is recorded, so by the registry's rule for a
day it is in force). So an uncleared viewer counts 2 agreements in force with the USA, an
analyst 3."""

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.choices import AgreementStatus, EventKind
from agreements.models import AgreementEvent
from agreements.services import agreement_save
from agreements.timeline import timeline
from history.display import humanize_dates, value_label
from history.models import ChangeRecord
from partners.choices import ContactRole, OrganizationKind
from partners.models import Nation, PointOfContact
from partners.services import nation_save
from partners.world_map import BUCKETS, bucket, world_shapes

from .factories import (
    AgreementFactory,
    NationFactory,
    OrganizationFactory,
    ProvisionFactory,
    UserFactory,
)
from .world import SECRET_TITLE, TODAY

D = datetime.date
PUBLIC_TITLE = "Combined Training Accord"


def get(client, user, url, status=200) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content[:800]
    return response.content.decode()


def queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def row_of(html: str, href: str) -> str:
    """The table row holding a link to ``href``."""
    match = re.search(
        rf'<tr>(?:(?!</tr>).)*href="{re.escape(href)}"(?:(?!</tr>).)*</tr>', html, re.S
    )
    assert match, f"no row linking to {href}"
    return match.group(0)


def in_force_cell(html: str, href: str) -> str:
    """The last cell (agreements in force) of the row linking to ``href``, as text."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row_of(html, href), re.S)
    return re.sub(r"<[^>]+>", "", cells[-1]).strip()


def section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1].split("</section>", 1)[0]


# Nation and organization indexes -------------------------------------------------------------


def test_nation_index_counts_agreements_in_force_within_clearance(client, world, viewer, analyst):
    html = get(client, viewer, "/nations/")
    assert in_force_cell(html, "/nations/USA/") == "2"
    assert in_force_cell(html, "/nations/PHL/") == "1"
    assert in_force_cell(html, "/nations/GBR/") == "0"  # only a confidential agreement
    assert SECRET_TITLE not in html
    # The count links to the agreement list with the same rule: party and in force today.
    assert "/agreements/?party=USA&amp;in_force_on=2026-06-15" in row_of(html, "/nations/USA/")
    html = get(client, analyst, "/nations/")
    assert in_force_cell(html, "/nations/USA/") == "3"
    assert in_force_cell(html, "/nations/PHL/") == "2"
    assert in_force_cell(html, "/nations/GBR/") == "1"


def test_nation_index_count_matches_the_list_it_links_to(client, world, viewer):
    html = get(client, viewer, "/agreements/?party=USA&in_force_on=2026-06-15")
    assert re.search(r'id="result-count">2 agreements match', html)


def test_nation_index_skips_a_withdrawn_party(client, world, viewer):
    public = world["public"]
    agreement_save(
        agreement=public,
        parties=[
            {"code": "USA"},
            {"code": "PHL", "acts": [{"kind": "withdrawal", "date": "2020-01-01"}]},
            {"code": "NATO"},
        ],
    )
    assert in_force_cell(get(client, viewer, "/nations/"), "/nations/PHL/") == "0"


def test_nation_index_filters_by_region_name_and_code(client, world, viewer):
    html = get(client, viewer, "/nations/?region=Asia")
    assert 'href="/nations/PHL/"' in html and 'href="/nations/JPN/"' in html
    assert 'href="/nations/USA/"' not in html
    assert '<option value="Asia" selected>' in html
    for q in ("japan", "JPN", "jpn"):
        html = get(client, viewer, f"/nations/?q={q}")
        assert 'href="/nations/JPN/"' in html and 'href="/nations/USA/"' not in html, q
    assert "No nations match" in get(client, viewer, "/nations/?q=Atlantis")


def test_nation_index_with_agreements_only_and_by_count(client, world, viewer):
    html = get(client, viewer, "/nations/?with_agreements=1&order=in_force")
    codes = re.findall(r'<td class="ref">([A-Z]{3})</td>', html)
    assert codes == ["USA", "COL", "PHL"]  # most first, then by name


def test_nation_index_bad_parameters_are_explained(client, world, viewer):
    html = get(client, viewer, "/nations/?region=Atlantis", status=400)
    assert "Unknown region(s): Atlantis" in html and 'id="filter-errors"' in html
    html = get(client, viewer, "/nations/?order=shoe_size", status=400)
    assert "Choose one of the orders listed" in html
    html = get(client, viewer, "/nations/?q=" + "x" * 201, status=400)
    assert "at most 200 characters" in html


def test_nation_index_drops_empty_parameters_and_pages(client, partners, viewer):
    client.force_login(viewer)
    response = client.get("/nations/?q=&region=&order=")
    assert response.status_code == 302 and response.url == "/nations/"
    for _ in range(55):
        NationFactory()
    html = get(client, viewer, "/nations/")
    assert "page 1 of 2" in html and 'href="?page=2"' in html
    assert "Showing 51–61 of 61" in get(client, viewer, "/nations/?page=2")


def test_nation_index_marks_former_states_and_their_successors(client, partners, viewer):
    ussr = NationFactory(iso3="SUN", name="USSR", is_historical=True, valid_to=D(1991, 12, 26))
    ussr.successors.set([NationFactory(iso3="RUS", name="Russia")])
    row = row_of(get(client, viewer, "/nations/"), "/nations/SUN/")
    assert "former state" in row and "until 26 Dec 1991" in row
    assert 'succeeded by <a href="/nations/RUS/">Russia</a>' in row


def test_organization_index_counts_kind_and_search(client, world, viewer, analyst):
    OrganizationFactory(
        acronym="OSCE",
        name="Organization for Security and Co-operation in Europe",
        kind=OrganizationKind.REGIONAL,
    )
    html = get(client, viewer, "/organizations/")
    assert in_force_cell(html, "/organizations/NATO/") == "1"
    assert in_force_cell(html, "/organizations/AU/") == "0"
    assert in_force_cell(get(client, analyst, "/organizations/"), "/organizations/NATO/") == "2"
    html = get(client, viewer, "/organizations/?kind=regional_organization")
    assert 'href="/organizations/OSCE/"' in html and 'href="/organizations/NATO/"' not in html
    html = get(client, viewer, "/organizations/?q=atlantic")
    assert 'href="/organizations/NATO/"' in html and 'href="/organizations/AU/"' not in html
    assert 'href="/organizations/AU/"' in get(client, viewer, "/organizations/?q=au")
    html = get(client, viewer, "/organizations/?kind=navy", status=400)
    assert 'id="filter-errors"' in html


def test_organization_index_counts_current_members(client, world, viewer):
    row = row_of(get(client, viewer, "/organizations/"), "/organizations/NATO/")
    assert '<td class="num hide-small">1</td>' in row  # the USA


def test_nav_links_to_the_indexes_and_marks_the_section(client, world, viewer):
    html = get(client, viewer, "/")
    nav = html.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'href="/nations/"' in nav and 'href="/organizations/"' in nav
    nav = get(client, viewer, "/nations/PHL/").split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'href="/nations/" aria-current="page"' in nav


@pytest.mark.parametrize("url", ["/nations/", "/organizations/"])
def test_index_query_count_does_not_grow(client, partners, viewer, frozen_today, url):
    nato = partners["NATO"]

    def make(n):
        for _ in range(n):
            nation = NationFactory()
            organization = OrganizationFactory()
            AgreementFactory(parties=[nation, organization, nato])

    make(1)
    one = queries(client, viewer, url)
    make(99)
    assert queries(client, viewer, url) == one


# Search ---------------------------------------------------------------------------------------


def test_every_page_has_the_search_box(client, world, viewer):
    for url in (
        "/",
        "/agreements/",
        "/nations/",
        "/deadlines/",
        world["public"].get_absolute_url(),
    ):
        html = get(client, viewer, url)
        header = html.split('<header class="banner">')[1].split("</header>")[0]
        assert 'action="/search/"' in header and 'name="q"' in header, url


def test_search_without_words_prompts(client, world, viewer):
    html = get(client, viewer, "/search/")
    assert "What are you looking for?" in html
    assert 'id="group-' not in html
    assert "What are you looking for?" in get(client, viewer, "/search/?q=++")


def test_search_groups_hits_within_clearance(client, world, viewer, analyst):
    html = get(client, viewer, "/search/?q=training")
    assert PUBLIC_TITLE in section(html, "group-agreements")
    assert 'id="count-agreements">1<' in html
    # Colombia's only match is its secret training annex: not found, not counted.
    assert "Supplemental Agreement for Cooperation" not in html
    assert "Combined training" in section(html, "group-provisions")
    assert 'id="count-provisions">1<' in html
    assert "Riverine training annex" not in html
    html = get(client, analyst, "/search/?q=training")
    assert 'id="count-agreements">2<' in html and 'id="count-provisions">2<' in html
    assert "Riverine training annex" in html


def test_search_never_shows_or_counts_a_secret_title(client, world, viewer, editor, analyst):
    for user in (viewer, editor):
        html = get(client, user, "/search/?q=Zebra")
        assert SECRET_TITLE not in html and "SEC-0001" not in html
        assert 'id="count-agreements">0<' in html
        assert "0 found in all" in html and 'id="no-results"' in html
        assert 'id="group-agreements"' not in html  # no empty card, only its count
    html = get(client, analyst, "/search/?q=Zebra")
    assert SECRET_TITLE in html and 'id="count-agreements">1<' in html
    # The secret annex of a public agreement: neither it nor its agreement is found.
    html = get(client, viewer, "/search/?q=Zanzibar")
    assert "Zanzibar signals annex" not in html and PUBLIC_TITLE not in html
    assert 'id="count-provisions">0<' in html and 'id="count-agreements">0<' in html


def test_search_finds_partners_and_contacts(client, world, viewer):
    html = get(client, viewer, "/search/?q=Philippines")
    assert 'href="/nations/PHL/"' in section(html, "group-nations")
    assert "1 agreement in force" in section(html, "group-nations")
    html = get(client, viewer, "/search/?q=NATO")
    assert 'href="/organizations/NATO/"' in section(html, "group-organizations")
    html = get(client, viewer, "/search/?q=jane")
    contacts = section(html, "group-contacts")
    assert "Col. Jane Doe" in contacts and "Defense attaché" in contacts
    assert 'href="/nations/USA/"' in contacts
    assert "Col. Jane Doe" in section(get(client, viewer, "/search/?q=jane USA"), "group-contacts")


def test_search_shows_contacts_only_with_the_permission(client, world):
    reader = UserFactory(username="reader", permissions=["agreements.view_agreement"])
    html = get(client, reader, "/search/?q=jane")
    assert "Jane Doe" not in html and 'id="group-contacts"' not in html
    get(client, reader, "/search/?q=jane&group=contacts", status=400)


def test_search_more_links_lead_to_the_full_lists(client, partners, viewer, frozen_today):
    for n in range(7):
        agreement = AgreementFactory(title=f"Maritime patrol accord {n}")
        ProvisionFactory(agreement=agreement, title=f"Maritime patrol {n}")
    html = get(client, viewer, "/search/?q=maritime")
    agreements = section(html, "group-agreements")
    assert agreements.count('class="hit-title"') == 5
    assert 'href="/agreements/?q=maritime"' in agreements and "All 7 agreements" in agreements
    listed = get(client, viewer, "/agreements/?q=maritime")
    assert 'id="result-count">7 agreements match' in listed
    provisions = section(html, "group-provisions")
    assert 'href="/search/?q=maritime&amp;group=provisions"' in provisions
    html = get(client, viewer, "/search/?q=maritime&group=provisions")
    assert 'id="group-agreements"' not in html
    assert section(html, "group-provisions").count('class="hit-title"') == 7
    assert "Provisions: 7 found" in html


def test_search_refuses_huge_and_odd_input_clearly(client, world, viewer):
    html = get(client, viewer, "/search/?q=" + "a" * 201, status=400)
    assert "search for at most 200 characters" in html and 'role="alert"' in html
    html = get(client, viewer, "/search/?q=" + "+".join(["word"] * 21), status=400)
    assert "at most 20 words" in html
    html = get(client, viewer, "/search/?q=training&group=everything", status=400)
    assert "Choose one of the groups shown" in html
    for odd in ("%22%28%26%7C%21", "-", "or", "%25%25", "'", "%5C", "training+-accord"):
        get(client, viewer, f"/search/?q={odd}")
    get(client, viewer, "/search/?q=training&group=provisions&page=999")


def test_search_query_count_does_not_grow(client, partners, viewer, frozen_today):
    usa = partners["USA"]

    def make(n):
        for _ in range(n):
            nation = NationFactory(name=f"Harbour land {Nation.objects.count()}")
            agreement = AgreementFactory(title="Harbour access", parties=[usa, nation])
            ProvisionFactory(agreement=agreement, title="Harbour visits")
            OrganizationFactory(name="Harbour league")
            PointOfContact.objects.create(
                name="Harbour master", role=ContactRole.LIAISON_OFFICER, represents=nation
            )

    make(1)
    one = queries(client, viewer, "/search/?q=harbour")
    assert 'id="count-contacts">1<' in get(client, viewer, "/search/?q=harbour")
    make(99)
    assert queries(client, viewer, "/search/?q=harbour") == one
    assert queries(client, viewer, "/search/?q=harbour&group=provisions") <= one


# Change history as people read it -------------------------------------------------------------


@pytest.fixture
def sweden(db):
    return NationFactory(iso3="SWE", name="Sweden", region="Europe")


def test_history_shows_labels_and_display_values(client, world, editor, sweden):
    public = world["public"]
    agreement_save(agreement=public, actor=editor, expires_on=D(2026, 12, 20))
    agreement_save(agreement=public, actor=editor, expires_on=D(2027, 12, 20), type="mou")
    agreement_save(
        agreement=public,
        actor=editor,
        parties=[
            {"code": "USA"},
            {"code": "PHL"},
            {"code": "NATO"},
            {"code": "JPN"},
            {"code": "SWE", "acts": [{"kind": "accession", "date": "2024-03-07"}]},
        ],
    )
    annex = world["annex"]
    keep = {"category": annex.category, "title": annex.title, "text": annex.text}
    agreement_save(agreement=public, provisions=[{**keep, "classification": "secret"}])
    html = section(get(client, editor, public.get_absolute_url()), "history-heading")
    assert "Expires</span>: <del>20 Dec 2026</del> → <ins>20 Dec 2027</ins>" in html
    assert "Type</span>: <del>Training</del> → <ins>Memorandum of understanding</ins>" in html
    assert "Party added: Japan" in html
    assert "Act recorded: Sweden: Accession on 7 Mar 2024" in html
    assert "Provision removed: Combined training" in html
    assert "Kind</span>: <ins>Accession</ins>" in html
    for raw in ("expires_on", "agreementparty", "partyact", "2027-12-20", ">mou<", "Created "):
        assert raw not in html, raw


def test_history_labels_in_the_admin_and_on_partner_pages(client, world, registrar):
    public = world["public"]
    agreement_save(agreement=public, actor=registrar, expires_on=D(2027, 12, 20))
    html = get(client, registrar, f"/admin/agreements/agreement/{public.pk}/change/")
    assert "<del>15 Jul 2026</del> → <ins>20 Dec 2027</ins>" in html
    record = ChangeRecord.objects.filter(changes__has_key="expires_on").latest("at")
    html = get(client, registrar, f"/admin/history/changerecord/{record.pk}/change/")
    assert "Agreement changed: US-PH-TRG" in html and "Expires: 15 Jul 2026 → 20 Dec 2027" in html
    assert "Agreement changed: US-PH-TRG" in get(client, registrar, "/admin/history/changerecord/")
    nation_save(nation=world["phl"], actor=registrar, official_name="Republic of the Philippines")
    html = section(get(client, registrar, "/nations/PHL/"), "history-heading")
    assert "Nation changed: Philippines" in html
    assert "Official name</span>: <ins>Republic of the Philippines</ins>" in html


def test_history_display_of_unusual_values(world):
    public = world["public"]
    record = ChangeRecord(
        changed_object_type=ContentType.objects.get_for_model(public),
        changed_object_id=public.pk,
        object_repr="US-PH-TRG: signed on 2015-03-01, not on 2015-02-30",
        action="update",
        changes={
            "renamed_long_ago": ["a", "b"],
            "auto_renews": [False, True],
            "watchers": [[], ["analyst", "editor"]],
            "classification": ["unclassified", "secret"],
            "reminder_offsets": [None, {"expiry": [30]}],
            "notice_given_on": ["2026-02-30", None],
        },
        at=public.updated_at,
    )
    lines = {line.field: line for line in record.display.lines}
    assert record.display.summary == (
        "Agreement changed: US-PH-TRG: signed on 1 Mar 2015, not on 2015-02-30"
    )
    assert lines["renamed_long_ago"].label == "Renamed long ago"
    assert (lines["auto_renews"].before, lines["auto_renews"].after) == ("No", "Yes")
    assert lines["auto_renews"].label == "Renews automatically"
    assert lines["watchers"].text == "empty → analyst, editor"
    assert lines["classification"].after == "Secret"
    assert lines["reminder_offsets"].after == '{"expiry": [30]}'
    assert lines["notice_given_on"].text == "2026-02-30 → empty"  # not a date: as it is
    assert humanize_dates("on 2024-03-07") == "on 7 Mar 2024"
    assert value_label(None, "whatever", "x" * 100).endswith("…")


def test_dashboard_recent_changes_read_as_sentences(client, world, viewer):
    changes = section(get(client, viewer, "/"), "recent-changes")
    assert "Provision added: Combined training" in changes
    assert "Review recorded: Review of US-PH-TRG on 1 Jul 2025" in changes


# Timeline --------------------------------------------------------------------------------------


def labels(entries):
    return [(e.date, e.label, e.derived) for e in entries]


def test_timeline_derives_entries_from_the_dates(partners, frozen_today):
    agreement = AgreementFactory(
        signed_on=D(2015, 3, 1),
        entered_into_force_on=D(2015, 6, 1),
        expires_on=D(2027, 1, 1),
        parties=[partners["USA"], partners["PHL"]],
    )
    entries = timeline(agreement, TODAY)
    assert labels(entries) == [
        (D(2015, 3, 1), "Signed", True),
        (D(2015, 6, 1), "Entered into force", True),
        (D(2027, 1, 1), "Expires", True),
    ]
    assert [e.upcoming for e in entries] == [False, False, True]
    assert not AgreementEvent.objects.exists()  # derived, never stored


def test_timeline_stored_event_wins_over_the_derived_one(partners, frozen_today):
    agreement = AgreementFactory(
        signed_on=D(2015, 3, 1),
        entered_into_force_on=D(2015, 6, 1),
        parties=[partners["USA"], partners["PHL"]],
    )
    AgreementEvent.objects.create(
        agreement=agreement, kind=EventKind.SIGNED, date=D(2015, 3, 1), note="In Manila"
    )
    AgreementEvent.objects.create(agreement=agreement, kind=EventKind.SUSPENDED, date=D(2020, 2, 1))
    AgreementEvent.objects.create(agreement=agreement, kind=EventKind.RESUMED, date=D(2021, 3, 1))
    entries = timeline(agreement, TODAY)
    assert labels(entries) == [
        (D(2015, 3, 1), "Signed", False),
        (D(2015, 6, 1), "Entered into force", True),
        (D(2020, 2, 1), "Suspended", False),
        (D(2021, 3, 1), "Resumed", False),
    ]
    assert entries[0].note == "In Manila"


def test_timeline_leaves_out_an_expiry_that_never_came(partners, frozen_today):
    terminated = AgreementFactory(
        status=AgreementStatus.TERMINATED,
        signed_on=D(2010, 1, 1),
        entered_into_force_on=D(2010, 1, 1),
        expires_on=D(2030, 1, 1),
        terminated_on=D(2020, 5, 5),
        notice_given_on=D(2019, 11, 5),
        parties=[partners["USA"], partners["PHL"]],
    )
    assert labels(timeline(terminated, TODAY))[2:] == [
        (D(2019, 11, 5), "Notice given", True),
        (D(2020, 5, 5), "Terminated", True),
    ]
    expired = AgreementFactory(
        status=AgreementStatus.EXPIRED,
        signed_on=D(2010, 1, 1),
        entered_into_force_on=D(2010, 1, 1),
        expires_on=D(2020, 1, 1),
        parties=[partners["USA"], partners["PHL"]],
    )
    assert labels(timeline(expired, TODAY))[-1] == (D(2020, 1, 1), "Expired", True)
    draft = AgreementFactory(
        status=AgreementStatus.DRAFT, signed_on=None, entered_into_force_on=None, parties=[]
    )
    assert timeline(draft, TODAY) == []


def test_timeline_on_the_page_follows_the_current_dates(client, world, viewer, editor):
    public = world["public"]
    html = section(get(client, viewer, public.get_absolute_url()), "timeline-heading")
    assert '<time class="when" datetime="2015-03-01">1 Mar 2015</time> · Signed' in html
    assert "from the key dates" in html
    assert "Reviewed" in html  # the stored event of the review
    assert '15 Jul 2026</time> · Expires <span class="tag">ahead</span>' in html
    agreement_save(agreement=public, actor=editor, signed_on=D(2015, 4, 2))
    html = section(get(client, viewer, public.get_absolute_url()), "timeline-heading")
    assert "2 Apr 2015</time> · Signed" in html and "1 Mar 2015" not in html
    order = re.findall(r'datetime="([\d-]+)"', html)
    assert order == sorted(order)


# Maps ------------------------------------------------------------------------------------------


def test_map_shapes_are_keyed_by_iso_code_and_stay_on_the_map():
    shapes = world_shapes()
    by_code = {s.iso3: s for s in shapes.shapes if s.iso3}
    assert {"USA", "PHL", "JPN", "FJI", "RUS", "FRA"} <= set(by_code)
    assert all(s.d.startswith("m") and s.d.endswith("z") for s in shapes.shapes)
    # No edge runs across the map (the rings that jump the 180th meridian are cut).
    for code in ("FJI", "RUS", "USA"):
        widest = 0
        for command, numbers in re.findall(r"([mlz])([^mlz]*)", by_code[code].d):
            values = [int(v) for v in re.findall(r"-?\d+", numbers)]
            if command == "l":
                widest = max([widest, *(abs(dx) for dx in values[0::2])])
        assert 0 < widest < shapes.width / 4, code


def test_map_buckets():
    assert [bucket(n) for n in (0, 1, 2, 3, 4, 7, 8, 15, 16, 500)] == [0, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert len(BUCKETS) == 5


def link_class(html: str, iso3: str) -> str:
    match = re.search(rf'<a href="/nations/{iso3}/" class="([^"]+)"><title>([^<]*)</title>', html)
    assert match, f"no map link for {iso3}"
    return match.group(1), match.group(2)


def test_dashboard_map_shades_and_links_within_clearance(client, world, viewer, analyst):
    html = section(get(client, viewer, "/"), "partner-map")
    assert link_class(html, "USA") == ("shade-2", "United States: 2 agreements in force")
    assert link_class(html, "PHL") == ("shade-1", "Philippines: 1 agreement in force")
    assert link_class(html, "GBR") == ("shade-0", "United Kingdom: 0 agreements in force")
    assert html.count("<path ") >= 170
    table = html.split("<details", 1)[1]
    usa = '<a href="/nations/USA/">United States</a></td><td class="num">'
    assert usa + '<a href="/agreements/?party=USA&amp;in_force_on=2026-06-15">2</a>' in table
    assert "United Kingdom" not in table
    html = section(get(client, analyst, "/"), "partner-map")
    assert link_class(html, "PHL") == ("shade-2", "Philippines: 2 agreements in force")
    assert link_class(html, "GBR")[0] == "shade-1"


def test_nation_page_map_shows_its_partners(client, world, viewer):
    html = section(get(client, viewer, "/nations/USA/"), "map-heading")
    assert link_class(html, "USA") == ("shade-0 self", "United States (this nation)")
    assert link_class(html, "PHL") == (
        "shade-1",
        "Philippines: 1 agreement in force with United States",
    )
    assert link_class(html, "GBR")[0] == "shade-0"
    assert "/agreements/?party=USA%2CCOL&amp;in_force_on=2026-06-15" in html


def test_map_page_weight(client, world, viewer):
    """The map adds about 67 kB to a page (some 15 kB gzipped)."""
    html = section(get(client, viewer, "/"), "partner-map")
    assert len(html.encode()) < 75_000


def test_dashboard_query_count_with_the_map_does_not_grow(client, partners, viewer, frozen_today):
    def make(n):
        for _ in range(n):
            AgreementFactory(parties=[NationFactory(), NationFactory(), partners["USA"]])

    make(1)
    one = queries(client, viewer, "/")
    make(99)
    assert queries(client, viewer, "/") == one
