"""Loading engagements from JSON Lines, all or nothing (``manage.py import_engagements``).

One engagement a line, in the shape the API's create takes (``EngagementWriteSerializer``):
the engagement's fields, ``participants`` (codes or ``{"code", "role", "personnel"}``),
``owner`` and ``watchers`` by username, ``location_nation`` by ISO alpha-3 code, and the links
``agreements``, ``provisions`` and ``contacts`` by id. Ids differ from one registry to the
next, so a file may also name an agreement by its reference (``"US-PH-2014-EDCA"``) and a
provision by its agreement and category (``{"agreement": "US-PH-2014-EDCA", "category":
"training"}``, with ``"article"`` to choose when the agreement has several of that
category). Every row is written by ``engagement_save``, which checks every rule.

The natural key is the title with the first day (``title`` + ``starts_on``): a row whose title
and start date an engagement already has is that engagement. By default an import only
creates, and such a row is skipped (counted ``skipped``) and the record left exactly as it
is; with ``update=True`` (``--update``) it overwrites the record, and a row equal to it
changes nothing (``unchanged``). Either way, loading a file twice changes nothing. Two lines
with the same key are an error of the second.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.exceptions import ValidationError

from agreements.importers import (
    ImportResult,
    check_value,
    load_rows,
    read_jsonl,
    run_import,
    value_kind,
)
from agreements.models import Agreement, Provision
from config.api import MAX_ID

from .models import Engagement, Participation
from .services import (
    ENGAGEMENT_FIELDS,
    MAX_LINKS,
    MAX_PARTICIPANTS,
    MAX_WATCHERS,
    engagement_save,
)

SOURCE = "import_engagements"

_LISTS = {
    "participants": MAX_PARTICIPANTS,
    "agreements": MAX_LINKS,
    "provisions": MAX_LINKS,
    "contacts": MAX_LINKS,
    "watchers": MAX_WATCHERS,
}
# Keys the import drops (the API's read-only fields), whatever their shape.
_DERIVED = ("id", "url", "version", "created_at", "updated_at")
_PROVISION_KEYS = ("agreement", "category", "article")


def read_rows(path: Path):
    """Yield (line number, row) pairs; a line that cannot be read, or whose values have the
    wrong shape (``check_row_shape``), is yielded as a message instead."""
    if path.suffix.lower() not in (".jsonl", ".ndjson", ".json"):
        raise ValueError(f"{path.name}: the file must end in .jsonl")
    for number, row in read_jsonl(path):
        if isinstance(row, dict):
            problems = check_row_shape(row)
            if problems:
                row = "; ".join(problems)
        yield number, row


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value) -> bool:
    """A whole number that can be a record's id (a positive bigint)."""
    return _is_whole(value) and 0 < value <= MAX_ID


def check_row_shape(row: dict) -> list[str]:
    """What is wrong with the JSON types of a parsed row before any value is looked at
        (``field: what is wrong``): fields typed as the model's, each list a list within its
        bound, participants codes or objects, agreements ids or references, provisions ids or
        ``{"agreement", "category", "article"}`` objects, contacts ids, watchers usernames, no
        NUL character, and no key that is not a field or one of those lists (the API's read-only
    fields are dropped)."""
    problems: list[str] = []
    fields = {f.name: f for f in Engagement._meta.concrete_fields}
    participation = {f.name: f for f in Participation._meta.concrete_fields}
    for name, value in row.items():
        if name in _DERIVED:
            continue
        if name not in _LISTS:
            if name in ENGAGEMENT_FIELDS:
                check_value(name, value, fields[name], problems)
            else:
                problems.append(f"{name}: unknown field")
            continue
        if not isinstance(value, list):
            problems.append(f"{name}: must be a list, not {value_kind(value)}")
            continue
        if len(value) > _LISTS[name]:
            problems.append(f"{name}: at most {_LISTS[name]} (got {len(value)})")
            continue
        for index, item in enumerate(value):
            label = f"{name}[{index}]"
            if _is_whole(item) and not _is_id(item) and name != "participants":
                problems.append(f"{label}: {item} is not an id (ids are whole numbers from 1)")
                continue
            if name == "participants":
                if isinstance(item, str):
                    item = {"code": item}
                if not isinstance(item, dict):
                    problems.append(
                        f"{label}: must be an object with a code, or a code, not {value_kind(item)}"
                    )
                    continue
                for key, part in item.items():
                    field = participation.get(key) if key != "code" else None
                    if key == "code" or field is not None:
                        check_value(f"{label}.{key}", part, field, problems)
            elif name == "agreements":
                if isinstance(item, str):
                    check_value(label, item, None, problems)
                elif not _is_id(item):
                    problems.append(
                        f"{label}: must be an id or a reference, not {value_kind(item)}"
                    )
            elif name == "provisions":
                if _is_id(item):
                    continue
                if not isinstance(item, dict):
                    problems.append(
                        f"{label}: must be an id or an object with an agreement and a category, "
                        f"not {value_kind(item)}"
                    )
                    continue
                for key, part in item.items():
                    if key not in _PROVISION_KEYS:
                        problems.append(
                            f"{label}.{key}: unknown; give agreement, category, article"
                        )
                    elif key == "agreement" and _is_id(part):
                        continue
                    elif key == "agreement" and _is_whole(part):
                        problems.append(f"{label}.agreement: {part} is not an id")
                    else:
                        check_value(f"{label}.{key}", part, None, problems, nullable=False)
            elif name == "contacts":
                if not _is_id(item):
                    problems.append(f"{label}: must be an id, not {value_kind(item)}")
            else:  # watchers
                check_value(label, item, None, problems, nullable=False)
    return problems


