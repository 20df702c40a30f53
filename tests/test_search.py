"""Full-text search means the same on SQLite and PostgreSQL (CI runs this file on both).

An agreement is searched as ONE document: reference, title, summary and the provisions the
reader may see. Web search syntax: words ANDed, "phrases", ``or``, ``-word``; stop words
dropped; stemming. A provision above the reader's clearance neither matches nor excludes.
The documents follow every write (services and import). A few tests check a mechanism of
one database only (the query plan, the FTS5 tables) and say so.
"""

import csv
import io

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.choices import Classification
from agreements.choices import AgreementType
from agreements.filtersets import AgreementFilterSet
from agreements.importers import import_rows
from agreements.models import Agreement, AgreementSearchDocument
from agreements.search import (
    DOCUMENT_FTS,
    FTS_TABLES,
    STOP_WORDS,
    Term,
    fts5_match,
    install_sqlite_fts,
    parse,
    rebuild_all_documents,
)
from agreements.selectors import agreements_for
from agreements.services import agreement_delete, agreement_save, provision_delete, provision_save

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory, UserFactory

SECRET = Classification.SECRET
CONFIDENTIAL = Classification.CONFIDENTIAL


def postgres_only(test):
    """A check of PostgreSQL's own mechanism (the SQLite pass skips it)."""
    skip = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's mechanism")
    return pytest.mark.postgres(skip(test))


sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="checks SQLite's FTS5 tables"
)


def ranked(user, q, **params):
    """The references found, best first."""
    response = client_for(user).get("/api/v1/agreements/", {"q": q, **params})
    assert response.status_code == 200, response.content
    return [a["reference"] for a in response.json()["results"]]


def refs(user, q):
    """The references found, in alphabetical order."""
    return sorted(ranked(user, q))


def provision_titles(user, q):
    response = client_for(user).get("/api/v1/provisions/", {"q": q})
    assert response.status_code == 200, response.content
    return sorted(p["title"] for p in response.json()["results"])


def agreement(reference, title="Cooperation", summary="", provisions=(), **fields):
    """An agreement with provisions given as (title, text) or (title, text, classification)."""
    made = AgreementFactory(reference=reference, title=title, summary=summary, **fields)
    for row in provisions:
        title_, text, *level = row
        ProvisionFactory(
            agreement=made,
            title=title_,
            text=text,
            classification=level[0] if level else made.classification,
        )
    return made


@pytest.fixture
def library(db):
    """Agreements whose words are spread over their parts."""
    return {
        "college": agreement(
            "A-COLLEGE",
            provisions=[("Staff college", "Officers attend courses."), ("Threat", "Assessment.")],
        ),
        "college_only": agreement("B-COLLEGE-ONLY", provisions=[("Staff college", "Courses.")]),
        "manila": agreement(
            "C-MANILA",
            summary="Logistics support.",
            provisions=[("Access", "Ports in the Philippines.")],
        ),
        "logistics": agreement("D-LOGISTICS", summary="Logistics support for exercises."),
        "phrase": agreement("E-PHRASE", summary="Maritime security in the strait."),
        "apart": agreement("F-APART", summary="Security of the maritime border."),
        "nato": agreement("G-NATO", title="NATO status agreement"),
        "anzus": agreement("H-ANZUS", title="ANZUS consultations"),
    }


ALL = [
    "A-COLLEGE",
    "B-COLLEGE-ONLY",
    "C-MANILA",
    "D-LOGISTICS",
    "E-PHRASE",
    "F-APART",
    "G-NATO",
    "H-ANZUS",
]


# What a query means --------------------------------------------------------------------


def test_words_from_different_provisions_match_together(library, analyst):
    assert refs(analyst, "college threat") == ["A-COLLEGE"]
    assert refs(analyst, "college") == ["A-COLLEGE", "B-COLLEGE-ONLY"]


def test_an_excluded_word_excludes_the_agreement_wherever_it_is(library, analyst):
    # C-MANILA names the Philippines in a provision, not where "logistics" is.
    assert refs(analyst, "logistics -philippines") == ["D-LOGISTICS"]
    assert refs(analyst, "logistics") == ["C-MANILA", "D-LOGISTICS"]


def test_quoted_phrase(library, analyst):
    assert refs(analyst, '"maritime security"') == ["E-PHRASE"]
    assert refs(analyst, "maritime security") == ["E-PHRASE", "F-APART"]
    assert refs(analyst, '-"maritime security" maritime') == ["F-APART"]


