"""What every write of the agreement aggregate shares: the writable fields, errors keyed by
field, the clearance check on writes, and closing a write (one version bump per clearance
level that can see it, the search documents rewritten when searched text changed, the change
records in one insert)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.utils import timezone

from accounts.choices import Classification
from engagements.link_history import raise_link_records
from history.models import ChangeAction, ChangeRecord
from history.recorder import Recorder, raise_records, save_records
from history.versioning import VERSION_FIELDS, bump, finish_write

from ..models import Agreement, Provision
from ..search import refresh_documents, write_documents

# What a writer may set. Derived from the models: a new editable field is writable (and
# recorded in history) without being listed again here.
AGREEMENT_FIELDS = tuple(
    f.name for f in Agreement._meta.concrete_fields if f.editable and not f.primary_key
)
PARTY_FIELDS = ("signed_on", "ratified_on", "entered_into_force_on", "withdrawn_on")
PROVISION_FIELDS = ("category", "title", "article", "text", "classification")
EVENT_FIELDS = ("kind", "date", "note")
REVIEW_FIELDS = ("reviewed_on", "reviewer", "outcome", "notes")
LINKS = ("supersedes", "parent")
# What the search documents are made of (agreements.search.documents_of), besides provisions.
SEARCHED_FIELDS = frozenset({"reference", "title", "summary", "classification"})


# Helpers -----------------------------------------------------------------------------------


def _errors_of(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (f"{prefix}.{key}" if prefix and key != "__all__" else prefix or key): list(msgs)
            for key, msgs in exc.message_dict.items()
        }
    return {prefix or "__all__": list(exc.messages)}


def _merge(errors: dict, more: dict) -> None:
    for key, messages in more.items():
        errors.setdefault(key, []).extend(messages)


def coerce_fields(model, data: Mapping[str, Any], prefix: str = "") -> tuple[dict, dict]:
    """Turn raw values (strings from a file, say) into Python values for ``model``'s fields.
    Returns the values and the errors, keyed by field."""
    values, errors = {}, {}
    for name, raw in data.items():
        field = model._meta.get_field(name)
        key = f"{prefix}.{name}" if prefix else name
        if field.is_relation:
            values[name] = raw
            continue
        if isinstance(raw, dict | list) and field.get_internal_type() != "JSONField":
            errors[key] = [f"Expected a single value, got {type(raw).__name__}."]
            continue
        if raw == "" and (field.null or field.get_internal_type() == "BooleanField"):
            raw = None if field.null else False
        try:
            values[name] = field.to_python(raw)
        except ValidationError as exc:
            errors[key] = [f"{m} (got {raw!r})" for m in exc.messages]
    return values, errors


def full_clean(obj, *, exclude=(), validate_unique: bool = True) -> None:
    """``obj.full_clean(exclude=...)``, except that a foreign key set to a record read from
    the database (the partner of a code, a linked agreement found by its reference) is not
    looked up again: Django asks the database whether each one exists. The database still
    holds every foreign key on write."""
    exclude = set(exclude)
    loaded = {
        field.name
        for field in obj._meta.concrete_fields
        if field.many_to_one
        and not field.get_limit_choices_to()
        and field.is_cached(obj)
        and getattr(obj, field.name) is not None
        and not getattr(obj, field.name)._state.adding
    }
    errors: dict = {}
    try:
        obj.clean_fields(exclude=exclude | loaded)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        obj.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    exclude |= {name for name in errors if name != NON_FIELD_ERRORS}
    if validate_unique:
        try:
            obj.validate_unique(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        exclude |= {name for name in errors if name != NON_FIELD_ERRORS}
    try:
        obj.validate_constraints(exclude=exclude)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def check_clearance(actor, classification: str, field: str = "classification") -> None:
    """An actor may not write a record above their own clearance."""
    if actor is None or not Classification.is_level(classification):
        return
    if not actor.is_cleared_for(classification):
        raise ValidationError(
            {field: f"You are not cleared to record {Classification(classification).label} items."}
        )


# Versions ---------------------------------------------------------------------------------


def _changes_search(records) -> bool:
    """Whether the write changed what search reads: a provision, or the agreement's
    searched fields (created: all of them)."""
    for record in records:
        model = record.changed_object_type.model_class()
        if model is Provision:
            return True
        if model is Agreement and (
            record.action != ChangeAction.UPDATE or SEARCHED_FIELDS & record.changes.keys()
        ):
            return True
    return False


def _finish(agreement: Agreement, recorder: Recorder, *, created: bool = False) -> None:
    """Close a write (``history.versioning.finish_write``: the version bump per clearance
    level, then the change records in one insert), rewriting the search documents in
    between when searched text changed."""

    def refresh_search() -> None:
        if _changes_search(recorder.records):
            refresh_documents(agreement)

    finish_write(agreement, recorder, created=created, before_records=refresh_search)


def _finish_created(written: list[tuple[Agreement, Recorder, list]]) -> None:
    """Close the writes that created these agreements, together: ``written`` holds each new
    agreement, its recorder and its provisions as written. An UPDATE of the versions (one per
    set of values: mostly one), one INSERT for the search documents (from the provisions in
    memory) and one for every change record."""
    now = timezone.now()
    for agreement, recorder, _ in written:
        bump(agreement, recorder.records, created=True, now=now)
    agreements = [agreement for agreement, _, _ in written]
    # New agreements mostly share their version fields (the same levels see them): one UPDATE
    # for each set of values.
    groups: dict[str, list[Agreement]] = {}
    for agreement in agreements:
        values = {name: getattr(agreement, name) for name in VERSION_FIELDS}
        groups.setdefault(json.dumps(values, default=str, sort_keys=True), []).append(agreement)
    for same in groups.values():
        values = {name: getattr(same[0], name) for name in VERSION_FIELDS}
        Agreement.objects.filter(pk__in=[a.pk for a in same]).update(**values)
    write_documents(
        agreements,
        provisions={agreement.pk: provisions for agreement, _, provisions in written},
        replace=False,
    )
    save_records([recorder for _, recorder, _ in written])


def _raise_agreement_records(agreement: Agreement, references: set[str]) -> None:
    """``agreement`` is now classified higher: its own records, its children's and the
    other agreements' records that name it as ``supersedes`` or ``parent`` (by any reference
    it has had) reveal that much."""
    level = agreement.classification
    references = set(references)
    for record in ChangeRecord.objects.about(agreement).filter(changes__has_key="reference"):
        references.update(value for value in record.changes["reference"] if value)
    raise_records(agreement, level)
    lower = Classification.values[: Classification.rank(level)]
    candidates = (
        ChangeRecord.objects.filter(classification__in=lower)
        .filter(Q(changes__has_key="supersedes") | Q(changes__has_key="parent"))
        .only("pk", "changes")
    )
    naming = [
        record.pk
        for record in candidates
        if references.intersection(
            value for name in LINKS for value in (record.changes.get(name) or ()) if value
        )
    ]
    if naming:
        ChangeRecord.objects.filter(pk__in=naming).update(classification=level)
    raise_link_records(level, references=references)  # engagements linked to it
