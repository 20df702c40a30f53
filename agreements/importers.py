"""Loading agreements from CSV or JSON Lines, all or nothing.

CSV: one agreement a row, agreement fields as columns, ``parties`` as ``;``-separated codes
and ``provision_categories`` as ``;``-separated categories. JSON Lines: one agreement a line,
in the shape the API's create takes (parties with their own dates, provisions in full).
Rows match existing agreements on ``reference``, so loading a file twice changes nothing.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from .choices import ProvisionCategory
from .models import Agreement
from .services import agreement_save, resolve_links

SOURCE = "import_agreements"


@dataclass
class ImportResult:
    counts: Counter = field(default_factory=Counter)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFailed(Exception):
    def __init__(self, result: ImportResult):
        super().__init__(f"{len(result.errors)} problem(s); nothing was written.")
        self.result = result


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def read_rows(path: Path) -> Iterator[tuple[int, dict | str]]:
    """Yield (line number, row) pairs; a row that cannot be parsed is yielded as a message."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, f"not valid JSON ({exc.msg} at column {exc.colno})"
                    continue
                if not isinstance(row, dict):
                    yield number, "each line must be a JSON object"
                    continue
                yield number, row
    elif suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            start = 2
            for raw in reader:
                if None in raw:
                    yield start, "more values than there are columns"
                else:
                    yield start, _csv_row(raw)
                start = reader.line_num + 1
    else:
        raise ValueError(f"{path.name}: the file must end in .csv or .jsonl")


def _csv_row(raw: dict[str, str]) -> dict:
    row: dict = {}
    for key, value in raw.items():
        key = (key or "").strip()
        value = (value or "").strip()
        if key == "parties":
            row["parties"] = [{"code": code} for code in _split(value)]
        elif key == "provision_categories":
            row["provisions"] = [
                {
                    "category": category,
                    "title": dict(ProvisionCategory.choices).get(category, category),
                }
                for category in _split(value)
            ]
        elif key == "watchers":
            row["watchers"] = _split(value)
        else:
            row[key] = value
    return row


def _format(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{key}: {' '.join(messages)}" if key != "__all__" else " ".join(messages)
            for key, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def import_rows(rows, *, actor=None, progress=None) -> ImportResult:
    """Import (line number, row) pairs in one transaction; roll back if any row is bad."""
    result = ImportResult()
    seen: dict[str, int] = {}
    with transaction.atomic():
        for number, row in rows:
            if progress is not None:
                progress.update(1)
            if isinstance(row, str):
                result.errors.append((number, row))
                continue
            reference = str(row.get("reference") or "").strip()
            if reference and reference in seen:
                result.errors.append(
                    (number, f"reference: {reference!r} already appears on line {seen[reference]}.")
                )
                continue
            if reference:
                seen[reference] = number
            try:
                with transaction.atomic():
                    outcome = _import_one(dict(row), actor)
                result.counts[outcome] += 1
            except ValidationError as exc:
                result.errors.append((number, _format(exc)))
        if result.errors:
            transaction.set_rollback(True)
    return result


def _import_one(row: dict, actor) -> str:
    row = resolve_links(row, actor)
    row.pop("id", None)
    for derived in ("notice_deadline", "version", "created_at", "updated_at", "url"):
        row.pop(derived, None)
    reference = str(row.get("reference") or "").strip()
    existing = Agreement.objects.filter(reference=reference).first() if reference else None
    if existing is None:
        agreement_save(actor=actor, source=SOURCE, **row)
        return "created"
    before = existing.version
    updated = agreement_save(agreement=existing, actor=actor, source=SOURCE, **row)
    return "updated" if updated.version != before else "unchanged"


def import_file(path: Path, *, actor=None, progress_factory=None) -> ImportResult:
    rows = list(read_rows(path))
    progress = progress_factory(total=len(rows)) if progress_factory else None
    try:
        result = import_rows(rows, actor=actor, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if result.errors:
        raise ImportFailed(result)
    return result
