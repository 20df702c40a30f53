"""Reminder offsets: how many days before a date its reminders go out.

``settings.REMINDER_OFFSETS`` holds the defaults per kind; an agreement's own
``reminder_offsets`` (``{"expiry": [90, 30], "review": []}``) replaces them kind by kind."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from .choices import ReminderKind

MAX_OFFSET_DAYS = 3660


def offsets_errors(value) -> list[str]:
    """What is wrong with a per-agreement ``reminder_offsets`` value (empty when fine)."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return ['Give an object of day lists by kind, e.g. {"expiry": [90, 30]}.']
    errors = []
    for kind, days in value.items():
        if kind not in ReminderKind.of_agreements():
            known = ", ".join(ReminderKind.of_agreements())
            errors.append(f"Unknown reminder kind {kind!r}; use {known}.")
            continue
        if not isinstance(days, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in days
        ):
            errors.append(f"{kind}: give a list of whole numbers of days.")
            continue
        if any(d < 0 or d > MAX_OFFSET_DAYS for d in days):
            errors.append(f"{kind}: each offset must be between 0 and {MAX_OFFSET_DAYS} days.")
        if len(set(days)) != len(days):
            errors.append(f"{kind}: an offset appears more than once.")
    return errors


def offsets_in(own, kind: str) -> list[int]:
    """The offsets (days before) for ``kind`` given an agreement's own ``reminder_offsets``
    (None or empty: the defaults), largest first."""
    own = own if isinstance(own, dict) else {}
    days = own[kind] if kind in own else settings.REMINDER_OFFSETS.get(kind, [])
    return sorted(set(days), reverse=True)


def offsets_for(agreement, kind: str) -> list[int]:
    """The offsets (days before) for ``kind`` on ``agreement``, largest first."""
    return offsets_in(agreement.reminder_offsets, kind)


def largest_offsets(own_offsets: Iterable) -> dict[str, int]:
    """The largest offset of each kind among agreements whose own ``reminder_offsets`` are
    ``own_offsets`` (None for the defaults). Kinds without any offset are left out."""
    largest: dict[str, int] = {}
    for own in own_offsets:
        for kind in ReminderKind.of_agreements():
            if days := offsets_in(own, kind):
                largest[kind] = max(largest.get(kind, 0), days[0])
    return largest
