"""The CSV export of agreements: its columns, one row per agreement, streamed in chunks with
constant memory (see bench/export_memory.py)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from .models import Agreement

EXPORT_CHUNK = 500

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


def export_row(agreement: Agreement) -> list[str]:
    """One agreement as CSV cells; expects ``agreements_for(user)`` (parties and visible
    provisions prefetched)."""
    values = {name: getattr(agreement, name, None) for name in EXPORT_COLUMNS}
    values["parties"] = ";".join(p.code for p in agreement.parties.all())
    values["provision_categories"] = ";".join(
        sorted({p.category for p in agreement.visible_provisions})
    )
    values["auto_renews"] = "yes" if agreement.auto_renews else "no"
    return [_cell(values[name]) for name in EXPORT_COLUMNS]


def release_prefetched(agreement: Agreement) -> None:
    """Drop an exported agreement's prefetched parties and provisions.

    Each of them points back at the agreement (Django sets ``party.agreement`` when it
    prefetches), so the agreement and its rows form reference cycles that only the cyclic
    garbage collector frees: without this, finished chunks pile up between collections and
    the export's peak memory grows with its size."""
    agreement._prefetched_objects_cache = {}
    agreement.__dict__.pop("visible_provisions", None)


def export_lines(agreements: QuerySet[Agreement], *, chunk: int | None = None) -> Iterator[str]:
    """The header line, then one line per agreement."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for agreement in agreements.iterator(chunk_size=chunk or EXPORT_CHUNK):
        yield writer.writerow(export_row(agreement))
        release_prefetched(agreement)


def csv_text(columns, rows) -> str:
    """A small table (counts) as CSV text: the header, then the rows (None as empty)."""
    lines = _Echo()
    writer = csv.writer(lines)
    return "".join(
        [writer.writerow(columns), *(writer.writerow([_cell(v) for v in row]) for row in rows)]
    )
