"""Loading agreements from CSV or JSON Lines, all or nothing.

CSV: one agreement a row, agreement fields as columns, ``parties`` as ``;``-separated codes
and ``provision_categories`` as ``;``-separated categories. JSON Lines: one agreement a line,
in the shape the API's create takes (parties with their own dates, provisions in full).
Rows match existing agreements on ``reference``. By default an import only creates: a row
whose reference is already in the registry is skipped (counted ``skipped``) and the record is
left exactly as it is, whatever the file says. With ``update=True`` (``import_agreements
--update``) such a row overwrites the record, and a row equal to it changes nothing
(``unchanged``). Either way, loading a file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from config import jsonlimits

from .choices import ProvisionCategory
from .limits import MAX_ACTS, MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS
from .models import Agreement, AgreementParty, PartyAct, Provision
from .services import LINKS, AgreementBatch, agreement_save, resolve_links

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
    """Yield (line number, row) pairs; a row that cannot be parsed, or whose values have the
    wrong shape (``check_row_shape``), is yielded as a message instead."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        rows = read_jsonl(path)
    elif suffix == ".csv":
        rows = _read_csv(path)
    else:
        raise ValueError(f"{path.name}: the file must end in .csv or .jsonl")
    for number, row in rows:
        if isinstance(row, dict):
            problems = check_row_shape(row)
            row = "; ".join(problems) if problems else _with_party_objects(row)
        yield number, row


def _undecodable(line: bytes, error: UnicodeDecodeError) -> str:
    return (
        f"not valid UTF-8 (byte 0x{line[error.start]:02x} at column {error.start + 1}); "
        "save the file as UTF-8"
    )


