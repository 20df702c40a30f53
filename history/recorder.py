"""Writing change records: the services that change a record describe what they changed here.

A service takes a snapshot of a record before and after its write (``snapshot``), hands the
two to a ``Recorder`` with the record it belongs to and the classifications the change
reveals, and saves the recorder once at the end: one INSERT for the whole write. Nothing is
re-read from the database and nothing depends on signals or on a web request, so a command,
a task and an import are recorded like the admin and the API.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils import timezone

from accounts.choices import Classification
from accounts.clearance import highest

from .models import ChangeAction, ChangeRecord


def label(obj) -> str | None:
    """How a linked record is named in history: its code, reference or username."""
    if obj is None:
        return None
    for attribute in ("code", "reference"):
        value = getattr(obj, attribute, None)
        if isinstance(value, str) and value:
            return value
    if hasattr(obj, "get_username"):
        return obj.get_username()
    return str(obj)


def plain(value):
    """A value as JSON can keep it."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Model):
        return label(value)
    return value


def snapshot(obj, fields: Iterable[str]) -> dict:
    """The values of ``fields`` of ``obj`` as they are in memory now (linked records by
    label, many-to-many fields as sorted lists of labels when given as ``name`` in
    ``obj._m2m_labels``)."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_one or field.one_to_one:
            values[name] = label(getattr(obj, name)) if getattr(obj, field.attname) else None
        else:
            values[name] = plain(getattr(obj, name))
    return values


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for every field whose value differs."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def created(values: dict) -> dict:
    return {name: [None, value] for name, value in values.items() if value not in (None, "", [])}


def deleted(values: dict) -> dict:
    return {name: [value, None] for name, value in values.items() if value not in (None, "", [])}


class Recorder:
    """Collects the change records of one write; ``save()`` inserts them together."""

    def __init__(self, *, actor=None, source: str = "", floor: str = ""):
        self.actor = actor if actor is not None and actor.is_authenticated else None
        self.source = source or ("web" if self.actor else "system")
        self.floor = floor
        self.records: list[ChangeRecord] = []

    def add(
        self,
        obj,
        action: str,
        changes: dict,
        *,
        related=None,
        levels: Iterable[str | None] = (),
        bump_from: str | None = None,
    ) -> ChangeRecord | None:
        """Record ``action`` on ``obj``; an update that changed nothing records nothing.
        ``levels`` are the classifications the change reveals besides the floor.
        ``bump_from``: the lowest level whose view the change alters, when lower than the
        record's own (a record classified down or up is seen differently from the lower of
        its two levels on, though the record itself stays at the higher)."""
        if action == ChangeAction.UPDATE and not changes:
            return None
        record = ChangeRecord(
            changed_object_type=ContentType.objects.get_for_model(obj),
            changed_object_id=obj.pk,
            object_repr=str(obj)[:300],
            action=action,
            changes=changes,
            classification=highest(self.floor, *levels),
            actor=self.actor,
            source=self.source,
        )
        record.bump_from = bump_from
        if related is not None:
            record.related_object_type = ContentType.objects.get_for_model(related)
            record.related_object_id = related.pk
            record.related_repr = (label(related) or "")[:300]
        self.records.append(record)
        return record

    def created(self, obj, values: dict, **kwargs):
        return self.add(obj, ChangeAction.CREATE, created(values), **kwargs)

    def updated(self, obj, before: dict, after: dict, **kwargs):
        return self.add(obj, ChangeAction.UPDATE, diff(before, after), **kwargs)

    def deleted(self, obj, values: dict, **kwargs):
        return self.add(obj, ChangeAction.DELETE, deleted(values), **kwargs)

    @property
    def levels(self) -> set[str]:
        return {record.classification for record in self.records}

    def save(self) -> list[ChangeRecord]:
        return save_records([self])


def save_records(recorders: Iterable[Recorder]) -> list[ChangeRecord]:
    """Save the records of several writes (an import's batch, each aggregate its own
    recorder) in one INSERT, in order, all at the same moment."""
    recorders = list(recorders)
    records = [record for recorder in recorders for record in recorder.records]
    if not records:
        return []
    now = timezone.now()
    for record in records:
        record.at = now
    saved = ChangeRecord.objects.bulk_create(records)
    for recorder in recorders:
        recorder.records = []
    return saved


def raise_records(obj, classification: str, *, include_related: bool = True) -> int:
    """``obj`` is now classified ``classification``: its earlier records (and, with
    ``include_related``, those of the records belonging to it) reveal that much too."""
    lower = Classification.values[: Classification.rank(classification)]
    if not lower:
        return 0
    records = ChangeRecord.objects.filter(classification__in=lower)
    records = (
        records.about(obj)
        if include_related
        else records.filter(
            changed_object_type=ContentType.objects.get_for_model(obj), changed_object_id=obj.pk
        )
    )
    return records.update(classification=classification)
