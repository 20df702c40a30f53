"""The CSV export of engagements: its columns, one row per engagement, streamed in chunks
with constant memory, with the cells guarded against spreadsheet formulas like the
agreements' export."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from agreements.export import EXPORT_CHUNK, _cell, _Echo

from .models import Engagement

EXPORT_COLUMNS = (
    "id",
    "title",
    "kind",
    "status",
    "classification",
    "starts_on",
    "ends_on",
    "location",
    "location_nation",
    "latitude",
    "longitude",
    "domain",
    "participants",
    "agreements",
    "provision_categories",
    "after_action_due_on",
    "outcome",
    "source_url",
)


def export_row(engagement: Engagement) -> list[str]:
    """One engagement as CSV cells; expects ``engagements_for(user)`` (participants and the
    visible links prefetched). ``participants`` are ``CODE:role`` pairs, ``;``-separated."""
    values = {name: getattr(engagement, name, None) for name in EXPORT_COLUMNS}
    nation = engagement.location_nation
    values["location_nation"] = nation.iso3 if nation else ""
    values["participants"] = ";".join(f"{p.code}:{p.role}" for p in engagement.participants.all())
    values["agreements"] = ";".join(a.reference for a in engagement.visible_agreements)
    values["provision_categories"] = ";".join(
        sorted({p.category for p in engagement.visible_provisions})
    )
    return [_cell(values[name]) for name in EXPORT_COLUMNS]


def release_prefetched(engagement: Engagement) -> None:
    """Drop an exported engagement's prefetched rows (they point back at it: without this,
    finished chunks wait for the cyclic garbage collector)."""
    engagement._prefetched_objects_cache = {}
    engagement.__dict__.pop("visible_agreements", None)
    engagement.__dict__.pop("visible_provisions", None)


def export_lines(engagements: QuerySet[Engagement], *, chunk: int | None = None) -> Iterator[str]:
    """The header line, then one line per engagement."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for engagement in engagements.iterator(chunk_size=chunk or EXPORT_CHUNK):
        yield writer.writerow(export_row(engagement))
        release_prefetched(engagement)
