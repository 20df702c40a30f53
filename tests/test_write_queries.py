"""The write path's cost does not grow with what is written: a create runs the same few
queries for 1 provision or 10 (bulk inserts, the search documents from the rows in memory,
one history insert), answers with what it wrote (the same bytes a GET then returns), and an
import writes its rows in batches, with the change records ``agreement_save`` writes one by
one."""

import datetime
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.choices import Classification
from agreements.importers import BATCH_SIZE, SOURCE, ImportFailed, import_file
from agreements.models import Agreement, AgreementEvent, AgreementSearchDocument, Provision
from agreements.search import write_documents
from agreements.services import AgreementBatch, agreement_save, resolve_links
from agreements.services.agreements import VECTORS_IN_INSERT
from history.models import ChangeRecord
from partners.models import PointOfContact

from .api_helpers import client_for
from .factories import AgreementFactory, UserFactory


def create_payload(provisions: int, reference: str = "") -> dict:
    return {
        "reference": reference,
        "title": "Mutual logistics support",
        "type": "dca",
        "status": "in_force",
        "signed_on": "2014-04-28",
        "entered_into_force_on": "2014-06-25",
        "parties": [{"code": "USA"}, {"code": "PHL"}, {"code": "COL"}],
        "provisions": [
            {
                "category": "logistics",
                "title": f"Support {k}",
                "article": f"Art. {k + 1}",
                "text": "Fuel, rations and spare parts.",
            }
            for k in range(provisions)
        ],
    }


def count_create(client, payload) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/agreements/", payload, format="json")
    assert response.status_code == 201, response.json()
    return len(queries)


@pytest.mark.parametrize("generated", [False, True], ids=["reference given", "generated"])
def test_create_runs_at_most_20_queries_whatever_the_number_of_provisions(
    partners, editor, generated
):
    client = client_for(editor)
    count_create(client, create_payload(1, "WARM-UP"))  # content types, sessions: cached
    one = count_create(client, create_payload(1, "" if generated else "ONE"))
    ten = count_create(client, create_payload(10, "" if generated else "TEN"))
    assert ten == one
    assert ten <= 20
    assert Provision.objects.filter(agreement__title="Mutual logistics support").count() == 12


def test_the_create_answers_with_the_bytes_a_read_returns(partners, registrar, editor):
    """The response is built from the agreement as written (parties with their acts and
    periods, events, watchers in memory): it says what a GET says, byte for byte."""
    contact = PointOfContact.objects.create(
        name="Maj. Reyes", role="desk_officer", represents=partners["PHL"]
    )
    other = PointOfContact.objects.create(
        name="Col. Adams", role="desk_officer", represents=partners["USA"]
    )
    earlier = AgreementFactory(reference="EARLIER-1", classification=Classification.UNCLASSIFIED)
    payload = {
        **create_payload(0, "ANSWER-1"),
        "classification": Classification.RESTRICTED,
        "supersedes": earlier.pk,
        "owner": editor.username,
        "watchers": [editor.username, registrar.username],
        "contacts": [contact.pk, other.pk],
        "parties": [
            {
                "code": "USA",
                "acts": [
                    {"kind": "ratification", "date": "2014-06-01"},
                    {"kind": "signature", "date": "2014-04-28"},
                ],
            },
            {"code": "phl", "signed_on": "2014-04-28", "entered_into_force_on": "2014-06-25"},
            {"code": "NATO"},
        ],
        "provisions": [
            {"category": "training", "title": "b", "article": "Art. 2"},
            {"category": "training", "title": "a", "article": "art. 10", "text": "Drills."},
            {"category": "intelligence_sharing", "title": "Annex", "classification": "secret"},
            {"category": "basing", "title": "Locations"},
        ],
    }
    client = client_for(registrar)
    created = client.post("/api/v1/agreements/", payload, format="json")
    assert created.status_code == 201, created.json()
    read = client.get(f"/api/v1/agreements/{created.json()['id']}/")
    assert created.content == read.content
    assert created["ETag"] == read["ETag"]
    body = created.json()
    assert [p["code"] for p in body["parties"]] == ["USA", "PHL", "NATO"]
    assert [a["kind"] for a in body["parties"][0]["acts"]] == ["signature", "ratification"]
    assert len(body["provisions"]) == 4 and len(body["contacts"]) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("count", [3, VECTORS_IN_INSERT + 1], ids=["in the INSERT", "UPDATE"])