def natural_key(row: dict) -> tuple[str, str] | None:
    """(title, first day) of a row, as given; None when either is missing."""
    title = str(row.get("title") or "").strip()
    starts = str(row.get("starts_on") or "").strip()
    return (title, starts) if title and starts else None


def _existing(row: dict) -> Engagement | None:
    """The engagement with the row's title and first day, if there is one (an error if the
    registry holds several)."""
    key = natural_key(row)
    if key is None:
        return None
    try:
        starts = datetime.date.fromisoformat(key[1])
    except ValueError:
        return None  # the service names the bad date
    found = list(Engagement.objects.filter(title=key[0], starts_on=starts).order_by("pk")[:2])
    if len(found) > 1:
        raise ValidationError(
            {
                "title": [
                    f"Several engagements have this title and start on {key[1]}: fix them first."
                ]
            }
        )
    return found[0] if found else None


def _links(row: dict) -> dict:
    """The row's ``agreements`` and ``provisions`` as ids, references and (agreement,
    category) pairs resolved; errors by item (``provisions[2]``)."""
    errors: dict[str, list[str]] = {}
    references = [a for a in row.get("agreements") or [] if isinstance(a, str)]
    references += [
        p["agreement"]
        for p in row.get("provisions") or []
        if isinstance(p, dict) and isinstance(p.get("agreement"), str)
    ]
    by_reference = dict(
        Agreement.objects.filter(reference__in={r.strip() for r in references}).values_list(
            "reference", "pk"
        )
    )

    def agreement_id(value, label: str) -> int | None:
        if _is_id(value):
            return value
        found = by_reference.get(value.strip())
        if found is None:
            errors.setdefault(label, []).append(f"No agreement has the reference {value!r}.")
        return found

    out = {}
    if "agreements" in row:
        ids = [agreement_id(item, f"agreements[{i}]") for i, item in enumerate(row["agreements"])]
        out["agreement_ids"] = [pk for pk in ids if pk is not None]
    if "provisions" in row:
        ids = []
        for index, item in enumerate(row["provisions"]):
            if _is_id(item):
                ids.append(item)
                continue
            label = f"provisions[{index}]"
            if not item.get("agreement") or not item.get("category"):
                errors.setdefault(label, []).append("Give the agreement and the category.")
                continue
            agreement = agreement_id(item["agreement"], f"{label}.agreement")
            if agreement is None:
                continue
            matches = Provision.objects.filter(agreement_id=agreement, category=item["category"])
            if "article" in item:
                matches = matches.filter(article=item["article"])
            found = list(matches.values_list("pk", flat=True)[:2])
            what = f"{item['agreement']} has {'several provisions' if found else 'no provision'}"
            what += f" of the category {item['category']!r}"
            if "article" in item:
                what += f" and the article {item['article']!r}"
            if len(found) != 1:
                hint = ": give the article" if found else ""
                errors.setdefault(label, []).append(f"{what}{hint}.")
                continue
            ids.append(found[0])
        out["provision_ids"] = ids
    if errors:
        raise ValidationError(errors)
    return out


def _import_one(row: dict, actor, *, update: bool = False) -> str:
    if isinstance(row.get("title"), str):
        # Stored as the natural key reads it (and as the API stores it), so that a second
        # run finds it.
        row["title"] = row["title"].strip()
    existing = _existing(row)
    if existing is not None and not update:
        return "skipped"
    for derived in _DERIVED:
        row.pop(derived, None)
    links = _links(row)
    row.pop("agreements", None)
    row.pop("provisions", None)
    if "contacts" in row:
        row["contact_ids"] = row.pop("contacts")
    if existing is None:
        engagement_save(actor=actor, source=SOURCE, **links, **row)
        return "created"
    before = existing.version
    saved = engagement_save(engagement=existing, actor=actor, source=SOURCE, **links, **row)
    return "updated" if saved.version != before else "unchanged"


def import_rows(rows, *, actor=None, progress=None, update: bool = False) -> ImportResult:
    """Import (line number, row) pairs in one transaction; roll back if any row is bad.
    Engagements already there (by title and first day) are skipped unless ``update``."""
    return run_import(
        rows,
        import_one=lambda row: _import_one(row, actor, update=update),
        key=natural_key,
        describe_key=lambda key: f"title and starts_on: {key[0]!r} starting {key[1]}",
        progress=progress,
    )


def import_file(
    path: Path, *, actor=None, progress_factory=None, update: bool = False
) -> ImportResult:
    return load_rows(
        list(read_rows(path)),
        lambda rows, progress: import_rows(rows, actor=actor, progress=progress, update=update),
        progress_factory=progress_factory,
    )
