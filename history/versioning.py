"""Versions of an aggregate as each reader sees them, shared by the agreement and the
engagement aggregates.

A versioned record has a ``version`` (its own counter, bumped by every write) and
``revisions``: per clearance level, ``[version, ISO time]`` of the last change visible at
that level. A reader's ETag is their level's version, so it moves only when something they
may see changed, and never repeats an earlier one. ``finish_write`` closes a write: the
levels that can see something of it take the new version and time, then the recorder's
change records are saved in one insert."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.choices import Classification
from accounts.clearance import level_of

if TYPE_CHECKING:
    from .recorder import Recorder

# The fields ``finish_write`` writes.
VERSION_FIELDS = ("version", "revisions", "updated_at")


class StaleVersion(Exception):
    """The record changed since the caller read it (an ``If-Match`` that no longer holds)."""


def version_fields(noun: str) -> tuple[models.Field, ...]:
    """The ``version``, ``revisions``, ``created_at`` and ``updated_at`` fields of a
    versioned model whose records are called ``noun``, to unpack in its class body (so that
    they keep their place among its fields)."""
    return (
        models.PositiveIntegerField(
            "version", default=1, editable=False, help_text="Bumped by every change."
        ),
        models.JSONField(
            "revisions",
            default=dict,
            blank=True,
            editable=False,
            help_text="Per clearance level: [version, time] of the last change visible at it.",
        ),
        models.DateTimeField("created at", auto_now_add=True),
        models.DateTimeField(
            "updated at",
            default=timezone.now,
            editable=False,
            help_text=f"The last change visible at the {noun}'s own classification.",
        ),
    )


def revision_at(version: int, revisions: dict, updated_at, level: str) -> list:
    """[version, ISO time] of the last change visible at ``level`` of a record with these
    ``version``, ``revisions`` and ``updated_at`` (``Versioned._revision``; a reader of flat
    rows calls it with their values). A row written before per-level versions (no
    revisions at all) counts every change at every level; a level the record has only just
    come down to starts at 0."""
    if not revisions:
        return [version, updated_at.isoformat() if updated_at else None]
    return revisions.get(level) or [0, None]


class Versioned:
    """Mixed into a model with the fields of ``version_fields``: its version as each
    reader sees it."""

    def _revision(self, level: str) -> list:
        """[version, ISO time] of the last change visible at ``level`` (``revision_at``)."""
        return revision_at(self.version, self.revisions, self.updated_at, level)

    def version_for(self, user) -> int:
        """The version ``user`` sees: it moves only when something they may see changed."""
        level = level_of(user)
        return self._revision(level)[0] if level else 0

    def updated_at_for(self, user) -> datetime.datetime:
        level = level_of(user)
        moment = self._revision(level)[1] if level else None
        return parse_datetime(moment) if moment else self.updated_at


def version_seen_by(obj: Versioned, actor) -> int:
    """The version ``actor`` sees (the system sees every change)."""
    return obj.version if actor is None else obj.version_for(actor)


def bump(obj: Versioned, records, *, created: bool, now: datetime.datetime) -> None:
    """Give ``obj`` (in memory) its new version, revisions and update time for a write that
    made ``records`` (see ``finish_write``)."""
    lowest = min(
        (getattr(r, "bump_from", None) or r.classification for r in records),
        key=Classification.rank,
    )
    obj.version = 1 if created else obj.version + 1
    revisions = {}
    for level in Classification.values:
        if Classification.rank(level) >= Classification.rank(lowest):
            revisions[level] = [obj.version, now.isoformat()]
        elif not created and (obj.revisions or obj._revision(level)[0]):
            revisions[level] = obj._revision(level)
    obj.revisions = revisions
    if created or Classification.rank(lowest) <= Classification.rank(obj.classification):
        obj.updated_at = now


def finish_write(
    obj: Versioned,
    recorder: Recorder,
    *,
    created: bool = False,
    before_records: Callable[[], None] | None = None,
) -> None:
    """Close a write of ``obj``: bump its version, then save the change records in one
    insert (nothing when the write recorded nothing).

    Each clearance level that can see something of the write (a record at or below it, or
    a record whose visibility changed at or below it: ``Recorder.add(bump_from=...)``) takes
    the new version number and time; the others keep theirs, so a change a reader may not
    see does not move their ETag. ``before_records`` runs after the versions are written and
    before the records are."""
    if not recorder.records:
        return
    bump(obj, recorder.records, created=created, now=timezone.now())
    type(obj)._default_manager.filter(pk=obj.pk).update(
        **{name: getattr(obj, name) for name in VERSION_FIELDS}
    )
    if before_records is not None:
        before_records()
    recorder.save()
