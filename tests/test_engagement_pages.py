"""The engagement pages and their cross-links: the list, the month calendar, the engagement
page, the activities under an agreement (with the dormant rule), the nation page's
engagements by year, the dashboard's panels, and the API's cross-links (an agreement's
engagements, ``provisions/?dormant=``, ``engagements/stats/``). A secret engagement or link
is never shown or counted to an uncleared reader."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Classification
from agreements.models import Provision
from engagements.activity import active_since, filter_dormant, with_activity
from engagements.choices import EngagementStatus
from engagements.models import Engagement
from engagements.month import month_grid
from engagements.services import engagement_save

from .api_helpers import client_for
from .factories import EngagementFactory, ProvisionFactory
from .world import TODAY

pytestmark = pytest.mark.django_db

D = datetime.date
SHADOW = "Zebra Shadow Drill"  # the secret engagement: never shown to the uncleared


@pytest.fixture
def scene(world, registrar):
    """The shared world and four engagements (the clock at 15 June 2026):

    - ``balikatan``: unclassified, completed 20 April – 9 May 2026, hosted by the
      Philippines with the United States; under ``public`` (US-PH-TRG) and its "Combined
      training" provision, and also under the secret agreement and the secret annex (links
      the uncleared never see); outcome met; written through the service (history);
    - ``shadow``: secret, completed 1–5 June 2026, the Philippines and the United States,
      under ``public`` and "Combined training"; its report was due 10 June, no outcome;
    - ``visit``: unclassified, planned 10–24 June 2026, the Philippines hosting Japan,
      under ``public`` as a whole (no provision);
    - ``overdue``: unclassified, ongoing, 1–20 May 2026, the report due 10 June, no
      outcome: overdue.
    """
    public, phl, usa = world["public"], world["phl"], world["usa"]
    training = Provision.objects.get(agreement=public, title="Combined training")
    balikatan = engagement_save(
        actor=registrar,
        source="test",
        title="Balikatan 2026",
        kind="exercise",
        status="completed",
        starts_on=D(2026, 4, 20),
        ends_on=D(2026, 5, 9),
        location="Luzon",
        location_nation="PHL",
        after_action_due_on=D(2026, 6, 1),
        outcome="met",
        lessons="Plan the maritime phase earlier.",
        participants=[{"code": "PHL", "role": "host"}, {"code": "USA", "personnel": 5000}],
        agreement_ids=[public.pk, world["secret"].pk],
        provision_ids=[training.pk, world["annex"].pk],
        contact_ids=[world["contact"].pk],
    )
    shadow = EngagementFactory(
        title=SHADOW,
        classification=Classification.SECRET,
        status=EngagementStatus.COMPLETED,
        starts_on=D(2026, 6, 1),
        ends_on=D(2026, 6, 5),
        after_action_due_on=D(2026, 6, 10),
        participants=[phl, usa],
    )
    shadow.agreements.add(public)
    shadow.provisions.add(training)
    japan = world["usa"].__class__.objects.get(iso3="JPN")
    visit = EngagementFactory(
        title="Port visit Manila",
        kind="port_visit",
        starts_on=D(2026, 6, 10),
        ends_on=D(2026, 6, 24),
        participants=[phl, japan],
    )
    visit.agreements.add(public)
    overdue = EngagementFactory(
        title="Staff talks Manila",
        kind="staff_talks",
        status=EngagementStatus.ONGOING,
        starts_on=D(2026, 5, 1),
        ends_on=D(2026, 5, 20),
        after_action_due_on=D(2026, 6, 10),
        participants=[phl, usa],
    )
    return {
        **world,
        "training": training,
        "balikatan": balikatan,
        "shadow": shadow,
        "visit": visit,
        "overdue": overdue,
    }


def page(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content[:2000]
    return response.content.decode()


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# The list -----------------------------------------------------------------------------------


def test_list_shows_visible_engagements_with_their_columns(client, viewer, analyst, scene):
    html = page(client, viewer, "/engagements/")
    assert "3 engagements match" in html
    for title in ("Balikatan 2026", "Port visit Manila", "Staff talks Manila"):
        assert title in html
    assert "Philippines" in html and "United States" in html and "Japan" in html
    assert "Luzon" in html and "Exercise" in html and "Port visit" in html
    assert SHADOW not in html
    assert 'aria-current="page">Engagements' in html  # the navigation
    html = page(client, analyst, "/engagements/")
    assert "4 engagements match" in html and SHADOW in html


def test_list_filters_chips_sorting_and_short_address(client, viewer, scene):
    client.force_login(viewer)
    response = client.get("/engagements/?kind=exercise&kind=port_visit&q=")
    assert response.status_code == 302
    assert response["Location"] == "/engagements/?kind=exercise%2Cport_visit"

    html = page(client, viewer, "/engagements/?kind=exercise,port_visit&ordering=title")
    assert "2 engagements match" in html and "Staff talks Manila" not in html
    assert html.index("Balikatan 2026") < html.index("Port visit Manila")
    assert 'aria-sort="ascending"' in html and "ordering=-title" in html
    assert 'value="exercise" checked' in html  # the ticked box
    assert "Kind:</span> Exercise" in html  # a chip per value
    assert "/engagements/?kind=port_visit&amp;ordering=title" in html  # its removal

    html = page(client, viewer, "/engagements/?partner=JPN&agreement=us-ph-trg")
    assert "1 engagement matches" in html and "Port visit Manila" in html
    assert "All of these partners:</span> Japan (JPN)" in html
    assert "Under any of these agreements:</span> US-PH-TRG" in html


def test_list_default_order_is_marked_and_export_needs_the_permission(
    client, viewer, analyst, scene
):
    html = page(client, viewer, "/engagements/")
    assert 'aria-sort="descending"' in html  # -starts_on, the model's order
    assert html.index("Port visit Manila") < html.index("Balikatan 2026")
    assert "Export CSV" not in html  # policy staff may not export
    html = page(client, analyst, "/engagements/?status=completed")
    assert 'href="/api/v1/engagements/export/?status=completed"' in html


@pytest.mark.parametrize(
    "query, name",
    [
        ("starts_after=yesterday", "starts_after"),
        ("kind=parade", "kind"),
        ("page_size=0", "page_size"),
        ("agreement=SEC-0001", "agreement"),  # above the viewer's clearance: unknown
        ("partner=XXX", "partner"),
        ("after_action_overdue=maybe", "after_action_overdue"),
    ],
)
def test_list_bad_filters_are_400s_naming_them(client, viewer, scene, query, name):
    html = page(client, viewer, f"/engagements/?{query}", status=400)
    assert f'href="#id_{name}"' in html
    assert SHADOW not in html


def test_list_overdue_filter(client, analyst, scene):
    html = page(client, analyst, "/engagements/?after_action_overdue=true")
    assert "2 engagements match" in html
    assert "Staff talks Manila" in html and SHADOW in html and "Balikatan" not in html


def test_list_query_count_does_not_grow(client, registrar, partners, frozen_today):
    client.force_login(registrar)
    EngagementFactory(participants=[partners["PHL"], partners["USA"]])
    url = "/engagements/?partner=PHL&page_size=200"
    one = count_queries(client, url)
    for _ in range(99):
        EngagementFactory(participants=[partners["PHL"], partners["USA"]])
    assert count_queries(client, url) == one


# The calendar -------------------------------------------------------------------------------


def test_calendar_month_with_spans_and_links(client, viewer, analyst, scene):
    html = page(client, viewer, "/engagements/calendar/")  # this month: June 2026
    assert "<h1>June 2026</h1>" in html
    assert "Port visit Manila" in html and SHADOW not in html
    assert 'colspan="5"' in html  # 10 June (Wed) to 14 June (Sun) in its first week
    assert "?month=2026-05" in html and "?month=2026-07" in html
    assert 'class="today"' not in html or "(today)" in html
    html = page(client, analyst, "/engagements/calendar/?month=2026-06")
    assert SHADOW in html
    html = page(client, viewer, "/engagements/calendar/?month=2026-05")
    assert "Balikatan 2026" in html and "Staff talks Manila" in html
    assert "Port visit Manila" not in html


def test_calendar_counts_only_the_month(client, viewer, scene):
    html = page(client, viewer, "/engagements/calendar/?month=2026-06")
    # June: the port visit only (the staff talks ended on 20 May; the secret one is hidden).
    assert "1 engagement this month" in html


@pytest.mark.parametrize(
    "month, message",
    [
        ("2026-13", "There is no month 13"),
        ("June", "is not a month"),
        ("2026-6", "is not a month"),
        ("1600-01", "Choose a month from 1700-01 to 2300-12"),
        ("9999-01", "Choose a month from 1700-01 to 2300-12"),
    ],
)
def test_calendar_bad_month_is_a_400(client, viewer, scene, month, message):
    html = page(client, viewer, f"/engagements/calendar/?month={month}", status=400)
    assert message in html and 'id="month-error"' in html


def test_calendar_edges_of_the_range_have_no_link_beyond(client, viewer, scene):
    html = page(client, viewer, "/engagements/calendar/?month=2300-12")
    assert 'id="next-month"' not in html and 'id="previous-month"' in html
    html = page(client, viewer, "/engagements/calendar/?month=1700-01")
    assert 'id="previous-month"' not in html


def test_month_grid_packs_overlapping_engagements_in_lanes(partners):
    first = EngagementFactory.build(pk=1, starts_on=D(2026, 6, 1), ends_on=D(2026, 6, 10))
    second = EngagementFactory.build(pk=2, starts_on=D(2026, 6, 3), ends_on=D(2026, 6, 3))
    third = EngagementFactory.build(pk=3, starts_on=D(2026, 6, 4), ends_on=None)
    grid = month_grid(D(2026, 6, 1), [first, second, third], TODAY)
    week = grid.weeks[0]  # 1 June 2026 is a Monday
    assert [d.date for d in (week.days[0], week.days[-1])] == [D(2026, 6, 1), D(2026, 6, 7)]
    spans = [
        [(cell.span, cell.bar.engagement.pk if cell.bar else None) for cell in lane]
        for lane in week.lanes
    ]
    assert spans == [[(7, 1)], [(2, None), (1, 2), (1, 3), (3, None)]]
    assert week.lanes[0][0].bar.after and not week.lanes[0][0].bar.before
    second_week = grid.weeks[1]
    assert second_week.lanes[0][0].span == 3 and second_week.lanes[0][0].bar.before
    assert len(grid.weeks) == 5  # to Sunday 5 July
    assert [day.date for day in grid.agenda] == [D(2026, 6, 1), D(2026, 6, 3), D(2026, 6, 4)]


def test_calendar_query_count_does_not_grow(client, registrar, partners, frozen_today):
    client.force_login(registrar)
    EngagementFactory(starts_on=D(2026, 9, 1), participants=[partners["PHL"]])
    url = "/engagements/calendar/?month=2026-09"
    one = count_queries(client, url)
    for n in range(99):
        EngagementFactory(
            starts_on=D(2026, 9, 1 + n % 28),
            ends_on=D(2026, 9, 1 + n % 28),
            participants=[partners["PHL"]],
        )
    assert count_queries(client, url) == one


# The engagement page ------------------------------------------------------------------------


def test_engagement_page(client, viewer, analyst, scene):
    url = scene["balikatan"].get_absolute_url()
    html = page(client, viewer, url)
    assert "<h1>Balikatan 2026</h1>" in html
    assert "Luzon" in html and "20 April 2026" in html and "9 May 2026" in html
    assert "Host" in html and "5000" in html and "Philippines" in html
    assert "US-PH-TRG" in html and "Combined training" in html  # its visible links
    assert "SEC-0001" not in html and "Zebra" not in html and "Zanzibar" not in html
    assert "Jane Doe" in html  # the contact
    assert "Plan the maritime phase earlier." in html and "Met" in html
    assert 'id="after-action-overdue"' not in html  # its outcome is recorded
    assert "Change history" in html and "Participant added: United States" in html
    html = page(client, analyst, url)
    assert "SEC-0001" in html and "Zanzibar signals annex" in html


def test_engagement_page_marks_an_overdue_report(client, viewer, scene):
    html = page(client, viewer, scene["overdue"].get_absolute_url())
    assert 'id="after-action-overdue"' in html and "overdue: no outcome recorded" in html


def test_a_hidden_engagement_is_a_404(client, viewer, analyst, scene):
    url = scene["shadow"].get_absolute_url()
    html = page(client, viewer, url, status=404)
    assert SHADOW not in html
    assert SHADOW in page(client, analyst, url)
    page(client, viewer, "/engagements/99999999/", status=404)


def test_engagement_pages_need_the_permission(client, outsider, scene):
    client.force_login(outsider)
    for url in ("/engagements/", "/engagements/calendar/", scene["visit"].get_absolute_url()):
        assert client.get(url).status_code == 403


# Activities under an agreement ----------------------------------------------------------------


def test_agreement_page_activities_by_provision(client, viewer, analyst, scene):
    url = scene["public"].get_absolute_url()
    html = page(client, viewer, url)
    section = html[html.index('id="activities"') :]
    section = section[: section.index("</section>")]
    assert "Activities under this agreement" in section
    assert "2 engagements" in section  # Balikatan and the port visit (the secret one hidden)
    training = section[section.index(f'id="activity-provision-{scene["training"].pk}"') :]
    training = training[: training.index("</div>")]
    assert "Balikatan 2026" in training and "9 May 2026" in training
    assert "Dormant" not in training
    assert "Port visit Manila" in section[section.index('id="activity-unattached"') :]
    assert SHADOW not in html and "Zanzibar" not in html
    # The cleared analyst sees the secret engagement, and it is the last activity.
    html = page(client, analyst, url)
    assert SHADOW in html
    training = html[html.index(f'id="activity-provision-{scene["training"].pk}"') :]
    training = training[: training.index("</div>")]
    assert "5 Jun 2026" in training  # the secret one ended later: the last activity


def test_agreement_page_dormant_mark(client, viewer, scene, settings):
    idle = ProvisionFactory(agreement=scene["public"], title="Idle logistics clause")
    old = EngagementFactory(
        title="Old exercise",
        status=EngagementStatus.COMPLETED,
        starts_on=D(2020, 3, 1),
        ends_on=D(2020, 3, 10),
    )
    old.agreements.add(scene["public"])
    old.provisions.add(idle)
    html = page(client, viewer, scene["public"].get_absolute_url())
    block = html[html.index(f'id="activity-provision-{idle.pk}"') :]
    block = block[: block.index("</div>")]
    assert "Dormant" in block and "10 Mar 2020" in block
    settings.ENGAGEMENT_DORMANT_YEARS = 7
    html = page(client, viewer, scene["public"].get_absolute_url())
    block = html[html.index(f'id="activity-provision-{idle.pk}"') :]
    assert "Dormant" not in block[: block.index("</div>")]
    assert "in the last 7 years" in html


def test_agreement_page_activities_query_count_does_not_grow(client, registrar, world):
    client.force_login(registrar)
    public = world["public"]
    provision = Provision.objects.get(agreement=public, title="Combined training")

    def add():
        engagement = EngagementFactory(participants=[world["phl"]])
        engagement.agreements.add(public)
        engagement.provisions.add(provision)

    add()
    one = count_queries(client, public.get_absolute_url())
    for _ in range(99):
        add()
    assert count_queries(client, public.get_absolute_url()) == one


# The dormant rule -----------------------------------------------------------------------------


def _provision_with(world, *engagements):
    provision = ProvisionFactory(agreement=world["public"])
    for engagement in engagements:
        engagement.agreements.add(world["public"])
        engagement.provisions.add(provision)
    return provision


def _dormant(provision, user, today=TODAY) -> bool:
    rows = with_activity(Provision.objects.filter(pk=provision.pk), user, today)
    annotated = rows.get().dormant
    filtered = filter_dormant(Provision.objects.filter(pk=provision.pk), user, True, today)
    assert filtered.exists() == annotated  # the filter and the annotation agree
    active = filter_dormant(Provision.objects.filter(pk=provision.pk), user, False, today)
    assert active.exists() != annotated
    return annotated


def _completed(ends_on, **kwargs):
    return EngagementFactory(
        status=EngagementStatus.COMPLETED,
        starts_on=ends_on - datetime.timedelta(days=3),
        ends_on=ends_on,
        **kwargs,
    )


def test_dormant_edges(world, viewer, analyst):
    since = active_since(TODAY)
    assert since == D(2023, 6, 15)
    assert _dormant(_provision_with(world), viewer)  # never used
    assert not _dormant(_provision_with(world, _completed(since)), viewer)  # on the day
    assert _dormant(_provision_with(world, _completed(since - datetime.timedelta(days=1))), viewer)
    planned = EngagementFactory(starts_on=D(2026, 5, 1), ends_on=D(2026, 5, 2))
    assert _dormant(_provision_with(world, planned), viewer)  # not completed: no activity
    cancelled = EngagementFactory(
        status=EngagementStatus.CANCELLED, starts_on=D(2026, 5, 1), ends_on=D(2026, 5, 2)
    )
    assert _dormant(_provision_with(world, cancelled), viewer)
    secret = _completed(D(2026, 1, 1), classification=Classification.SECRET)
    hidden = _provision_with(world, secret)
    assert _dormant(hidden, viewer)  # a secret exercise is not counted for the uncleared
    assert not _dormant(hidden, analyst)
    last = with_activity(Provision.objects.filter(pk=hidden.pk), viewer).get().last_activity_on
    assert last is None
    last = with_activity(Provision.objects.filter(pk=hidden.pk), analyst).get().last_activity_on
    assert last == D(2026, 1, 1)


def test_dormant_years_setting_and_29_february(world, viewer, settings):
    settings.ENGAGEMENT_DORMANT_YEARS = 1
    assert active_since(D(2028, 2, 29)) == D(2027, 2, 28)
    provision = _provision_with(world, _completed(D(2027, 2, 28)))
    assert not _dormant(provision, viewer, today=D(2028, 2, 29))
    assert _dormant(provision, viewer, today=D(2028, 3, 1))


# After-action reports overdue -----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, overdue",
    [
        ({"status": "completed", "after_action_due_on": D(2026, 6, 14)}, True),
        ({"status": "completed", "after_action_due_on": D(2026, 6, 15)}, False),  # due today
        ({"status": "completed", "after_action_due_on": None}, False),
        ({"status": "ongoing", "after_action_due_on": D(2026, 6, 1)}, True),  # past its end
        ({"status": "cancelled", "after_action_due_on": D(2026, 6, 1)}, False),
        ({"status": "postponed", "after_action_due_on": D(2026, 6, 1)}, False),
        (
            {"status": "completed", "after_action_due_on": D(2026, 6, 1), "outcome": "met"},
            False,
        ),
        (  # still going on (it ends after today) and not completed
            {"status": "ongoing", "after_action_due_on": D(2026, 6, 1), "ends_on": TODAY},
            False,
        ),
    ],
)
def test_after_action_overdue_rule(db, fields, overdue):
    fields = {"starts_on": D(2026, 5, 1), "ends_on": D(2026, 5, 20), **fields}
    engagement = EngagementFactory(**fields)
    assert engagement.after_action_overdue_on(TODAY) is overdue
    assert Engagement.objects.after_action_overdue(TODAY).filter(pk=engagement.pk).exists() is (
        overdue
    )


# The nation page and the dashboard ------------------------------------------------------------


def test_nation_page_engagements_by_year(client, viewer, analyst, scene):
    old = EngagementFactory(starts_on=D(2024, 4, 22), ends_on=D(2024, 5, 10))
    old.participants.create(nation=scene["phl"], role="host")
    html = page(client, viewer, "/nations/PHL/")
    section = html[html.index('id="engagements-by-year"') :]
    section = section[: section.index("</section>")]
    assert "4 in all" in section  # Balikatan, the port visit, the staff talks, 2024's
    assert "2026: 3 engagements" in section and "2024: 1 engagement" in section
    assert (
        "/engagements/?partner=PHL&amp;starts_after=2024-01-01&amp;starts_before=2024-12-31"
        in section
    )
    html = page(client, analyst, "/nations/PHL/")
    assert "2026: 4 engagements" in html  # the secret one counts for the cleared
    html = page(client, viewer, "/nations/GBR/")
    assert "No engagements recorded." in html


def test_nation_page_query_count_does_not_grow(client, registrar, partners, frozen_today):
    client.force_login(registrar)
    EngagementFactory(participants=[partners["PHL"]])
    one = count_queries(client, "/nations/PHL/")
    for n in range(99):
        EngagementFactory(
            starts_on=D(2000 + n % 20, 1, 1),
            ends_on=D(2000 + n % 20, 1, 2),
            participants=[partners["PHL"], partners["USA"]],
        )
    assert count_queries(client, "/nations/PHL/") == one


def test_dashboard_engagement_panels(client, viewer, analyst, scene):
    html = page(client, viewer, "/")
    month = html[html.index('id="engagements-this-month"') :]
    month = month[: month.index("</section>")]
    assert 'id="count-engagements-month">1<' in month and "Port visit Manila" in month
    assert SHADOW not in html
    overdue = html[html.index('id="after-action-reports-overdue"') :]
    overdue = overdue[: overdue.index("</section>")]
    assert 'id="count-after-action-overdue">1<' in overdue and "Staff talks Manila" in overdue
    html = page(client, analyst, "/")
    assert 'id="count-engagements-month">2<' in html
    assert 'id="count-after-action-overdue">2<' in html and SHADOW in html


# The API's cross-links ------------------------------------------------------------------------


def test_agreement_detail_lists_its_visible_engagements(viewer, analyst, scene):
    url = f"/api/v1/agreements/{scene['public'].pk}/"
    titles = [e["title"] for e in client_for(viewer).get(url).json()["engagements"]]
    assert titles == ["Port visit Manila", "Balikatan 2026"]
    body = client_for(analyst).get(url).json()
    assert [e["title"] for e in body["engagements"]][0] == "Port visit Manila"
    assert SHADOW in [e["title"] for e in body["engagements"]]
    assert set(body["engagements"][0]) == {
        "id",
        "title",
        "kind",
        "status",
        "starts_on",
        "ends_on",
        "url",
    }


def test_provisions_dormant_filter(viewer, analyst, scene):
    training = scene["training"]
    idle = ProvisionFactory(agreement=scene["public"], title="Idle logistics clause")
    api = client_for(viewer)
    active = api.get("/api/v1/provisions/", {"dormant": "false"}).json()["results"]
    assert [p["id"] for p in active] == [training.pk]
    assert active[0]["last_activity_on"] == "2026-05-09" and active[0]["dormant"] is False
    dormant = api.get("/api/v1/provisions/", {"dormant": "true"}).json()["results"]
    assert [(p["id"], p["dormant"], p["last_activity_on"]) for p in dormant] == [
        (idle.pk, True, None)
    ]
    answer = api.get("/api/v1/provisions/", {"dormant": "maybe"})
    assert answer.status_code == 400 and "dormant" in answer.json()
    # For the cleared analyst, the secret annex is used too (Balikatan is completed under it).
    active = client_for(analyst).get("/api/v1/provisions/", {"dormant": "false"}).json()
    assert {p["id"] for p in active["results"]} == {training.pk, scene["annex"].pk}
    training_row = next(p for p in active["results"] if p["id"] == training.pk)
    assert training_row["last_activity_on"] == "2026-06-05"  # the secret one's end


def test_engagement_stats_per_partner_per_year(analyst, viewer, scene):
    api = client_for(analyst)
    old = EngagementFactory(starts_on=D(2014, 4, 1), ends_on=D(2014, 4, 2))
    old.participants.create(nation=scene["phl"], role="host")
    answer = api.get(
        "/api/v1/engagements/stats/", {"group_by": "partner,year", "starts_after": "2015-01-01"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["group_by"] == ["partner", "year"] and body["total"] == 4
    rows = {(r["partner"], r["year"]): r["count"] for r in body["results"]}
    assert rows == {("PHL", 2026): 4, ("USA", 2026): 3, ("JPN", 2026): 1}
    assert body["results"][0]["partner_label"] == "Japan"  # ordered by code
    plain = api.get("/api/v1/engagements/stats/", {"partner": "PHL"}).json()
    assert plain["total"] == 5
    assert {"key": "2014", "label": "2014", "count": 1} in plain["by_year"]
    assert {"key": "exercise", "label": "Exercise", "count": 3} in plain["by_kind"]
    assert plain["by_partner"][0] == {"key": "PHL", "label": "Philippines", "count": 5}


def test_engagement_stats_clearance_and_bad_input(analyst, viewer, partners, scene):
    from accounts.groups import ANALYSTS

    from .factories import UserFactory

    uncleared = UserFactory(
        username="uncleared-analyst", group=ANALYSTS, clearance=Classification.UNCLASSIFIED
    )
    body = client_for(uncleared).get("/api/v1/engagements/stats/", {"group_by": "kind"}).json()
    assert body["total"] == 3
    assert {r["kind"]: r["count"] for r in body["results"]} == {
        "exercise": 1,
        "port_visit": 1,
        "staff_talks": 1,
    }
    assert client_for(viewer).get("/api/v1/engagements/stats/").status_code == 403
    for query, name in [
        ({"group_by": "decade"}, "group_by"),
        ({"group_by": "year,kind,status"}, "group_by"),
        ({"starts_after": "2015"}, "starts_after"),
        ({"colour": "red"}, "colour"),
    ]:
        answer = client_for(analyst).get("/api/v1/engagements/stats/", query)
        assert answer.status_code == 400 and name in answer.json(), query


def test_engagement_stats_query_count_does_not_grow(analyst, partners, frozen_today):
    api = client_for(analyst)
    url = "/api/v1/engagements/stats/"
    EngagementFactory(participants=[partners["PHL"]])
    with CaptureQueriesContext(connection) as one:
        assert api.get(url).status_code == 200
    for _ in range(99):
        EngagementFactory(participants=[partners["PHL"], partners["USA"]])
    with CaptureQueriesContext(connection) as many:
        assert api.get(url).status_code == 200
    assert len(many) == len(one)


def test_schema_describes_the_new_endpoints_and_filters(viewer):
    schema = client_for(viewer).get("/api/v1/schema/", {"format": "json"}).json()
    stats = schema["paths"]["/api/v1/engagements/stats/"]["get"]
    names = {p["name"] for p in stats["parameters"]}
    assert {"group_by", "partner", "starts_after", "kind", "q"} <= names
    examples = stats["responses"]["200"]["content"]["application/json"]["examples"]
    assert any("partner,year" in e.get("summary", "") for e in examples.values())
    provisions = schema["paths"]["/api/v1/provisions/"]["get"]
    dormant = next(p for p in provisions["parameters"] if p["name"] == "dormant")
    assert dormant["schema"]["type"] == "boolean"
    detail = schema["components"]["schemas"]["AgreementDetail"]["properties"]
    assert "engagements" in detail