def test_or(library, analyst):
    assert refs(analyst, "NATO or ANZUS") == ["G-NATO", "H-ANZUS"]
    assert refs(analyst, "NATO OR ANZUS") == ["G-NATO", "H-ANZUS"]
    assert refs(analyst, "NATO ANZUS") == []
    # AND binds tighter: (college AND threat) OR anzus.
    assert refs(analyst, "college threat or anzus") == ["A-COLLEGE", "H-ANZUS"]
    assert refs(analyst, "or NATO or") == ["G-NATO"]


def test_exclusion_alone(library, analyst):
    assert refs(analyst, "-NATO") == [r for r in ALL if r != "G-NATO"]
    assert refs(analyst, "-nato -anzus -college") == [
        "C-MANILA",
        "D-LOGISTICS",
        "E-PHRASE",
        "F-APART",
    ]
    assert refs(analyst, "anzus or -college") == [r for r in ALL if "COLLEGE" not in r]


def test_stop_words_alone_find_nothing(library, analyst):
    # As PostgreSQL's websearch_to_tsquery: nothing but stop words is an empty query.
    assert refs(analyst, "or") == []
    assert refs(analyst, "the") == []
    assert refs(analyst, '"of the" -and') == []
    assert refs(analyst, "the NATO") == ["G-NATO"]


def test_stemming(db, analyst):
    agreement("A-PATROL", summary="Joint patrols of the coast.")
    agreement("B-NONE", summary="Air policing.")
    assert refs(analyst, "patrolling") == ["A-PATROL"]
    assert refs(analyst, "patrolled coasts") == ["A-PATROL"]


def test_punctuation_and_the_syntax_of_fts5_are_not_operators(library, analyst):
    for q in ["college*", 'college"', "(college) threat", "college:threat", "^college"]:
        assert "A-COLLEGE" in refs(analyst, q), q
    assert refs(analyst, "college AND threat") == ["A-COLLEGE"]  # "and" is a stop word
    assert refs(analyst, "NOT nato") == ["G-NATO"]  # so is "not"
    assert refs(analyst, "NEAR(college threat)") == []  # "near" is a word to find
    for q in ['"', "-", "()", "*", ":", "a:b:c", "'", "\\", "%", "_"]:
        assert refs(analyst, q) in ([], ALL), q


# Clearance -------------------------------------------------------------------------------


@pytest.fixture
def annexed(db):
    """An unclassified agreement with a secret annex naming Zanzibar."""
    return agreement(
        "A-ANNEXED",
        title="Training accord",
        provisions=[("Training", "Combined training."), ("Annex", "Zanzibar signals.", SECRET)],
    )


def test_a_word_above_clearance_neither_matches_nor_excludes(annexed, viewer, editor, analyst):
    agreement("B-OTHER", title="Training partnership")
    for uncleared in (viewer, editor):
        assert refs(uncleared, "zanzibar") == []
        assert refs(uncleared, "training zanzibar") == []
        assert refs(uncleared, "training -zanzibar") == ["A-ANNEXED", "B-OTHER"]
        assert refs(uncleared, "-zanzibar") == ["A-ANNEXED", "B-OTHER"]
    assert refs(analyst, "zanzibar") == ["A-ANNEXED"]
    assert refs(analyst, "training zanzibar") == ["A-ANNEXED"]
    assert refs(analyst, "training -zanzibar") == ["B-OTHER"]
    superuser = UserFactory(username="root", is_superuser=True)
    assert refs(superuser, "zanzibar") == ["A-ANNEXED"]


def test_an_agreement_above_clearance_is_not_searched(db, viewer, editor):
    agreement("A-CONF", title="Basing rights", classification=CONFIDENTIAL)
    assert refs(viewer, "basing") == []
    assert refs(viewer, "-nothing") == []
    assert refs(editor, "basing") == ["A-CONF"]


def test_provision_search_follows_the_same_syntax(annexed, library, viewer, analyst):
    assert provision_titles(analyst, "zanzibar") == ["Annex"]
    assert provision_titles(viewer, "zanzibar") == []
    assert provision_titles(analyst, '"staff college"') == ["Staff college", "Staff college"]
    assert provision_titles(analyst, '"college staff"') == []
    assert provision_titles(analyst, "college -officers") == ["Staff college"]
    assert provision_titles(analyst, "threat or annex") == ["Annex", "Threat"]
    assert provision_titles(analyst, "or") == []


