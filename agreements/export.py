"""The CSV export of agreements: its columns, one row per agreement, streamed in chunks with
constant memory (see bench/export_memory.py)."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator

from django.db.models import QuerySet

from .models import Agreement
from .selectors import parties_by_agreement, visible_categories_by_agreement

EXPORT_CHUNK = 2000

EXPORT_COLUMNS = (
    "id",
    "reference",
    "title",
    "short_title",
    "type",
    "status",
    "classification",
    "signed_on",
    "entered_into_force_on",
    "expires_on",
    "terminated_on",
    "notice_deadline",
    "next_review_on",
    "auto_renews",
    "parties",
    "provision_categories",
    "source_url",
    "renewal_period_months",
    "notice_period_days",
    "notice_given_on",
    "review_interval_months",
)


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    # Spreadsheet formula injection: a cell must not start a formula.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


# The columns read straight from the agreement's row; the parties and the provision
# categories come from one query each per chunk.
ROW_FIELDS = tuple(
    name for name in EXPORT_COLUMNS if name not in ("parties", "provision_categories")
)
_AUTO_RENEWS = ROW_FIELDS.index("auto_renews")


def export_row(row: tuple, parties: list[str], categories) -> list[str]:
    """One agreement as CSV cells: ``row`` its ``ROW_FIELDS`` (a ``values_list`` row),
    ``parties`` its party codes in order, ``categories`` the categories of the provisions the
    user may see."""
    cells = [_cell(value) for value in row]
    cells[_AUTO_RENEWS] = "yes" if row[_AUTO_RENEWS] else "no"
    cells[_PARTIES:_PARTIES] = [_cell(";".join(parties)), _cell(";".join(sorted(categories)))]
    return cells


# The two columns read per chunk sit together, after the row's first columns.
_PARTIES = EXPORT_COLUMNS.index("parties")
assert EXPORT_COLUMNS[_PARTIES + 1] == "provision_categories"


class _Lines(list):
    """A file-like object collecting csv.writer's lines, to be sent as one string."""

    write = list.append


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def export_lines(
    agreements: QuerySet[Agreement], *, user, chunk: int | None = None
) -> Iterator[str]:
    """The header line, then the lines of the agreements of ``agreements`` (in its order),
    one string per chunk of them, with the provisions ``user`` may see. No model instances:
    the agreements' rows are read as tuples (a server-side cursor on PostgreSQL), and for
    each chunk of them their parties and provision categories in one flat query each, so
    memory stays flat whatever the size of the export; a chunk is written to the client
    in one piece, not a write per line."""
    size = chunk or EXPORT_CHUNK
    lines = _Lines()
    writer = csv.writer(lines)
    writer.writerow(EXPORT_COLUMNS)
    yield lines.pop()
    rows = agreements.prefetch_related(None).values_list(*ROW_FIELDS).iterator(chunk_size=size)
    for rows_of_chunk in _chunks(rows, size):
        ids = [row[0] for row in rows_of_chunk]
        parties = parties_by_agreement(ids)
        categories = visible_categories_by_agreement(ids, user)
        writer.writerows(
            export_row(
                row, [code for code, _, _ in parties.get(row[0], ())], categories.get(row[0], ())
            )
            for row in rows_of_chunk
        )
        yield "".join(lines)
        lines.clear()


def csv_text(columns, rows) -> str:
    """A small table (counts) as CSV text: the header, then the rows (None as empty)."""
    lines = _Echo()
    writer = csv.writer(lines)
    return "".join(
        [writer.writerow(columns), *(writer.writerow([_cell(v) for v in row]) for row in rows)]
    )