def test_provisions_written_together_hold_the_vector_save_stores(partners, editor, count):
    if connection.vendor != "postgresql":
        pytest.skip("the provision's own vector is PostgreSQL's")
    batch = AgreementBatch(actor=editor)
    for k in range(3):  # count provisions or a few more, in three agreements
        batch.add(**create_payload(-(-count // 3), f"V-{k}"))
    batch.save()
    provisions = list(Provision.objects.order_by("pk"))
    assert len(provisions) >= count
    bulk = [p.search_vector for p in provisions]
    for provision in provisions:
        provision.save()  # one by one: the vector recomputed from the columns
    assert [Provision.objects.get(pk=p.pk).search_vector for p in provisions] == bulk
    assert all(bulk)


def test_search_documents_from_memory_equal_those_read_back(partners, editor):
    saved = agreement_save(
        **{
            **create_payload(0, "DOCS"),
            "actor": editor,
            "provisions": [
                {"category": "training", "title": "Zulu", "article": "B"},
                {"category": "training", "title": "alpha", "article": "a"},
                {"category": "basing", "title": "Annex", "classification": "confidential"},
            ],
        }
    )
    fields = ("level_from", "level_to", "heading", "summary", "body", "vector")
    written = list(AgreementSearchDocument.objects.filter(agreement=saved).values(*fields))
    write_documents([Agreement.objects.get(pk=saved.pk)])
    assert list(AgreementSearchDocument.objects.filter(agreement=saved).values(*fields)) == (
        written
    )
    assert len(written) == 2


# The import ----------------------------------------------------------------------------------


def import_row(k: int, prefix: str = "IMP") -> dict:
    """A row with a bit of everything: given or generated references, acts and shorthand
    dates, an organization, a provision above the agreement, events, an owner and watchers,
    a link to an earlier row of the same file."""
    row = {
        "reference": f"{prefix}-{k:03d}" if k % 4 else "",
        "title": f"Agreement {k}",
        "summary": "Exchange of officers.",
        "type": "dca" if k % 2 else "mou",
        "status": "in_force",
        "classification": "confidential" if k % 5 == 0 else "unclassified",
        "signed_on": f"20{10 + k % 9:02d}-03-01",
        "entered_into_force_on": f"20{10 + k % 9:02d}-04-01",
        "owner": "editor",
        "watchers": ["editor", "viewer"] if k % 5 else ["editor"],
        "parties": [
            {"code": "USA", "acts": [{"kind": "signature", "date": f"20{10 + k % 9:02d}-03-01"}]},
            {"code": "phl", "signed_on": f"20{10 + k % 9:02d}-03-01"},
            {"code": "NATO" if k % 3 else "GBR"},
        ],
        "provisions": [
            {"category": "training", "title": f"Training {k}", "article": "Art. 1", "text": "x"},
            {
                "category": "intelligence_sharing",
                "title": "Annex",
                "classification": "confidential",
            },
        ],
        "events": [{"kind": "amended", "date": "2020-01-01", "note": f"Row {k}"}],
    }
    if k % 7 == 3 and (k - 2) % 4:
        row["parent"] = f"{prefix}-{k - 2:03d}"  # an earlier row of the file
    return row


def jsonl(tmp_path, rows):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def normalized_records(references) -> list:
    """The change records about these agreements (and their children), in order, ids
    replaced by their rank among the ids of their kind, the time left out."""
    ids = set()
    for agreement in Agreement.objects.filter(reference__in=references):
        ids.update(ChangeRecord.objects.about(agreement).values_list("pk", flat=True))
    records = list(
        ChangeRecord.objects.filter(pk__in=ids)
        .select_related("changed_object_type", "related_object_type")
        .order_by("pk")
    )
    ranks: dict = {}
    for record in records:
        ranks.setdefault(record.changed_object_type.model, set()).add(record.changed_object_id)
    order = {model: sorted(ids) for model, ids in ranks.items()}
    return [
        (
            record.changed_object_type.model,
            order[record.changed_object_type.model].index(record.changed_object_id),
            record.object_repr,
            record.related_object_type.model if record.related_object_type else None,
            record.related_repr,
            record.action,
            record.changes,
            record.classification,
            record.actor_id,
            record.source,
        )
        for record in records
    ]


@pytest.fixture
def importer(partners, editor, viewer, frozen_today):
    return editor


@pytest.mark.parametrize("rows", [1, 12, 17])
def test_an_import_records_what_agreement_save_records_one_by_one(importer, tmp_path, rows):
    """The batch path writes the agreements, children and change records that
    ``agreement_save`` writes row by row (the same rows, once each way)."""
    data = [import_row(k) for k in range(1, rows + 1)]
    with transaction.atomic():
        import_file(jsonl(tmp_path, data), actor=importer)
        references = set(Agreement.objects.values_list("reference", flat=True))
        batch = normalized_records(references)
        batch_rows = _children(references)
        transaction.set_rollback(True)
    with transaction.atomic():
        for row in data:
            row = resolve_links(dict(row), importer)
            agreement_save(actor=importer, source=SOURCE, **row)
        assert set(Agreement.objects.values_list("reference", flat=True)) == references
        assert normalized_records(references) == batch
        assert _children(references) == batch_rows
        transaction.set_rollback(True)
    assert len(batch) >= 9 * rows


def _children(references) -> list:
    agreements = Agreement.objects.filter(reference__in=references).order_by("reference")
    return [
        (
            a.reference,
            a.version,
            sorted(a.revisions),
            a.notice_deadline,
            a.parent.reference if a.parent else None,
            sorted(u.username for u in a.watchers.all()),
            [(p.code, p.signed_on, [x.kind for x in p.acts.all()]) for p in a.parties.all()],
            sorted((p.status, p.starts_on) for p in a.party_periods.all()),
            sorted((p.title, p.classification) for p in a.provisions.all()),
            [(e.kind, e.date, e.note, e.created_by_id) for e in a.events.all()],
            list(
                a.search_documents.order_by("level_from").values_list(
                    "level_from", "level_to", "heading", "body"
                )
            ),
        )
        for a in agreements
    ]


def count_import(tmp_path, rows, actor) -> int:
    path = jsonl(tmp_path, rows)
    with CaptureQueriesContext(connection) as queries:
        result = import_file(path, actor=actor)
    assert result.counts["created"] == len(rows)
    return len(queries)


def test_import_queries_do_not_grow_with_the_rows_of_a_batch(
    partners, editor, tmp_path, frozen_today
):
    plain = [{**create_payload(10, f"PLAIN-{k:03d}"), "title": f"Plain {k}"} for k in range(60)]
    count_import(tmp_path, [create_payload(1, "WARM-UP")], editor)  # content types: cached
    ten = count_import(tmp_path, plain[:10], editor)
    fifty = count_import(tmp_path, plain[10:60], editor)
    # The references and the partners are read for the whole file, the writes per batch
    # (SQLite splits an insert into statements of at most 999 parameters: a few more).
    if connection.vendor == "postgresql":
        assert fifty == ten <= 20
    else:
        assert fifty - ten <= 12 and fifty <= 30
    # the agreement, 3 parties, 10 provisions each
    assert ChangeRecord.objects.filter(source=SOURCE).count() == 60 * 14 + 5


def history_inserts(queries) -> list[int]:
    """The sizes of the runs of consecutive INSERTs into the change records: one run is one
    ``bulk_create`` (SQLite splits it into statements of at most 999 parameters)."""
    runs, previous = [], False
    for query in queries:
        current = query["sql"].startswith('INSERT INTO "history_changerecord"')
        if current and not previous:
            runs.append(0)
        if current:
            runs[-1] += 1
        previous = current
    return runs


def test_a_batch_inserts_its_change_records_once(partners, editor, tmp_path, frozen_today):
    rows = [{**create_payload(1, f"B-{k:03d}")} for k in range(BATCH_SIZE + 5)]
    path = jsonl(tmp_path, rows)
    with CaptureQueriesContext(connection) as queries:
        import_file(path, actor=editor)
    runs = history_inserts(queries.captured_queries)
    assert len(runs) == 2  # two batches
    if connection.vendor == "postgresql":
        assert runs == [1, 1]  # one statement each


def test_a_row_naming_a_generated_reference_of_the_batch_is_skipped_as_one_by_one(
    partners, editor, tmp_path, frozen_today
):
    first = {**create_payload(1), "type": "mou", "signed_on": "2015-01-01"}
    first.pop("entered_into_force_on")
    first["status"] = "signed"
    second = {**first, "reference": "MOU-2015-0001", "title": "Same reference"}
    result = import_file(jsonl(tmp_path, [first, second]), actor=editor)
    assert result.counts == {"created": 1, "skipped": 1}
    assert Agreement.objects.get().title == "Mutual logistics support"


def test_a_batch_row_with_an_error_is_reported_by_line_and_nothing_is_written(
    partners, editor, tmp_path, frozen_today
):
    rows = [create_payload(1, f"E-{k}") for k in range(5)]
    rows[3] = {**rows[3], "parties": [{"code": "USA"}, {"code": "XYZ"}]}
    rows[4] = {**rows[4], "provisions": [{"id": 7, "category": "training", "title": "t"}]}
    with pytest.raises(Exception) as failure:
        import_file(jsonl(tmp_path, rows), actor=editor)
    errors = failure.value.result.errors
    assert [line for line, _ in errors] == [4, 5]
    assert "parties[1].code" in errors[0][1]
    assert "No provision 7 here." in errors[1][1]
    assert not Agreement.objects.exists()
    assert not ChangeRecord.objects.exists()


def test_generated_references_in_one_batch_do_not_collide(partners, tmp_path, frozen_today):
    actor = UserFactory(username="loader", clearance=Classification.SECRET)
    rows = [create_payload(0) for _ in range(3)]
    import_file(jsonl(tmp_path, rows), actor=actor)
    year = datetime.date(2014, 1, 1).year
    assert sorted(Agreement.objects.values_list("reference", flat=True)) == [
        f"DCA-{year}-0001",
        f"DCA-{year}-0002",
        f"DCA-{year}-0003",
    ]


def test_a_reference_taken_by_another_writer_during_the_import_is_reported(
    partners, editor, tmp_path, frozen_today, monkeypatch
):
    """The import reads which references are taken once, at the start; one saved by another
    writer after that fails the batch's insert on the unique index: the row is named and
    nothing of the file is written."""
    from agreements import importers

    read = importers._stored_references

    def then_another_writer_saves(rows):
        stored = read(rows)
        if not Agreement.objects.filter(reference="RACE-2").exists():
            AgreementFactory(reference="RACE-2", title="Saved meanwhile")
        return stored

    monkeypatch.setattr(importers, "_stored_references", then_another_writer_saves)
    rows = [create_payload(1, f"RACE-{k}") for k in range(4)]
    with pytest.raises(importers.ImportFailed) as failure:
        import_file(jsonl(tmp_path, rows), actor=editor)
    [(line, message)] = failure.value.result.errors
    assert line == 3
    assert "'RACE-2' was saved by another writer during this import" in message
    assert list(Agreement.objects.values_list("title", flat=True)) == ["Saved meanwhile"]
    assert not ChangeRecord.objects.filter(source=SOURCE).exists()


@pytest.mark.parametrize("model", [Provision, AgreementEvent])
def test_provisions_and_events_have_no_unique_field_but_the_id(model):
    """The write path skips their ``validate_unique`` (agreements/services/plan.py): a unique
    field added to either must bring that check back."""
    unique_checks, date_checks = model()._get_unique_checks()
    assert unique_checks == [(model, ("id",))] and not date_checks


def test_a_stored_reference_with_spaces_around_it_is_still_a_clash(
    partners, editor, tmp_path, frozen_today
):
    """The import looks references up as they are once stripped; one written with spaces
    around it was not looked up as it is, so it is checked row by row as before: a line
    error, not the unique index's failure."""
    AgreementFactory(reference="SPACE-1 ")
    with pytest.raises(ImportFailed) as failure:
        import_file(jsonl(tmp_path, [create_payload(1, "SPACE-1 ")]), actor=editor)
    [(line, message)] = failure.value.result.errors
    assert line == 1 and "already exists" in message


def test_the_partners_of_a_large_file_are_read_in_parts(partners, editor, tmp_path):
    """Every unknown code of a large file is reported by line: the file's codes are looked
    up 500 at a time (one statement for them all would exceed SQLite's variables)."""
    rows = [
        {**create_payload(0, f"CODES-{k}"), "parties": [f"Q{k:02d}{j:03d}" for j in range(60)]}
        for k in range(20)
    ]
    with CaptureQueriesContext(connection) as queries, pytest.raises(ImportFailed) as failure:
        import_file(jsonl(tmp_path, rows), actor=editor)
    assert [line for line, _ in failure.value.result.errors] == list(range(1, 21))
    lookups = [q for q in queries.captured_queries if "partners_organization" in q["sql"]]
    # 1,200 codes, 500 at a time (none is a nation's; a row's unknown codes are asked again)
    assert [q["sql"].count("'Q") for q in lookups[:3]] == [500, 500, 200]
    assert max(q["sql"].count("'Q") for q in lookups) == 500
