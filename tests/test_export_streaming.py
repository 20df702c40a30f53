"""The CSV export streams in chunks with constant memory: a streaming response, a fixed
number of queries per chunk (not per row), and rows read as tuples, no model instances.

Speed and memory are measured by bench/export_memory.py; these tests check the mechanism."""

import csv
import datetime
import io
import math

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from accounts.groups import ANALYSTS
from agreements import export as export_module
from agreements.models import Agreement, AgreementParty, Provision

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory, UserFactory

URL = "/api/v1/agreements/export/"
CHUNK = 5


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(export_module, "EXPORT_CHUNK", CHUNK)
    return CHUNK


@pytest.fixture
def exporter(db):
    return UserFactory(username="exporter", group=ANALYSTS, clearance="secret")


def make_agreements(n, partners):
    for i in range(n):
        agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"], partners["NATO"]])
        ProvisionFactory(agreement=agreement, title=f"Training {i}")
        ProvisionFactory(agreement=agreement, category="logistics", classification="secret")


def export(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
        body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    return response, list(csv.reader(io.StringIO(body))), len(ctx)


def test_export_is_a_streaming_response(exporter, partners):
    make_agreements(2, partners)
    response, rows, _ = export(client_for(exporter))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(rows) == 3  # the header and two agreements
    assert rows[1][rows[0].index("parties")] == "USA;PHL;NATO"
    assert rows[1][rows[0].index("provision_categories")] == "logistics;training"


def test_export_queries_grow_with_chunks_not_rows(exporter, partners, small_chunks):
    client = client_for(exporter)
    make_agreements(2, partners)
    _, rows, few = export(client)
    assert len(rows) == 1 + 2
    make_agreements(11, partners)  # 13 rows: three chunks instead of one
    _, rows, many = export(client)
    assert len(rows) == 1 + 13
    extra_chunks = math.ceil(13 / small_chunks) - math.ceil(2 / small_chunks)
    # Each chunk prefetches its parties and its provisions: two queries, whatever its size.
    assert many - few == 2 * extra_chunks


def test_export_builds_no_model_instances(exporter, partners, small_chunks, monkeypatch):
    """The rows are read as tuples (``values_list``), the parties and categories of each
    chunk as flat rows: no agreement, party or provision object is built, so there is
    nothing per row to keep alive (the reference cycles Django's prefetch makes between an
    agreement and its rows once held whole chunks until the cycle collector ran)."""
    make_agreements(3 * small_chunks, partners)
    built = []
    for model in (Agreement, AgreementParty, Provision):
        original = model.from_db.__func__

        def spy(cls, db, field_names, values, original=original):
            built.append(cls.__name__)
            return original(cls, db, field_names, values)

        monkeypatch.setattr(model, "from_db", classmethod(spy))
    _, rows, _ = export(client_for(exporter))
    assert len(rows) == 1 + 3 * small_chunks
    assert built == []


def test_export_rows_are_those_of_the_models(exporter, partners):
    """The cells read from tuples are what the model instances hold: dates, numbers, the
    yes/no of auto-renewal, empty for None, the parties in their order, a formula-looking
    title quoted."""
    agreement = AgreementFactory(
        parties=[partners["NATO"], partners["USA"]],
        title="=cmd",
        auto_renews=True,
        renewal_period_months=12,
        expires_on=datetime.date(2030, 5, 1),
        notice_period_days=30,
    )
    ProvisionFactory(agreement=agreement, category="logistics", classification="secret")
    _, rows, _ = export(client_for(exporter))
    row = dict(zip(rows[0], rows[1], strict=True))
    agreement.refresh_from_db()
    assert row["id"] == str(agreement.pk) and row["title"] == "'=cmd"
    assert row["parties"] == "NATO;USA" and row["provision_categories"] == "logistics"
    assert (row["auto_renews"], row["renewal_period_months"]) == ("yes", "12")
    assert row["expires_on"] == "2030-05-01" and row["terminated_on"] == ""
    assert row["notice_deadline"] == str(agreement.notice_deadline)
    assert row["signed_on"] == str(agreement.signed_on)


def test_export_sends_a_chunk_in_one_piece(exporter, partners, small_chunks):
    """The header first (the first byte at once), then one string per chunk of rows, not a
    write per line."""
    make_agreements(2 * small_chunks + 1, partners)
    response = client_for(exporter).get(URL)
    pieces = list(response.streaming_content)
    assert len(pieces) == 1 + 3
    assert pieces[0].decode().startswith("id,reference,") and pieces[0].count(b"\n") == 1
    assert [piece.count(b"\n") for piece in pieces[1:]] == [small_chunks, small_chunks, 1]


def test_export_categories_do_not_join_every_agreement(exporter, partners):
    """A chunk's provision categories are read by its agreements' ids (already within
    clearance) and the provisions' own level: no join of the agreements table, which cost a
    scan of every agreement per chunk. A provision above the user's clearance stays out."""
    make_agreements(2, partners)
    reader = UserFactory(username="reader", group=ANALYSTS, clearance="unclassified")
    with CaptureQueriesContext(connection) as ctx:
        response = client_for(reader).get(URL)
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    categories = [sql["sql"] for sql in ctx if 'DISTINCT "agreements_provision"' in sql["sql"]]
    assert len(categories) == 1 and '"agreements_agreement"' not in categories[0]
    column = rows[0].index("provision_categories")
    assert [row[column] for row in rows[1:]] == ["training", "training"]  # not the secret one
