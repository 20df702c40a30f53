"""GET /api/v1/agreements/dyad-years/: one CSV row per pair of bound nations, year and
agreement (docs/api.md, "Dyad-years")."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from accounts.choices import Classification
from accounts.groups import ANALYSTS
from agreements import dyad_years
from agreements.choices import ProvisionCategory
from agreements.models import Agreement
from agreements.services import agreement_save

from .api_helpers import client_for
from .factories import NationFactory, UserFactory

URL = "/api/v1/agreements/dyad-years/"
D = datetime.date
HEADER = ["year", "party_a", "party_b", "reference", "type", *ProvisionCategory.values]


@pytest.fixture
def nations(partners):
    for code in ("SWE", "DNK", "NOR", "ITA"):
        partners[code] = NationFactory(iso3=code, name=code)
    return partners


@pytest.fixture
def low_analyst(db):
    """May export, but cleared to unclassified only."""
    return UserFactory(username="low", group=ANALYSTS, clearance=Classification.UNCLASSIFIED)


def make(reference, parties, *, provisions=(), **fields):
    values = {
        "title": f"Agreement {reference}",
        "type": "alliance",
        "status": "in_force",
        "signed_on": D(2015, 3, 1),
        "entered_into_force_on": D(2015, 6, 1),
    }
    return agreement_save(
        reference=reference,
        parties=parties,
        provisions=[{"title": f"{p['category']} clause", "text": "…", **p} for p in provisions],
        **{**values, **fields},
    )


def fetch(user, **params):
    response = client_for(user).get(URL, params)
    assert response.status_code == 200, response.content[:500]
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    return rows


def years_by_pair(rows, reference=None):
    found = defaultdict(list)
    for row in rows:
        if reference is None or row["reference"] == reference:
            found[(row["party_a"], row["party_b"])].append(int(row["year"]))
    return dict(found)


def span(first, last):
    return list(range(first, last + 1))


def test_a_three_party_agreement_gives_three_pairs_a_year(analyst, partners, frozen_today):
    make("TRI", ["USA", "PHL", "JPN", "NATO"], provisions=[{"category": "training"}])
    response = client_for(analyst).get(URL, {"from": 2014, "to": 2017})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == 'attachment; filename="dyad-years.csv"'
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == HEADER
    # Pairs in code order, then years; NATO (an organization) is no part of any pair.
    assert [line[:3] for line in lines[1:]] == [
        [str(year), a, b]
        for a, b in [("JPN", "PHL"), ("JPN", "USA"), ("PHL", "USA")]
        for year in (2015, 2016, 2017)
    ]
    training = HEADER.index("training")
    for line in lines[1:]:
        assert line[3:5] == ["TRI", "alliance"]
        assert line[5:] == ["1" if n == training else "0" for n in range(5, len(HEADER))]


def test_no_year_after_this_one(analyst, partners, frozen_today):
    make("TRI", ["USA", "PHL"])
    rows = fetch(analyst, **{"from": 2025, "to": 2030})
    assert years_by_pair(rows) == {("PHL", "USA"): [2025, 2026]}  # today is in 2026
    assert fetch(analyst, **{"from": 2027, "to": 2030}) == []


def test_late_joiners_withdrawn_and_suspended_parties_only_in_their_years(
    analyst, nations, frozen_today
):
    make(
        "PACT",
        [
            "USA",
            "FRA",
            {"code": "SWE", "acts": [{"kind": "accession", "date": "2019-03-07"}]},
            # Notice given in 2019, effective a year later: bound until 2020-01-09.
            {
                "code": "GBR",
                "acts": [
                    {"kind": "denunciation", "date": "2019-01-10", "effective_on": "2020-01-10"}
                ],
            },
            # Suspended from the first day of 2017 until the first day of 2019.
            {
                "code": "ITA",
                "acts": [
                    {"kind": "suspension", "date": "2017-01-01"},
                    {"kind": "resumption", "date": "2019-01-01"},
                ],
            },
            # Both in 2021, but never on a common day: no NOR-DNK dyad.
            {"code": "NOR", "acts": [{"kind": "withdrawal", "date": "2021-03-01"}]},
            {"code": "DNK", "acts": [{"kind": "accession", "date": "2021-06-01"}]},
        ],
    )
    pairs = years_by_pair(fetch(analyst, **{"from": 2010, "to": 2026}))
    full = span(2015, 2026)
    gbr = span(2015, 2020)
    swe = span(2019, 2026)
    ita = [2015, 2016, *span(2019, 2026)]
    nor = span(2015, 2021)
    dnk = span(2021, 2026)
    assert pairs[("FRA", "USA")] == full
    assert pairs[("GBR", "USA")] == pairs[("FRA", "GBR")] == gbr
    assert pairs[("SWE", "USA")] == pairs[("FRA", "SWE")] == swe
    assert pairs[("GBR", "SWE")] == [2019, 2020]
    assert pairs[("ITA", "USA")] == pairs[("FRA", "ITA")] == ita
    assert pairs[("GBR", "ITA")] == [2015, 2016, 2019, 2020]
    assert pairs[("ITA", "SWE")] == swe
    assert pairs[("NOR", "USA")] == nor
    assert pairs[("GBR", "NOR")] == gbr
    assert pairs[("NOR", "SWE")] == span(2019, 2021)
    assert pairs[("DNK", "USA")] == pairs[("DNK", "SWE")] == dnk
    assert ("DNK", "NOR") not in pairs
    assert ("DNK", "GBR") not in pairs
    assert len(pairs) == 7 * 6 // 2 - 2


def test_a_state_that_ceased_is_bound_only_until_then(analyst, partners, frozen_today):
    """A made-up state that ceased on 30 June 2018: its periods stop there, so do its dyads."""
    NationFactory(iso3="XQA", name="Former state", valid_to=D(2018, 6, 30))
    make("OLD", ["USA", "PHL", "XQA"])
    pairs = years_by_pair(fetch(analyst, **{"from": 2010, "to": 2026}))
    assert pairs == {
        ("PHL", "USA"): span(2015, 2026),
        ("PHL", "XQA"): span(2015, 2018),
        ("USA", "XQA"): span(2015, 2018),
    }


def test_a_terminated_expired_or_suspended_agreement_stops(analyst, partners, frozen_today):
    make("ENDED", ["USA", "PHL"], status="terminated", terminated_on=D(2020, 1, 1))
    make("EXPIRED", ["USA", "COL"], status="expired", expires_on=D(2018, 1, 1))
    make("NOT-YET", ["USA", "GBR"], status="signed", entered_into_force_on=D(2027, 1, 1))
    make("DRAFT", ["USA", "FRA"], status="draft", signed_on=None)
    paused = make("PAUSED", ["USA", "JPN"])
    agreement_save(
        agreement=paused,
        add_events=[
            {"kind": "suspended", "date": D(2017, 1, 1)},
            {"kind": "resumed", "date": D(2019, 1, 1)},
        ],
    )
    rows = fetch(analyst, **{"from": 2010, "to": 2026})
    # Terminated on the first day of 2020: not in force that day, so 2019 is the last year.
    assert years_by_pair(rows, "ENDED") == {("PHL", "USA"): span(2015, 2019)}
    # In force on the day it expires: 2018 counts.
    assert years_by_pair(rows, "EXPIRED") == {("COL", "USA"): span(2015, 2018)}
    assert years_by_pair(rows, "NOT-YET") == {}
    assert years_by_pair(rows, "DRAFT") == {}
    assert years_by_pair(rows, "PAUSED") == {("JPN", "USA"): [2015, 2016, *span(2019, 2026)]}


def test_in_force_spans_agree_with_in_force_on(analyst, partners, frozen_today):
    """The span form of the in-force rule says what ``AgreementQuerySet.in_force_on`` says,
    day by day around every date that matters."""
    make("ENDED", ["USA", "PHL"], status="terminated", terminated_on=D(2020, 1, 1))
    make("EXPIRED", ["USA", "COL"], status="expired", expires_on=D(2018, 1, 1))
    make("DRAFT", ["USA", "FRA"], status="draft", signed_on=None)
    paused = make("PAUSED", ["USA", "JPN"])
    agreement_save(
        agreement=paused,
        add_events=[
            {"kind": "suspended", "date": D(2017, 1, 1)},
            {"kind": "resumed", "date": D(2017, 1, 1)},  # the later one of the day counts
            {"kind": "suspended", "date": D(2018, 5, 1)},
            {"kind": "suspended", "date": D(2018, 6, 1)},
            {"kind": "resumed", "date": D(2019, 1, 1)},
            {"kind": "resumed", "date": D(2019, 2, 1)},
            {"kind": "suspended", "date": D(2025, 2, 1)},
        ],
    )
    marks = [D(2015, 6, 1), D(2017, 1, 1), D(2018, 1, 1), D(2018, 5, 1), D(2018, 6, 1)]
    marks += [D(2019, 1, 1), D(2019, 2, 1), D(2020, 1, 1), D(2025, 2, 1), frozen_today]
    days = sorted({mark + datetime.timedelta(days=n) for mark in marks for n in (-1, 0, 1)})
    for agreement in Agreement.objects.all():
        events = agreement.events.filter(kind__in=["suspended", "resumed"]).order_by("date", "id")
        spans = dyad_years.in_force_spans(
            status=agreement.status,
            entered_into_force_on=agreement.entered_into_force_on,
            expires_on=agreement.expires_on,
            terminated_on=agreement.terminated_on,
            suspended=dyad_years.suspended_spans(events.values_list("kind", "date")),
            until=frozen_today + datetime.timedelta(days=1),
        )
        for day in days:
            by_spans = any(start <= day < end for start, end in spans)
            by_query = Agreement.objects.filter(pk=agreement.pk).in_force_on(day).exists()
            if day > frozen_today:
                by_query = False  # the dyad-years never look past today
            assert by_spans == by_query, (agreement.reference, day)


def test_one_row_per_agreement_and_the_years_asked_for(analyst, partners, frozen_today):
    make("ONE", ["USA", "PHL"], type="dca")
    make("TWO", ["PHL", "USA"], type="sofa")
    rows = fetch(analyst, **{"from": 2016, "to": 2016})
    assert sorted(
        (r["year"], r["party_a"], r["party_b"], r["reference"], r["type"]) for r in rows
    ) == [
        ("2016", "PHL", "USA", "ONE", "dca"),
        ("2016", "PHL", "USA", "TWO", "sofa"),
    ]


def test_filters_select_the_agreements(analyst, nations, frozen_today):
    make("NORDIC", ["SWE", "NOR", "DNK"], type="dca")
    make("ATLANTIC", ["USA", "GBR"], type="alliance")
    make("PACIFIC", ["USA", "JPN"], type="sofa")
    years = {"from": 2020, "to": 2020}

    def refs(**params):
        return sorted({row["reference"] for row in fetch(analyst, **years, **params)})

    assert refs() == ["ATLANTIC", "NORDIC", "PACIFIC"]
    assert refs(party="SWE") == ["NORDIC"]
    # Filters select agreements, not dyads: every pair of the agreement comes along.
    assert len(fetch(analyst, **years, party="SWE")) == 3
    assert refs(party="USA") == ["ATLANTIC", "PACIFIC"]
    assert refs(type="alliance,sofa") == ["ATLANTIC", "PACIFIC"]
    assert refs(party="USA", type="dca") == []
    assert refs(in_force_on="2016-01-01", party_any="GBR,DNK") == ["ATLANTIC", "NORDIC"]


def test_a_bad_filter_is_a_400_naming_it(analyst, partners):
    client = client_for(analyst)
    response = client.get(URL, {"from": 2000, "to": 2001, "type": "treaty"})
    assert response.status_code == 400
    assert set(response.json()) == {"type"}
    response = client.get(URL, {"from": 2000, "to": 2001, "party": "QQQ"})
    assert response.status_code == 400
    assert set(response.json()) == {"party"}
    # Years and filters are checked together.
    response = client.get(URL, {"to": 2001, "category": "cooking"})
    assert response.status_code == 400
    assert set(response.json()) == {"from", "category"}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, {"from", "to"}),
        ({"to": 2000}, {"from"}),
        ({"from": 2000}, {"to"}),
        ({"from": "20x0", "to": 2001}, {"from"}),
        ({"from": "2000-01-01", "to": 2001}, {"from"}),
        ({"from": 2000, "to": ""}, {"to"}),
        ({"from": 1699, "to": 1701}, {"from"}),
        ({"from": 2000, "to": 2301}, {"to"}),
        ({"from": 2001, "to": 2000}, {"to"}),
        ({"from": 1700, "to": 2200}, {"to"}),  # 501 years
    ],
)
def test_bad_years_are_a_400_naming_the_parameter(analyst, params, named):
    response = client_for(analyst).get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == named


def test_the_widest_span_is_accepted(analyst, partners, frozen_today):
    make("TRI", ["USA", "PHL"])
    rows = fetch(analyst, **{"from": 1700, "to": 2199})  # 500 years
    assert years_by_pair(rows) == {("PHL", "USA"): span(2015, 2026)}


def test_clearance_hides_secret_agreements_and_provisions(
    analyst, low_analyst, partners, frozen_today
):
    make(
        "OPEN",
        ["USA", "PHL"],
        provisions=[
            {"category": "training"},
            {"category": "basing", "classification": "secret"},
        ],
    )
    make("HIDDEN", ["USA", "GBR"], classification="secret")
    years = {"from": 2020, "to": 2020}
    high = fetch(analyst, **years)
    assert sorted(r["reference"] for r in high) == ["HIDDEN", "OPEN"]
    (open_high,) = [r for r in high if r["reference"] == "OPEN"]
    assert (open_high["training"], open_high["basing"]) == ("1", "1")
    low = fetch(low_analyst, **years)
    assert [r["reference"] for r in low] == ["OPEN"]
    assert (low[0]["training"], low[0]["basing"]) == ("1", "0")
    # A filter naming what the user may not see finds nothing of it.
    assert fetch(low_analyst, **years, party="GBR") == []
    assert fetch(low_analyst, **years, category="basing") == []


def test_the_export_permission_is_needed(viewer, outsider, partners):
    """The same answers as the export: 403 without the permission, 401 without credentials."""
    make("OPEN", ["USA", "PHL"])
    years = {"from": 2020, "to": 2020}
    for user in (viewer, outsider):
        export = client_for(user).get("/api/v1/agreements/export/", years)
        response = client_for(user).get(URL, years)
        assert export.status_code == response.status_code == 403
        assert response.json() == export.json()
    assert client_for().get(URL, years).status_code == 401


def test_a_formula_in_a_reference_is_defused(analyst, partners, frozen_today):
    make("=HYPERLINK(1)", ["USA", "PHL"])
    (row,) = fetch(analyst, **{"from": 2020, "to": 2020})
    assert row["reference"] == "'=HYPERLINK(1)"


def count_queries(client, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
        body = b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx), body.count(b"\n") - 1


def make_many(n, start, nations):
    codes = list(nations)
    for i in range(start, start + n):
        make(
            f"MANY-{i}",
            [
                codes[i % len(codes)],
                codes[(i + 1) % len(codes)],
                {
                    "code": codes[(i + 2) % len(codes)],
                    "acts": [{"kind": "accession", "date": "2018-01-01"}],
                },
            ],
            provisions=[
                {"category": "training"},
                {"category": "cyber", "classification": "secret"},
            ],
            add_events=[{"kind": "suspended", "date": D(2020, 1, 1)}],
        )


def test_query_count_does_not_grow_with_agreements(analyst, nations, frozen_today):
    client = client_for(analyst)
    codes = {code: n for code, n in nations.items() if len(code) == 3}
    params = {"from": 2010, "to": 2026, "party_any": ",".join(codes)}
    make_many(1, 0, codes)
    few, few_rows = count_queries(client, params)
    make_many(49, 1, codes)
    many, many_rows = count_queries(client, params)
    # A pair bound 2015-2019 (suspended since 2020), two with the newcomer in 2018 and 2019.
    assert (few_rows, many_rows) == (9, 50 * 9)
    assert many == few


def test_each_chunk_costs_the_same_queries(analyst, nations, frozen_today, monkeypatch):
    client = client_for(analyst)
    codes = {code: n for code, n in nations.items() if len(code) == 3}
    params = {"from": 2010, "to": 2026}
    monkeypatch.setattr(dyad_years, "DYAD_CHUNK", 4)
    make_many(4, 0, codes)
    one_chunk, _ = count_queries(client, params)
    make_many(8, 4, codes)
    three_chunks, rows = count_queries(client, params)
    assert rows == 12 * 9
    assert three_chunks - one_chunk == 2 * 3  # periods, categories, suspensions


def test_the_docs_name_the_columns_in_order():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    section = docs.split("## Dyad-years", 1)[1].split("\n## ", 1)[0]
    columns = section.split("Columns:", 1)[1].split("A category column", 1)[0]
    assert re.findall(r"`(\w+)`", columns) == list(dyad_years.DYAD_COLUMNS)
    assert f"at most {dyad_years.MAX_SPAN_YEARS} years" in section
    assert f"from {dyad_years.FIRST_YEAR} to {dyad_years.LAST_YEAR}" in section