def test_export_and_statistics_count_what_the_list_finds(library, analyst):
    client = client_for(analyst)
    for q in ("logistics -philippines", "college or anzus", "-nato"):
        found = refs(analyst, q)
        stats = client.get("/api/v1/stats/", {"q": q})
        assert stats.status_code == 200
        assert stats.json()["total"] == len(found), q
        export = client.get("/api/v1/agreements/export/", {"q": q})
        assert export.status_code == 200
        rows = csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode()))
        assert sorted(row["reference"] for row in rows) == found, q


# Ranking ------------------------------------------------------------------------------


def test_ranking_title_then_summary_then_provisions(db, analyst, viewer):
    agreement("C-PROV", title="Annexes", provisions=[("Patrols", "Joint maritime drills.")])
    agreement("A-TITLE", title="Maritime security framework")
    agreement("B-SUMMARY", title="Other", summary="Covers maritime patrols.")
    agreement(
        "D-HIDDEN", title="Other annex", provisions=[("Drills", "Joint maritime drills.", SECRET)]
    )
    agreement("E-MISS", title="Air policing")
    assert ranked(analyst, "maritime") == ["A-TITLE", "B-SUMMARY", "C-PROV", "D-HIDDEN"]
    assert ranked(viewer, "maritime") == ["A-TITLE", "B-SUMMARY", "C-PROV"]
    # An explicit ordering wins over relevance.
    assert ranked(viewer, "maritime", ordering="title") == ["C-PROV", "A-TITLE", "B-SUMMARY"]


# The documents follow the writes --------------------------------------------------------


def test_documents_follow_the_write_path(db, viewer, editor, analyst, partners):
    made = agreement_save(
        reference="W-1",
        title="Riverine accord",
        type="training",
        status="negotiating",
        parties=["USA", "COL"],
        provisions=[{"category": "training", "title": "Boats", "text": "Riverine patrol boats."}],
    )
    boats = made.provisions.get()
    assert refs(viewer, "boats") == ["W-1"]
    # A provision's text changes.
    provision_save(provision=boats, agreement=made, text="Riverine patrol craft.")
    assert refs(viewer, "boats") == ["W-1"]  # its title still says so
    assert refs(viewer, "craft") == ["W-1"]
    # A provision is added, then classified up: gone for the uncleared reader only.
    annex = provision_save(agreement=made, category="intelligence_sharing", title="Sigint")
    assert refs(viewer, "sigint") == ["W-1"]
    provision_save(provision=annex, agreement=made, classification=SECRET)
    assert refs(viewer, "sigint") == []
    assert refs(viewer, "riverine -sigint") == ["W-1"]
    assert refs(analyst, "sigint") == ["W-1"]
    assert refs(analyst, "riverine -sigint") == []
    # ... and deleted.
    provision_delete(provision=annex)
    assert refs(analyst, "sigint") == []
    # The agreement's own fields, and its classification.
    agreement_save(agreement=made, title="Estuary accord", summary="Delta operations.")
    assert refs(viewer, "riverine") == ["W-1"]  # still in the boats provision
    assert refs(viewer, "estuary delta craft") == ["W-1"]
    provision_save(provision=boats, agreement=made, classification=CONFIDENTIAL)
    agreement_save(agreement=made, classification=CONFIDENTIAL)
    assert refs(viewer, "estuary") == []
    assert refs(editor, "estuary craft") == ["W-1"]
    # Provisions replaced in one write.
    agreement_save(agreement=made, provisions=[])
    assert refs(editor, "boats") == []
    agreement_delete(agreement=made)
    assert not AgreementSearchDocument.objects.exists()


def test_an_import_is_searchable(partners, viewer):
    row = {
        "reference": "IMP-1",
        "title": "Enhanced cooperation",
        "type": "dca",
        "status": "in_force",
        "signed_on": "2014-04-28",
        "entered_into_force_on": "2014-06-25",
        "parties": [{"code": "PHL"}, {"code": "USA"}],
        "provisions": [
            {"category": "logistics", "title": "Prepositioning", "text": "Stocks at agreed sites."},
            {"category": "training", "title": "Courses", "text": "Joint courses."},
        ],
    }
    result = import_rows([(1, row)])
    assert result.ok, result.errors
    assert refs(viewer, "prepositioning courses") == ["IMP-1"]
    row["provisions"] = row["provisions"][1:]
    assert import_rows([(1, row)], update=True).ok
    assert refs(viewer, "prepositioning") == []
    assert refs(viewer, "courses -stocks") == ["IMP-1"]


