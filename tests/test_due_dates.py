"""One due-date rule: which dates of an agreement are due, given its status, is the same on
every surface (the deadlines selector, the dashboard, the deadlines page, the calendar feed,
the API's ``deadlines/`` and the reminder sweep), and the sweep only reads the agreements it
could remind anyone about."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from accounts.services import calendar_token_regenerate
from agreements.choices import AgreementStatus, ReminderKind
from agreements.models import Agreement
from agreements.reminders import reminder_candidates, reminders_due, reminders_plan
from agreements.selectors import DEADLINE_FIELDS, DeadlineAgreement, deadlines_for

from .api_helpers import client_for
from .conftest import TODAY
from .factories import AgreementFactory

pytestmark = pytest.mark.django_db

EXPIRY, NOTICE, REVIEW = ReminderKind.EXPIRY, ReminderKind.NOTICE_DEADLINE, ReminderKind.REVIEW


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


# Every date inside every surface's window (the pages and the API look 90 days ahead, the feed
# 730) and past the first default offset of its kind (expiry 30, notice 30, review 30 days).
SOON = {"expires_on": days(20), "notice_period_days": 5, "next_review_on": days(10)}
DATES = {EXPIRY: days(20), NOTICE: days(15), REVIEW: days(10)}

CASES = {
    # Final statuses: nothing is due, whatever dates the record still holds.
    "expired, review ahead": (
        {"status": AgreementStatus.EXPIRED, "expires_on": days(-30), "next_review_on": days(10)},
        set(),
    ),
    "expired, dates ahead": ({"status": AgreementStatus.EXPIRED, **SOON}, set()),
    "terminated": (
        {"status": AgreementStatus.TERMINATED, "terminated_on": days(-1), **SOON},
        set(),
    ),
    "superseded": ({"status": AgreementStatus.SUPERSEDED, **SOON}, set()),
    # Live statuses: every date.
    "in force (control)": ({"status": AgreementStatus.IN_FORCE, **SOON}, {EXPIRY, NOTICE, REVIEW}),
    "signed": (
        {"status": AgreementStatus.SIGNED, "entered_into_force_on": None, **SOON},
        {EXPIRY, NOTICE, REVIEW},
    ),
    "suspended": ({"status": AgreementStatus.SUSPENDED, **SOON}, {EXPIRY, NOTICE, REVIEW}),
    "in force, notice given": (
        {"status": AgreementStatus.IN_FORCE, "notice_given_on": days(-3), **SOON},
        {EXPIRY, REVIEW},
    ),
    # Before signature only the review is due (as every surface had it already).
    "draft": (
        {"status": AgreementStatus.DRAFT, "signed_on": None, "entered_into_force_on": None, **SOON},
        {REVIEW},
    ),
    "negotiating": (
        {
            "status": AgreementStatus.NEGOTIATING,
            "signed_on": None,
            "entered_into_force_on": None,
            **SOON,
        },
        {REVIEW},
    ),
}


def _page_date(text: str) -> datetime.date:
    return datetime.datetime.strptime(text.strip(), "%d %b %Y").date()


def on_dashboard(html: str, agreement) -> set:
    found = set()
    for kind in ReminderKind.of_agreements():
        section = html.split(f'<h2 id="due-{kind}">')[1].split("</section>")[0]
        for when, href in re.findall(
            r'<span class="when">([^<]+)</span>\s*<a href="([^"]+)"', section
        ):
            if href == agreement.get_absolute_url():
                found.add((kind, _page_date(when)))
    return found


def on_deadlines_page(html: str, agreement) -> set:
    found = set()
    for row in html.split("<tr>")[2:]:  # after the header row
        if f'<span class="ref">{agreement.reference}</span>' not in row:
            continue
        when = re.search(r'<td class="date"[^>]*>([^<]+)</td>', row).group(1)
        kind = re.search(r'class="badge kind-(\w+)"', row).group(1)
        found.add((kind, _page_date(when)))
    return found


def in_calendar(body: bytes, agreement) -> set:
    found = set()
    for event in Calendar.from_ical(body).walk("VEVENT"):
        kind, pk, _ = str(event["uid"]).split("-", 2)
        if int(pk) == agreement.pk:
            found.add((kind, event.decoded("dtstart")))
    return found


def every_surface(client, user, agreement) -> dict[str, set]:
    """What each surface says is due for ``agreement``, as (kind, date) pairs."""
    client.force_login(user)
    dashboard = client.get("/")
    page = client.get("/deadlines/")
    feed = client.get(f"/calendar/{calendar_token_regenerate(user=user).key}.ics")
    api = client_for(user).get("/api/v1/deadlines/")
    assert [r.status_code for r in (dashboard, page, feed, api)] == [200] * 4
    return {
        "deadlines selector": {
            (d.kind, d.due_on)
            for d in deadlines_for(user, within=90)
            if d.agreement.pk == agreement.pk
        },
        "dashboard": on_dashboard(dashboard.content.decode(), agreement),
        "deadlines page": on_deadlines_page(page.content.decode(), agreement),
        "calendar feed": in_calendar(feed.content, agreement),
        "API deadlines/": {
            (d["kind"], datetime.date.fromisoformat(d["due_on"]))
            for d in api.json()["results"]
            if d["agreement"]["reference"] == agreement.reference
        },
        "reminder sweep": {
            (d.kind, d.due_on)
            for d in reminders_plan(today=TODAY)
            if d.agreement.pk == agreement.pk and d.recipient == user.email
        },
    }


@pytest.mark.parametrize("fields, due", CASES.values(), ids=CASES.keys())
def test_every_surface_lists_the_same_due_dates(client, analyst, frozen_today, fields, due):
    agreement = AgreementFactory(owner=analyst, office_email="", **fields)
    expected = {(kind, DATES[kind]) for kind in due}
    surfaces = every_surface(client, analyst, agreement)
    assert surfaces == dict.fromkeys(surfaces, expected)


# The rule itself ----------------------------------------------------------------------------


def test_every_status_is_pre_signature_live_or_final_exactly_once():
    groups = [
        AgreementStatus.pre_signature(),
        AgreementStatus.live(),
        AgreementStatus.final(),
    ]
    assert sorted(s for group in groups for s in group) == sorted(AgreementStatus.values)


def test_the_queryset_and_the_method_say_the_same(frozen_today):
    """``due_between`` finds exactly the agreements whose ``due_dates()`` fall in the window,
    for every status and each kind of date inside, before, after and without the window."""
    dates = {
        "inside": {"expires_on": days(20), "notice_period_days": 5, "next_review_on": days(10)},
        "notice given": {"expires_on": days(20), "notice_period_days": 5, "notice_given_on": TODAY},
        "notice only": {"expires_on": days(40), "notice_period_days": 25},
        "review only": {"next_review_on": days(30)},
        "edges": {"expires_on": days(31), "notice_period_days": 31, "next_review_on": days(-1)},
        "after": {"expires_on": days(45), "notice_period_days": 1, "next_review_on": days(31)},
        "none": {},
    }
    for status in AgreementStatus.values:
        for fields in dates.values():
            AgreementFactory(
                status=status, signed_on=None, entered_into_force_on=days(-100), **fields
            )
    window = (TODAY, days(30))
    found = set(Agreement.objects.due_between(*window).values_list("pk", flat=True))
    expected = {
        a.pk
        for a in Agreement.objects.all()
        if any(window[0] <= day <= window[1] for day in a.due_dates().values())
    }
    assert found == expected
    # Spot checks of the rule, so the two cannot agree on something wrong.
    by_status = {}
    for a in Agreement.objects.filter(pk__in=found):
        by_status.setdefault(a.status, set()).update(a.due_dates())
    assert by_status == {
        AgreementStatus.DRAFT: {REVIEW},
        AgreementStatus.NEGOTIATING: {REVIEW},
        AgreementStatus.SIGNED: {EXPIRY, NOTICE, REVIEW},
        AgreementStatus.IN_FORCE: {EXPIRY, NOTICE, REVIEW},
        AgreementStatus.SUSPENDED: {EXPIRY, NOTICE, REVIEW},
    }


def test_notice_given_makes_only_the_notice_deadline_moot():
    agreement = AgreementFactory.build(
        expires_on=days(20), notice_period_days=5, next_review_on=days(10)
    )
    agreement.notice_deadline = agreement.compute_notice_deadline()
    assert agreement.due_dates() == {EXPIRY: days(20), NOTICE: days(15), REVIEW: days(10)}
    agreement.notice_given_on = TODAY
    assert agreement.due_dates() == {EXPIRY: days(20), REVIEW: days(10)}
    agreement.status = AgreementStatus.EXPIRED
    assert agreement.due_dates() == {}


# The sweep's candidates ---------------------------------------------------------------------


def test_the_sweep_reads_only_agreements_someone_is_reminded_about(analyst, frozen_today):
    """Each kind looks as far ahead as its largest offset (defaults: expiry 180, notice 60,
    review 30; an agreement's own may go further), on live statuses only (and reviews before
    signature): every candidate has a reminder due."""

    def make(reference, **fields):
        return AgreementFactory(reference=reference, owner=analyst, office_email="", **fields)

    make("EXPIRY-100", expires_on=days(100))
    make("EXPIRY-250", expires_on=days(250))
    make("NOTICE-45", expires_on=days(400), notice_period_days=355)
    make("NOTICE-61", expires_on=days(400), notice_period_days=339)
    make("REVIEW-30", next_review_on=days(30))
    make("REVIEW-31", next_review_on=days(31))
    make("REVIEW-PASSED", next_review_on=days(-1))
    make("OWN-190", expires_on=days(190), reminder_offsets={"expiry": [200, 30]})
    make("EXPIRY-190", expires_on=days(190))  # the defaults: not yet
    make("OWN-REVIEW-40", next_review_on=days(40), reminder_offsets={"expiry": [200]})
    make("DRAFT-REVIEW", status=AgreementStatus.DRAFT, next_review_on=days(7))
    make("DRAFT-EXPIRY", status=AgreementStatus.DRAFT, expires_on=days(7))
    make("EXPIRED-REVIEW", status=AgreementStatus.EXPIRED, next_review_on=days(7))
    make("TERMINATED", status=AgreementStatus.TERMINATED, expires_on=days(7))

    candidates = {a.reference for a in reminder_candidates(TODAY)}
    assert candidates == {"EXPIRY-100", "NOTICE-45", "REVIEW-30", "OWN-190", "DRAFT-REVIEW"}
    assert {d.agreement.reference for d in reminders_due(today=TODAY)} == candidates


def test_the_sweep_query_is_an_or_of_bounded_date_ranges(frozen_today):
    AgreementFactory(expires_on=days(10))
    sql = str(reminder_candidates(TODAY).query)
    assert "IS NOT NULL" not in sql  # no agreement sets its own offsets: no branch for them
    assert ">=" not in sql and "<=" not in sql
    for column in ("expires_on", "notice_deadline", "next_review_on"):
        assert sql.count(f'"{column}" BETWEEN') == 1
    AgreementFactory(expires_on=days(300), reminder_offsets={"expiry": [365]})
    sql = str(reminder_candidates(TODAY).query)
    assert ">=" not in sql and "<=" not in sql
    for column in ("expires_on", "notice_deadline", "next_review_on"):
        assert sql.count(f'"{column}" BETWEEN') == 2
    with CaptureQueriesContext(connection) as queries:
        assert len(list(reminder_candidates(TODAY))) == 2
    # The agreements' own offsets (one small query), the candidates, their watchers.
    assert len(queries) == 3


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plans")
@pytest.mark.parametrize(
    "queryset",
    [lambda: reminder_candidates(TODAY), lambda: Agreement.objects.due_between(TODAY, days(90))],
    ids=["sweep candidates", "deadlines"],
)
def test_the_date_indexes_are_usable(queryset):
    AgreementFactory.create_batch(3, expires_on=days(10))
    AgreementFactory(expires_on=days(300), reminder_offsets={"review": [60]})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = queryset().explain()
    assert "Seq Scan" not in plan, plan
    for index in ("agreement_expires_idx", "agreement_notice_idx", "agreement_review_idx"):
        assert index in plan, plan


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plans")
def test_the_sweep_reads_by_the_indexes_not_through_a_cursor(frozen_today):
    """The sweep's agreements, postings and engagements are read at once: through a
    server-side cursor PostgreSQL planned a fast start, walking the primary key over every
    row (a sweep that grew with the registry). The agreements that set their own offsets
    are found by their partial index, not a scan of every agreement."""
    AgreementFactory.create_batch(3, expires_on=days(10))
    AgreementFactory(expires_on=days(300), reminder_offsets={"review": [60]})
    with CaptureQueriesContext(connection) as queries:
        list(reminders_due(today=TODAY))
    candidates = [
        q["sql"] for q in queries if '"agreements_agreement"."expires_on" BETWEEN' in q["sql"]
    ]
    assert len(candidates) == 1
    assert not any("DECLARE" in q["sql"] for q in queries), [q["sql"][:80] for q in queries]
    own = next(q["sql"] for q in queries if '"reminder_offsets" AS' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + own)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "agreement_own_offsets_idx" in plan, plan


# What the deadlines read -------------------------------------------------------------------


def test_deadlines_read_only_the_columns_they_show(analyst, frozen_today):
    """One query, whatever the number of agreements due; only the columns of
    ``DEADLINE_FIELDS`` (no summary, no search vector) and no prefetch of parties or
    provisions; every surface then renders without reading anything else per agreement."""
    AgreementFactory.create_batch(3, owner=analyst, office_email="", **SOON)
    with CaptureQueriesContext(connection) as queries:
        deadlines = deadlines_for(analyst, within=90)
    assert len(deadlines) == 9
    assert len(queries) == 1, [q["sql"] for q in queries]
    selected = queries[0]["sql"].split(" FROM ")[0]
    columns = set(re.findall(r'"agreements_agreement"\."(\w+)"', selected))
    assert columns == {
        "id",
        "reference",
        "title",
        "short_title",
        "status",
        "expires_on",
        "notice_deadline",
        "next_review_on",
        "notice_given_on",
    }
    assert set(DEADLINE_FIELDS) == columns
    # Tuples, not model instances (the deadlines page alone asks for agreements with parties).
    assert DeadlineAgreement._fields == DEADLINE_FIELDS
    assert all(type(d.agreement) is DeadlineAgreement for d in deadlines)
    paged = deadlines_for(analyst, within=90, with_parties=True)
    assert [(d.kind, d.due_on, d.agreement.pk) for d in paged] == [
        (d.kind, d.due_on, d.agreement.pk) for d in deadlines
    ]
    assert all(isinstance(d.agreement, Agreement) for d in paged)
    # Nothing deferred is read afterwards: the label, the page link and the titles.
    with CaptureQueriesContext(connection) as queries:
        for d in deadlines:
            (d.label, d.days_left, d.agreement.get_absolute_url(), d.agreement.short_title)
    assert len(queries) == 0


@pytest.mark.parametrize("path", ["/deadlines/", "/", "feed", "/api/v1/deadlines/"])
def test_deadline_surfaces_run_as_many_queries_for_one_agreement_as_for_ten(
    client, analyst, frozen_today, path
):
    def count() -> int:
        if path == "/api/v1/deadlines/":
            api = client_for(analyst)
            get = lambda: api.get(path)  # noqa: E731
        elif path == "feed":
            key = calendar_token_regenerate(user=analyst).key
            get = lambda: client.get(f"/calendar/{key}.ics")  # noqa: E731
        else:
            client.force_login(analyst)
            get = lambda: client.get(path)  # noqa: E731
        get()  # warm caches (content types, sessions)
        with CaptureQueriesContext(connection) as queries:
            assert get().status_code == 200
        return len(queries)

    AgreementFactory(owner=analyst, office_email="", **SOON)
    one = count()
    AgreementFactory.create_batch(9, owner=analyst, office_email="", **SOON)
    assert count() == one


def test_the_api_deadlines_are_what_the_serializer_says(analyst, frozen_today):
    """``deadline_rows`` builds the API's rows as dicts: the same JSON as
    ``DeadlineSerializer``, key order included."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from agreements.api.views import DeadlineSerializer, deadline_rows

    AgreementFactory.create_batch(2, owner=analyst, office_email="", **SOON)
    deadlines = deadlines_for(analyst, within=90)
    request = Request(APIRequestFactory().get("/api/v1/deadlines/", secure=True))
    request.parser_context = {"kwargs": {}}
    fast = deadline_rows(deadlines, request)
    slow = DeadlineSerializer(deadlines, many=True, context={"request": request}).data
    assert len(fast) == 6
    assert json.dumps(fast) == json.dumps(slow)
    body = client_for(analyst).get("/api/v1/deadlines/").json()
    assert body["count"] == 6 and body["results"][0]["agreement"]["url"].startswith("http")
