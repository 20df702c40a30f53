"""An agreement's timeline: its stored events (``AgreementEvent``) merged with the events its
own dates imply (signature, entry into force, notice given, termination, expiry).

The derived entries are worked out when the page is drawn, from the dates as they are now,
so they can never fall out of step with them; nothing derived is stored. A stored event of
the same kind on the same day as a derived one takes its place (it may carry a note)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .choices import AgreementStatus, EventKind

# Same-day entries in the order things happen.
ORDER = {kind: index for index, kind in enumerate(EventKind.values)}


@dataclass(frozen=True)
class TimelineEntry:
    date: datetime.date
    kind: str  # an EventKind value
    label: str
    note: str = ""
    derived: bool = False  # from the agreement's dates, not a recorded event
    upcoming: bool = False  # after today

    @property
    def sort_key(self) -> tuple:
        return (self.date, ORDER.get(self.kind, len(ORDER)))


def derived_events(agreement, today: datetime.date) -> list[tuple]:
    """``(kind, date, label, note)`` of the events the agreement's dates imply. An expiry
    is "Expires" while ahead, and left out when the agreement ended before it (terminated
    earlier, or superseded) or was never signed."""
    rows = []
    if agreement.signed_on:
        rows.append((EventKind.SIGNED, agreement.signed_on, "Signed", ""))
    if agreement.entered_into_force_on:
        rows.append(
            (
                EventKind.ENTERED_INTO_FORCE,
                agreement.entered_into_force_on,
                "Entered into force",
                "",
            )
        )
    if agreement.notice_given_on:
        rows.append((EventKind.NOTICE_GIVEN, agreement.notice_given_on, "Notice given", ""))
    if agreement.terminated_on:
        rows.append((EventKind.TERMINATED, agreement.terminated_on, "Terminated", ""))
    expires = agreement.expires_on
    ended_before = agreement.terminated_on and expires and agreement.terminated_on < expires
    if (
        expires
        and agreement.signed_on
        and not ended_before
        and agreement.status != AgreementStatus.SUPERSEDED
    ):
        ahead = expires >= today
        note = ""
        if ahead and agreement.auto_renews and not agreement.notice_given_on:
            note = (
                f"Renews automatically for {agreement.renewal_period_months} months "
                "unless notice is given."
            )
        rows.append((EventKind.EXPIRED, expires, "Expires" if ahead else "Expired", note))
    return rows


def timeline(agreement, today: datetime.date, events=None) -> list[TimelineEntry]:
    """The stored and derived events of ``agreement`` in date order, without duplicates.
    ``events``: the agreement's stored events when already fetched (its prefetched
    ``events`` otherwise)."""
    stored = list(agreement.events.all() if events is None else events)
    recorded = {(event.kind, event.date) for event in stored}
    entries = [
        TimelineEntry(
            date=event.date,
            kind=event.kind,
            label=event.get_kind_display(),
            note=event.note,
            upcoming=event.date > today,
        )
        for event in stored
    ]
    entries += [
        TimelineEntry(
            date=day, kind=kind, label=label, note=note, derived=True, upcoming=day > today
        )
        for kind, day, label, note in derived_events(agreement, today)
        if (kind, day) not in recorded
    ]
    entries.sort(key=lambda entry: entry.sort_key)
    return entries