def test_one_row_per_run_of_levels(db):
    plain = agreement("A", provisions=[("x", "y")])
    annexed = agreement("B", provisions=[("x", "y"), ("z", "w", SECRET)])
    restricted = agreement("C", classification=Classification.RESTRICTED)
    runs = {
        a.reference: list(
            AgreementSearchDocument.objects.filter(agreement=a).values_list(
                "level_from", "level_to"
            )
        )
        for a in (plain, annexed, restricted)
    }
    assert runs == {"A": [(0, 3)], "B": [(0, 2), (3, 3)], "C": [(1, 3)]}


def test_rebuilding_every_document_gives_the_same_answers(library, analyst):
    before = {q: refs(analyst, q) for q in ("college threat", "logistics -philippines", "-nato")}
    AgreementSearchDocument.objects.all().delete()
    assert refs(analyst, "college") == []
    assert rebuild_all_documents() == len(ALL)
    assert {q: refs(analyst, q) for q in before} == before


# Queries ------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["cyber", "cyber -nothing", '"cyber security" or zzz'])
def test_query_count_is_the_same_for_1_and_100_rows(db, analyst, q):
    agreement("A-1", summary="Cyber security centre.", provisions=[("Cyber", "Security.")])

    client = client_for(analyst)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/agreements/", {"q": q, "page_size": 100})
        assert response.status_code == 200
        return len(response.json()["results"]), len(queries)

    rows, one = count()
    assert rows == 1
    for n in range(99):
        agreement(f"B-{n:03d}", summary="Cyber security.", provisions=[("Cyber", "x")])
    rows, hundred = count()
    assert rows == 100
    assert hundred == one


# The query language, checked against PostgreSQL itself -----------------------------------


def test_parse():
    assert parse('a1 "b1 c1" -d1 or e1') == (
        (Term(("a1",)), Term(("b1", "c1")), Term(("d1",), negated=True)),
        (Term(("e1",)),),
    )
    assert parse("or the or") == ()
    assert parse("--a1 - b1 -or") == ((Term(("a1",)), Term(("b1",), negated=True)),)
    assert parse('"defence of the realm"') == ((Term(("defence", "of", "the", "realm")),),)
    assert parse('"the realm" a1-b1') == ((Term(("realm",)), Term(("a1", "b1"))),)
    assert fts5_match(parse('a1 "b1 c1" -d1 or e1 or -f1')) == (
        '("a1" AND "b1 c1") NOT ("d1") OR ("e1")'
    )


# Queries whose words are plain (no hyphen or dot inside a word, where PostgreSQL's parser
# also indexes the compound): parse() must read them as websearch_to_tsquery does.
SAME_AS_POSTGRES = [
    "a1 b1 or c1 d1",
    "-a1 or b1",
    "a1 -b1 or c1",
    "or a1",
    "a1 or",
    "a1 or or b1",
    '"a1 b1" or "c1 d1"',
    '-"a1 b1" c1',
    '"a1 b1',
    "a1 -or",
    "a1 - b1",
    "-a1 -b1",
    "OR",
    "Or a1",
    "a1 OR -b1 c1",
    "(a1 or b1) c1",
    "a1 & b1 | c1",
    '"a1 or b1"',
    '"-a1 b1"',
    'a1 "" b1',
    'a1 -"the"',
    "the -a1",
    'a1"b1 c1"',
    '"a1 b1"c1',
    "patrolling maritime security",
    '"defence of the realm"',
    '"the realm of" x1',
    "the or a1",
    "a1 or the",
    "x(-y)",
    "a1 (or) b1",
    "a1 or(b1)",
    "a1 !or b1",
    "a1 -(b1 c1)",
    "a1 -!b1",
    "a1 or- b1",
    "a1:* b1",
    "a1 :b1",
    "x&y",
    "x|y",
    "x<y",
    "x,y",
    "x;y",
    "NEAR(college threat)",
    "college AND threat",
]


def _as_tsquery(query) -> str:
    def term(t):
        inner = " <-> ".join(t.words)
        return ("!" if t.negated else "") + f"({inner})"

    return " | ".join("(" + " & ".join(term(t) for t in group) + ")" for group in query)


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("q", SAME_AS_POSTGRES)
def test_parse_reads_the_query_as_postgresql_does(q):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT websearch_to_tsquery('english', %s)::text, to_tsquery('english', %s)::text",
            [q, _as_tsquery(parse(q))],
        )
        postgres, ours = cursor.fetchone()
    assert ours == postgres


