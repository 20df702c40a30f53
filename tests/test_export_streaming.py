"""The CSV export streams in chunks with constant memory: a streaming response, a fixed
number of queries per chunk (not per row), and each finished chunk freed at once.

Speed and memory are measured by bench/export_memory.py; these tests check the mechanism."""

import csv
import gc
import io
import math
import weakref

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from accounts.groups import ANALYSTS
from agreements import export as export_module

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


def test_export_frees_each_chunk_without_the_cycle_collector(
    exporter, partners, small_chunks, monkeypatch
):
    """A finished chunk's agreements (and their prefetched parties and provisions) must be
    freed by reference counting alone; a reference cycle would keep every chunk alive until
    the garbage collector ran, and the export's peak memory would grow with its size."""
    exported = []
    export_row = export_module.export_row

    def spy(agreement):
        exported.append(weakref.ref(agreement))
        return export_row(agreement)

    monkeypatch.setattr(export_module, "export_row", spy)
    make_agreements(3 * small_chunks, partners)
    response = client_for(exporter).get(URL)
    lines = iter(response.streaming_content)
    gc.collect()
    gc.disable()
    try:
        next(lines)  # the header
        for _ in range(2 * small_chunks + 1):  # into the third chunk
            next(lines)
        first_chunk = exported[:small_chunks]
        assert len(first_chunk) == small_chunks
        assert [ref for ref in first_chunk if ref() is not None] == []
        assert len(list(lines)) == small_chunks - 1
    finally:
        gc.enable()
        for _ in lines:  # finish the request even when an assertion failed
            pass