def read_jsonl(path: Path) -> Iterator[tuple[int, dict | str]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield number, _undecodable(raw, exc)
                continue
            if not line.strip():
                continue
            try:
                row = jsonlimits.loads(line)
            except jsonlimits.JSONTooDeep as exc:
                yield number, f"not valid JSON ({exc})"
                continue
            except json.JSONDecodeError as exc:
                yield number, f"not valid JSON ({exc.msg} at column {exc.colno})"
                continue
            if not isinstance(row, dict):
                yield number, "each line must be a JSON object"
                continue
            yield number, row


def _read_csv(path: Path) -> Iterator[tuple[int, dict | str]]:
    raw_lines = path.read_bytes().splitlines(keepends=True)
    bad = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad.append((number, _undecodable(raw, exc)))
    if bad:
        yield from bad
        return
    text = b"".join(raw_lines).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    start = 2
    try:
        for raw in reader:
            if None in raw:
                yield start, "more values than there are columns"
            else:
                yield start, _csv_row(raw)
            start = reader.line_num + 1
    except csv.Error as exc:
        yield reader.line_num or start, f"not valid CSV ({exc})"


# The shape of a row ----------------------------------------------------------------------

_LISTS = {"parties": MAX_PARTIES, "provisions": MAX_PROVISIONS, "watchers": MAX_WATCHERS}
# Keys the import drops (the API's read-only fields), whatever their shape.
_DERIVED = ("id", "notice_deadline", "version", "created_at", "updated_at")


def value_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _expected(field) -> tuple[tuple[type, ...], str]:
    """The JSON types a model field accepts from a file (text always: CSV is all text)."""
    if field is None:  # a party's code, a watcher's username
        return (str,), "text"
    if isinstance(field, models.BooleanField):
        return (bool, str), "true or false"
    if isinstance(field, models.IntegerField) and not field.is_relation:
        return (int, str), "a number"
    if isinstance(field, models.DecimalField | models.FloatField):
        return (int, float, str), "a number"
    if isinstance(field, models.JSONField):
        return (dict,), "an object"
    return (str,), "text"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def check_value(name: str, value, field, problems: list[str], *, nullable=True) -> None:
    if value is None and nullable:
        return
    types, label = _expected(field)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        problems.append(f"{name}: must be {label}, not {value_kind(value)}")
    elif _has_nul(value):
        problems.append(f"{name}: must not contain a NUL character")


def _check_objects(name: str, items: list, model, problems: list[str]) -> None:
    """Each item an object (for parties also a bare code) whose known fields are typed right;
    keys the model does not have are left to the service, which names them unknown."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    for index, item in enumerate(items):
        label = f"{name}[{index}]"
        if name == "parties" and isinstance(item, str):
            item = {"code": item}
        if not isinstance(item, dict):
            what = "an object with a code, or a code" if name == "parties" else "an object"
            problems.append(f"{label}: must be {what}, not {value_kind(item)}")
            continue
        for key, value in item.items():
            if key == "code" and name == "parties":
                check_value(f"{label}.code", value, None, problems)
            elif key == "acts" and name == "parties":
                _check_acts(f"{label}.acts", value, problems)
            elif key in fields:
                check_value(f"{label}.{key}", value, fields[key], problems)


def _check_acts(name: str, acts, problems: list[str]) -> None:
    """A party's ``acts``: a list (within ``MAX_ACTS``) of objects whose known fields are typed
    right; a field the database holds as not null may not be null. Unknown keys are left to
    the service."""
    if not isinstance(acts, list):
        problems.append(f"{name}: must be a list, not {value_kind(acts)}")
        return
    if len(acts) > MAX_ACTS:
        problems.append(f"{name}: at most {MAX_ACTS} (got {len(acts)})")
        return
    fields = {f.name: f for f in PartyAct._meta.concrete_fields if not f.is_relation}
    for index, act in enumerate(acts):
        label = f"{name}[{index}]"
        if not isinstance(act, dict):
            problems.append(f"{label}: must be an object, not {value_kind(act)}")
            continue
        for key, value in act.items():
            if key in fields:
                field = fields[key]
                check_value(f"{label}.{key}", value, field, problems, nullable=field.null)


def check_row_shape(row: dict) -> list[str]:
    """What is wrong with the JSON types of a parsed row, before any value is looked at:
    text fields must be text (an object is never stored as text), numbers numbers or text,
    ``parties`` a list of objects or codes (a party's ``acts`` a list of objects),
    ``provisions`` a list of objects, ``watchers`` a
    list of usernames, each list within its bound (``agreements/limits.py``), and no string
    may hold a NUL character. Returns the problems, ``field: what is wrong``; none when the
    row may be handed on. Keys that are no field are left to the service (an "Unknown field"
    error)."""
    problems: list[str] = []
    fields = {f.name: f for f in Agreement._meta.concrete_fields}
    fields.update({f.name: f for f in Agreement._meta.many_to_many})
    for name, value in row.items():
        if name in _DERIVED:
            continue
        if name in _LISTS:
            if not isinstance(value, list):
                problems.append(f"{name}: must be a list, not {value_kind(value)}")
            elif len(value) > _LISTS[name]:
                problems.append(f"{name}: at most {_LISTS[name]} (got {len(value)})")
            elif name == "parties":
                _check_objects(name, value, AgreementParty, problems)
            elif name == "provisions":
                _check_objects(name, value, Provision, problems)
            else:
                for index, username in enumerate(value):
                    check_value(f"{name}[{index}]", username, None, problems, nullable=False)
        elif name in fields:
            check_value(name, value, fields[name], problems)
    return problems


def _with_party_objects(row: dict) -> dict:
    """Bare codes in ``parties`` (``["USA", "PHL"]``) as the objects the services take."""
    if "parties" not in row:
        return row
    parties = [p if isinstance(p, dict) else {"code": p} for p in row["parties"]]
    return {**row, "parties": parties}


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


def format_error(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{key}: {' '.join(messages)}" if key != "__all__" else " ".join(messages)
            for key, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def run_import(
    rows,
    *,
    import_one: Callable[[dict], str],
    key: Callable[[dict], object],
    describe_key: Callable[[object], str],
    progress=None,
    after_row: Callable[[], None] | None = None,
    finish: Callable[[], None] | None = None,
    savepoint: bool = True,
) -> ImportResult:
    """Import (line number, row) pairs in one transaction and roll back if any row is bad:
    a row that is a message (it could not be read) is an error of its line; so is a row
    whose natural key (``key(row)``, None when it has none) appeared on an earlier line
    (``describe_key`` names it); each other row goes to ``import_one``, which returns what
    it did (``created``, ``skipped``…) or raises a ``ValidationError`` (in a savepoint of
    its own unless ``savepoint`` is false: an importer that only checks rows and writes
    them later, in batches, needs none). ``after_row`` runs after each row and ``finish``
    after the last (to write a batch). Shared by the agreement and the engagement
    imports."""
    result = ImportResult()
    seen: dict[object, int] = {}
    with transaction.atomic():
        for number, row in rows:
            if progress is not None:
                progress.update(1)
            if isinstance(row, str):
                result.errors.append((number, row))
                continue
            natural = key(row)
            if natural is not None and natural in seen:
                result.errors.append(
                    (number, f"{describe_key(natural)} already appears on line {seen[natural]}.")
                )
                continue
            if natural is not None:
                seen[natural] = number
            try:
                if savepoint:
                    with transaction.atomic():
                        outcome = import_one(dict(row))
                else:
                    outcome = import_one(dict(row))
                result.counts[outcome] += 1
            except ValidationError as exc:
                result.errors.append((number, format_error(exc)))
            if after_row is not None:
                after_row()
        if finish is not None:
            finish()
        if result.errors:
            transaction.set_rollback(True)
    return result


# Rows checked and not yet written, at most: each batch is written with a few bulk INSERTs and
# one insert of its change records (``AgreementBatch``).
BATCH_SIZE = 100


def import_rows(rows, *, actor=None, progress=None, update: bool = False) -> ImportResult:
    """Import (line number, row) pairs in one transaction; roll back if any row is bad.
    Existing references are skipped unless ``update``.

    Each row is checked as ``agreement_save`` checks it, its errors reported by line; new
    agreements are written in batches (``AgreementBatch``: the records ``agreement_save``
    would write, one insert of change records per batch). A row that names an agreement of
    the batch (``supersedes``, ``parent``, or its reference to update) has the batch
    written first, so it reads what the rows before it made, as one by one; so does a row
    that updates an agreement."""
    rows = list(rows)
    # The rows' references are all looked up here, so the batch does not look up each again
    # (a reference written with spaces around it is: it was not looked up as it is).
    references = {_reference(row) for _, row in rows} - {""}
    stored = _stored_references(references)
    free = references - stored
    batch = AgreementBatch(actor=actor, source=SOURCE, free_references=free)
    batch.know_partners(_party_codes(rows))
    importing = _Importing(actor=actor, update=update, batch=batch, stored=set(stored))

    def after_row() -> None:
        if len(importing.batch) >= BATCH_SIZE:
            importing.flush()

    try:
        return run_import(
            rows,
            import_one=importing.row,
            key=lambda row: _reference(row) or None,
            describe_key=lambda reference: f"reference: {reference!r}",
            progress=progress,
            after_row=after_row,
            finish=importing.flush,
            savepoint=False,
        )
    except IntegrityError:
        taken = _taken_meanwhile(rows, references, stored)
        if not taken:
            raise
        result = ImportResult()
        result.errors += [
            (
                number,
                f"reference: {reference!r} was saved by another writer during this "
                "import, so nothing was imported; run it again to skip or update that row.",
            )
            for number, reference in taken
        ]
        return result


def _reference(row) -> str:
    return str(row.get("reference") or "").strip() if isinstance(row, dict) else ""


def _party_codes(rows) -> set[str]:
    """The partner codes the rows name (as a code, or an object's ``code``)."""
    codes = set()
    for _, row in rows:
        parties = row.get("parties") if isinstance(row, dict) else None
        for party in parties if isinstance(parties, list) else ():
            code = party.get("code") if isinstance(party, dict) else party
            if isinstance(code, str):
                codes.add(code)
    return codes


def _taken_meanwhile(rows, references: set[str], stored: set[str]) -> list[tuple[int, str]]:
    """After an import was rolled back on a unique reference: the rows whose reference (of
    ``references``) is in the registry now and was not at the start (``stored``), saved by
    another writer while the import ran; nothing when that cannot be read (an outer
    transaction is broken too)."""
    if transaction.get_connection().needs_rollback:
        return []
    taken = _stored_references(references) - stored
    lines = {}
    for number, row in rows:
        lines.setdefault(_reference(row), number)  # a reference's first line
    return sorted((lines[reference], reference) for reference in taken)


def _stored_references(references: set[str]) -> set[str]:
    """Those of ``references`` that are already in the registry (a query per 500)."""
    references = sorted(references)
    stored: set[str] = set()
    for start in range(0, len(references), 500):
        chunk = references[start : start + 500]
        stored.update(
            Agreement.objects.filter(reference__in=chunk).values_list("reference", flat=True)
        )
    return stored


@dataclass
class _Importing:
    actor: object
    update: bool
    batch: AgreementBatch
    stored: set[str]  # references in the registry (read at the start, or written since)

    def flush(self) -> None:
        self.stored.update(agreement.reference for agreement in self.batch.save())

    def row(self, row: dict) -> str:
        """Import one row: "skipped", "created", "updated" or "unchanged"."""
        reference = _reference(row)
        if reference in self.batch.references:
            self.flush()  # a reference generated for an earlier row: as if it were saved
        if not self.update and reference in self.stored:
            return "skipped"
        if any(
            isinstance(row.get(name), str) and row[name] in self.batch.references for name in LINKS
        ):
            self.flush()  # it names an agreement of the batch: write that first
        row = resolve_links(row, self.actor)
        row.pop("id", None)
        for derived in ("notice_deadline", "version", "created_at", "updated_at", "url"):
            row.pop(derived, None)
        existing = None
        if reference in self.stored:
            existing = Agreement.objects.filter(reference=reference).first()
        if existing is None:
            self.batch.add(**row)
            return "created"
        self.flush()  # an update may reclassify what the batch's records name: in order
        before = existing.version
        with transaction.atomic():
            updated = agreement_save(agreement=existing, actor=self.actor, source=SOURCE, **row)
        return "updated" if updated.version != before else "unchanged"


def load_rows(rows: list, importer: Callable, *, progress_factory=None) -> ImportResult:
    """Run ``importer(rows, progress=…)`` with a progress bar of ``len(rows)`` steps (from
    ``progress_factory(total=…)``, when given); ``ImportFailed`` if any row was bad."""
    progress = progress_factory(total=len(rows)) if progress_factory else None
    try:
        result = importer(rows, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if result.errors:
        raise ImportFailed(result)
    return result


def import_file(
    path: Path, *, actor=None, progress_factory=None, update: bool = False
) -> ImportResult:
    return load_rows(
        list(read_rows(path)),
        lambda rows, progress: import_rows(rows, actor=actor, progress=progress, update=update),
        progress_factory=progress_factory,
    )