@postgres_only
@pytest.mark.django_db
def test_the_stop_words_are_postgresqls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector('english', %s)::text", [" ".join(sorted(STOP_WORDS))])
        assert cursor.fetchone()[0] == ""
        cursor.execute("SELECT to_tsvector('english', 'threat college nato anzus')::text")
        assert cursor.fetchone()[0] != ""


# Mechanisms ----------------------------------------------------------------------------


@postgres_only
def test_a_rare_word_is_found_through_the_gin_index(db, analyst):
    """1,000 agreements, one with a rare word: the plan reaches it from the documents' GIN
    index (a Bitmap Index Scan), then its agreement by primary key. It never reads every
    agreement (the old ``vector @@ q OR EXISTS (provision)`` did), and the rank comes from
    the joined row, not from a subquery per agreement. The index and statistics are as
    autovacuum leaves them (the GIN pending list merged, ``ANALYZE``); no planner setting
    is forced. bench/list_latency.py puts times on it."""
    Agreement.objects.bulk_create(
        Agreement(
            reference=f"BULK-{n:04d}",
            title=f"Cooperation agreement {n}",
            summary="Maritime security, training and logistics." + (" Zanzibar." if n == 7 else ""),
            type=AgreementType.DCA,
        )
        for n in range(1000)
    )
    rebuild_all_documents()
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('agreement_document_search_idx'::regclass)")
        cursor.execute("ANALYZE agreements_agreement")
        cursor.execute("ANALYZE agreements_agreementsearchdocument")
    request = RequestFactory().get("/", {"q": "zanzibar"})
    request.user = analyst
    filterset = AgreementFilterSet(
        data=request.GET, queryset=agreements_for(analyst), request=request
    )
    assert filterset.is_valid()
    assert [a.reference for a in filterset.qs] == ["BULK-0007"]
    plan = filterset.qs.explain()
    assert "Bitmap Index Scan on agreement_document_search_idx" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "SubPlan" not in plan, plan


@sqlite_only
def test_fts5_tables_stay_in_step_with_their_content(library, analyst):
    agreement_save(agreement=library["college"], title="Staff exchange")
    provision_delete(provision=library["college_only"].provisions.get())
    agreement_delete(agreement=library["nato"])
    with connection.cursor() as cursor:
        for table in FTS_TABLES:
            # Raises if the index and its content table disagree.
            cursor.execute(f"INSERT INTO {table.name}({table.name}) VALUES ('integrity-check')")


@sqlite_only
def test_lost_triggers_are_made_again_after_migrate(library, analyst):
    """Django rebuilds a SQLite table to alter it, which drops its triggers: after any
    migrate they are made again and the table re-indexed."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {DOCUMENT_FTS.name}_insert")
    agreement("Z-LATE", title="Zeppelin accord")  # not indexed: no trigger
    assert refs(analyst, "zeppelin") == []
    assert install_sqlite_fts(connection, only_repair=True) == [f"{DOCUMENT_FTS.name}_insert"]
    assert refs(analyst, "zeppelin") == ["Z-LATE"]
    assert install_sqlite_fts(connection, only_repair=True) == []


@sqlite_only
def test_sqlite_opens_the_index_once_for_a_ranked_search(db, analyst):
    """bm25 reads the statistics of every matched term each time the FTS5 index is opened,
    so a lookup per agreement made a common word quadratic (about 2 s at 10,000 agreements,
    38 ms joined; bench/list_latency.py). The ranked search joins the index once: its plan
    has one virtual-table scan and no correlated subquery; a group of exclusions only
    (``-nato``), which a join cannot express, keeps the lookup."""
    Agreement.objects.bulk_create(
        Agreement(
            reference=f"BULK-{n:03d}",
            title=f"Cooperation agreement {n}",
            summary="Maritime security." + (" Zanzibar." if n == 7 else ""),
            type=AgreementType.DCA,
        )
        for n in range(50)
    )
    rebuild_all_documents()

    def plan(q):
        request = RequestFactory().get("/", {"q": q})
        request.user = analyst
        filterset = AgreementFilterSet(
            data=request.GET, queryset=agreements_for(analyst), request=request
        )
        assert filterset.is_valid()
        return filterset.qs, filterset.qs.explain()

    found, text = plan("maritime -zanzibar")
    assert found.count() == 49
    assert text.count("VIRTUAL TABLE INDEX") == 1, text
    assert "CORRELATED" not in text, text
    found, text = plan("zanzibar")
    assert [a.reference for a in found] == ["BULK-007"]
    found, text = plan("-zanzibar")
    assert found.count() == 49
    assert "CORRELATED" in text or "LIST SUBQUERY" in text, text
