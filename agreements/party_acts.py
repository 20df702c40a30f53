"""A party's relation to an agreement over time, derived from its acts: the one place that
says whether a party was a signatory, bound, provisionally applying, suspended or withdrawn on
a given day.

The rules, as a depositary would read its record:

- An act takes effect on its ``effective_on`` date, or on its ``date`` when that is empty (a
  denunciation notified today may take effect a year later).
- A party is **bound** from its own ``entry_into_force`` act when it has one. Otherwise from
  the later of its consent to be bound (definitive signature, ratification, acceptance,
  approval, accession, succession) and the agreement's entry into force.
- A signature alone binds from the agreement's entry into force when the agreement took effect
  on signature: it is bilateral (a bilateral agreement in force binds both sides), or none of
  its parties records a ratification, acceptance or approval. Otherwise a party that only
  signed is a **signatory**.
- A party with no signature, consent, entry into force or provisional application of its own
  is taken as bound from the agreement's entry into force: the record says nothing else
  (``check_registry`` lists such parties of multilateral agreements).
- A provisional application makes a party **provisional** until it is bound.
- A suspension makes a bound or provisional party **suspended** until its resumption.
- A withdrawal of ratification takes the party back to **signatory** (it has still signed);
  a denunciation or withdrawal makes it **withdrawn**; a later consent may bind it again.
- Reservations and declarations change nothing.

``party_periods`` turns the acts into periods; the write path stores them
(``PartyPeriod``) so that questions about a day are one indexed lookup on any database.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .choices import PartyActKind as Kind
from .choices import PartyStatus as Status

CONSENT = frozenset(
    {
        Kind.DEFINITIVE_SIGNATURE,
        Kind.RATIFICATION,
        Kind.ACCEPTANCE,
        Kind.APPROVAL,
        Kind.ACCESSION,
        Kind.SUCCESSION,
    }
)
# Consent given after a signature: when any party records one, signatures do not bind alone.
CONSENT_AFTER_SIGNATURE = frozenset({Kind.RATIFICATION, Kind.ACCEPTANCE, Kind.APPROVAL})
# The acts that say how a party came to the agreement; a party with none is presumed bound.
JOINING = CONSENT | {Kind.SIGNATURE, Kind.ENTRY_INTO_FORCE, Kind.PROVISIONAL_APPLICATION}
WITHDRAWING = frozenset({Kind.DENUNCIATION, Kind.WITHDRAWAL})

# The shorthand dates of a party and the acts they stand for: (field, kinds it reads, the
# kind a new act of it gets).
SHORTHAND = (
    ("signed_on", frozenset({Kind.SIGNATURE, Kind.DEFINITIVE_SIGNATURE}), Kind.SIGNATURE),
    ("ratified_on", CONSENT - {Kind.DEFINITIVE_SIGNATURE}, Kind.RATIFICATION),
    ("entered_into_force_on", frozenset({Kind.ENTRY_INTO_FORCE}), Kind.ENTRY_INTO_FORCE),
    ("withdrawn_on", WITHDRAWING, Kind.WITHDRAWAL),
)


class Act(Protocol):
    kind: str
    date: datetime.date
    effective_on: datetime.date | None


@dataclass(frozen=True)
class Period:
    status: str
    starts_on: datetime.date
    ends_on: datetime.date | None  # exclusive; None: still so

    def covers(self, day: datetime.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


def takes_effect(act: Act) -> datetime.date:
    return act.effective_on or act.date


def signature_binds(acts_by_party: Iterable[Iterable[Act]], party_count: int) -> bool:
    """Whether a signature alone binds its party (the agreement took effect on signature)."""
    if party_count <= 2:
        return True
    return not any(act.kind in CONSENT_AFTER_SIGNATURE for acts in acts_by_party for act in acts)


# Steps of the state machine, in the order they apply on one day.
_SIGN, _CONSENT, _PROVISIONAL, _BIND, _SUSPEND, _RESUME, _UNCONSENT, _WITHDRAW = range(8)
_STEP_OF = {
    Kind.SIGNATURE: _SIGN,
    Kind.PROVISIONAL_APPLICATION: _PROVISIONAL,
    Kind.ENTRY_INTO_FORCE: _BIND,
    Kind.SUSPENSION: _SUSPEND,
    Kind.RESUMPTION: _RESUME,
    Kind.WITHDRAWAL_OF_RATIFICATION: _UNCONSENT,
    Kind.DENUNCIATION: _WITHDRAW,
    Kind.WITHDRAWAL: _WITHDRAW,
    **{kind: _CONSENT for kind in CONSENT},
}


def party_periods(
    acts: Iterable[Act],
    *,
    agreement_in_force_on: datetime.date | None,
    signature_binds: bool,
) -> list[Period]:
    """The periods of a party's status, in order, from its acts and the agreement's entry
    into force. Before the first period the party had no relation to the agreement."""
    acts = list(acts)
    eif = agreement_in_force_on
    own_binds = sorted(takes_effect(a) for a in acts if a.kind == Kind.ENTRY_INTO_FORCE)
    ends = sorted(
        takes_effect(a)
        for a in acts
        if a.kind in WITHDRAWING or a.kind == Kind.WITHDRAWAL_OF_RATIFICATION
    )
    has_consent = any(a.kind in CONSENT for a in acts)

    def bound_by_own_act(day: datetime.date) -> bool:
        """Whether an entry into force of the party's own, on or after ``day`` and before
        the party next withdrew, is what binds it for a consent or signature of ``day``."""
        until = next((end for end in ends if end > day), None)
        return any(day <= e and (until is None or e < until) for e in own_binds)

    # (day, step, what a bind needs: "" none, "consent", "signature", "presumed")
    steps: list[tuple[datetime.date, int, str]] = []
    for act in acts:
        step = _STEP_OF.get(act.kind)
        if step is None:
            continue
        day = takes_effect(act)
        steps.append((day, step, ""))
        if eif is None or bound_by_own_act(day):
            continue
        if step == _CONSENT:
            steps.append((max(day, eif), _BIND, "consent"))
        elif step == _SIGN and signature_binds and not has_consent:
            steps.append((max(day, eif), _BIND, "signature"))
    if eif is not None and not any(act.kind in JOINING for act in acts):
        steps.append((eif, _BIND, "presumed"))
    steps.sort(key=lambda s: (s[0], s[1]))

    periods: list[Period] = []
    state: str | None = None
    before_suspension: str | None = None
    consented = signed = False

    def move(day: datetime.date, new: str) -> None:
        nonlocal state
        if new == state:
            return
        if periods and periods[-1].ends_on is None:
            last = periods.pop()
            if last.starts_on < day:
                periods.append(Period(last.status, last.starts_on, day))
        if periods and periods[-1].status == new and periods[-1].ends_on == day:
            last = periods.pop()
            periods.append(Period(new, last.starts_on, None))
        else:
            periods.append(Period(new, day, None))
        state = new

    for day, step, needs in steps:
        if step == _SIGN:
            signed = True
            if state is None:
                move(day, Status.SIGNATORY)
        elif step == _CONSENT:
            consented = True
            if state in (None, Status.WITHDRAWN):
                move(day, Status.SIGNATORY)
        elif step == _PROVISIONAL:
            if state in (None, Status.SIGNATORY):
                move(day, Status.PROVISIONAL)
        elif step == _BIND:
            if needs == "consent" and not consented:
                continue
            if needs in ("signature", "presumed") and state == Status.WITHDRAWN:
                continue
            if needs == "signature" and not signed:
                continue
            if state == Status.SUSPENDED and before_suspension == Status.PROVISIONAL:
                before_suspension = Status.BOUND  # bound once the suspension ends
            elif state in (None, Status.SIGNATORY, Status.PROVISIONAL, Status.WITHDRAWN):
                move(day, Status.BOUND)
        elif step == _SUSPEND:
            if state in (Status.BOUND, Status.PROVISIONAL):
                before_suspension = state
                move(day, Status.SUSPENDED)
        elif step == _RESUME:
            if state == Status.SUSPENDED:
                move(day, before_suspension or Status.BOUND)
        elif step == _UNCONSENT:
            consented = False
            if state in (Status.BOUND, Status.SUSPENDED, Status.PROVISIONAL):
                move(day, Status.SIGNATORY)
        elif step == _WITHDRAW:
            consented = signed = False
            move(day, Status.WITHDRAWN)
    return periods


def within(
    periods: list[Period], first_day: datetime.date | None, last_day: datetime.date | None
) -> list[Period]:
    """The periods cut to the days a state existed, ``first_day`` to ``last_day``: it is
    nothing to the agreement before it came into being or after it ceased (its successors
    continue by their own acts)."""
    end = last_day + datetime.timedelta(days=1) if last_day else None
    cut = []
    for period in periods:
        starts, ends = period.starts_on, period.ends_on
        if first_day is not None and starts < first_day:
            if ends is not None and ends <= first_day:
                continue
            starts = first_day
        if end is not None:
            if starts >= end:
                break
            if ends is None or ends > end:
                ends = end
        cut.append(Period(period.status, starts, ends))
    return cut


def status_on(periods: Iterable, day: datetime.date) -> str | None:
    """The status a party had on ``day`` (periods: ``Period`` or stored ``PartyPeriod``);
    None before any act of it took effect."""
    return next(
        (
            p.status
            for p in periods
            if p.starts_on <= day and (p.ends_on is None or day < p.ends_on)
        ),
        None,
    )


def withdrawn_on(acts: Iterable[Act]) -> datetime.date | None:
    """The day the party's last withdrawal took effect, unless it joined again after it."""
    acts = list(acts)
    withdrawals = [takes_effect(a) for a in acts if a.kind in WITHDRAWING]
    if not withdrawals:
        return None
    last = max(withdrawals)
    if any(a.kind in JOINING and takes_effect(a) > last for a in acts):
        return None
    return last


def shorthand_dates(acts: Iterable[Act]) -> dict:
    """The party's summary dates, read from its acts: first signature, first consent, its own
    entry into force, and the day it withdrew when it has not joined again since."""
    acts = list(acts)
    values = {}
    for field, kinds, _new in SHORTHAND[:3]:
        days = [act.date for act in acts if act.kind in kinds]
        values[field] = min(days) if days else None
    values["withdrawn_on"] = withdrawn_on(acts)
    return values
