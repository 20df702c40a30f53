"""A party's acts in a write: read from the request (``acts``) or from the shorthand dates,
checked, written with history, and turned into the stored status periods."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from history.recorder import Recorder, snapshot
from partners.selectors import existence_error

from .. import party_acts
from ..limits import MAX_ACTS
from ..models import Agreement, AgreementParty, PartyAct, PartyPeriod
from .common import PARTY_FIELDS, _errors_of, _merge, coerce_fields

ACT_FIELDS = ("kind", "date", "effective_on", "note", "source_url")


def _key(act) -> tuple:
    return (act.kind, act.date)


def build_acts(raw, prefix: str, errors: dict) -> list[PartyAct] | None:
    """The ``acts`` of a party in a write as unsaved records; None (errors noted) when wrong."""
    key = f"{prefix}.acts"
    if not isinstance(raw, list | tuple):
        errors.setdefault(key, []).append("Expected a list.")
        return None
    if len(raw) > MAX_ACTS:
        errors.setdefault(key, []).append(f"At most {MAX_ACTS} acts for one party.")
        return None
    acts, ok = [], True
    for index, data in enumerate(raw):
        where = f"{key}[{index}]"
        if isinstance(data, PartyAct):
            act = PartyAct(**{name: getattr(data, name) for name in ACT_FIELDS})
        elif isinstance(data, Mapping):
            unknown = set(data) - set(ACT_FIELDS)
            if unknown:
                errors.setdefault(where, []).append(
                    f"Unknown field(s): {', '.join(sorted(unknown))}."
                )
                ok = False
                continue
            values, field_errors = coerce_fields(PartyAct, data, where)
            if field_errors:
                _merge(errors, field_errors)
                ok = False
                continue
            act = PartyAct(**values)
        else:
            errors.setdefault(where, []).append("Expected an object.")
            ok = False
            continue
        try:
            act.full_clean(exclude=["party"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, where))
            ok = False
            continue
        acts.append(act)
    seen: set = set()
    for index, act in enumerate(acts):
        if _key(act) in seen:
            errors.setdefault(f"{key}[{index}]", []).append(
                f"The same act ({act.get_kind_display().lower()} on {act.date}) is listed twice."
            )
            ok = False
        seen.add(_key(act))
    return acts if ok else None


def acts_from_shorthand(existing: list[PartyAct], given: Mapping) -> list[PartyAct]:
    """The acts that result from shorthand dates: a date equal to what the acts say changes
    nothing; another date moves the act it stands for (or adds one); an empty date removes
    those acts. Acts of kinds no shorthand stands for are kept."""
    acts = [PartyAct(**{name: getattr(a, name) for name in ACT_FIELDS}) for a in existing]
    current = party_acts.shorthand_dates(acts)
    for field, kinds, new_kind in party_acts.SHORTHAND:
        if field not in given or given[field] == current[field]:
            continue
        value = given[field]
        group = [a for a in acts if a.kind in kinds]
        if field == "withdrawn_on":
            # Only the withdrawal in effect now is what the date stands for: a party that
            # withdrew and joined again keeps its earlier withdrawal.
            in_effect = (
                max(group, key=party_acts.takes_effect) if current[field] is not None else None
            )
            if value is None:
                acts = [a for a in acts if a is not in_effect]
            elif in_effect is not None:
                in_effect.date, in_effect.effective_on = value, None
            else:
                acts.append(PartyAct(kind=new_kind, date=value))
        elif value is None:
            acts = [a for a in acts if a.kind not in kinds]
        elif group:
            min(group, key=lambda a: a.date).date = value
        else:
            acts.append(PartyAct(kind=new_kind, date=value))
    return acts


def shorthand_errors(acts: list[PartyAct], given: Mapping, prefix: str) -> dict:
    """With both ``acts`` and shorthand dates in a write, the dates must say what the acts
    say."""
    derived = party_acts.shorthand_dates(acts)
    errors = {}
    for field in PARTY_FIELDS:
        if field in given and given[field] != derived[field]:
            said = derived[field].isoformat() if derived[field] else "no such date"
            errors[f"{prefix}.{field}"] = [
                f"Disagrees with this party's acts (they say {said}); change one or the other."
            ]
    return errors


def _shorthand_field(kind: str) -> str | None:
    return next((field for field, kinds, _ in party_acts.SHORTHAND if kind in kinds), None)


def act_errors(
    party: AgreementParty, acts: list[PartyAct], prefix: str, *, from_shorthand: bool = False
) -> dict:
    """The rules on one party's acts together: a withdrawal takes effect after the party
    joined; a nation's acts fall within the dates the state existed. Acts made from the
    shorthand dates are reported under the date they came from."""
    errors: dict[str, list[str]] = {}
    joined = [a.date for a in acts if a.kind in party_acts.JOINING]
    for index, act in enumerate(acts):
        where = f"{prefix}.acts[{index}]"
        if from_shorthand:
            where = f"{prefix}.{_shorthand_field(act.kind) or 'acts'}"
        if act.kind in party_acts.WITHDRAWING and joined:
            first = min(joined)
            if party_acts.takes_effect(act) <= first:
                errors.setdefault(where, []).append(
                    f"A withdrawal must take effect after the party joined ({first})."
                )
        nation = party.nation
        if nation is not None:
            problem = existence_error(nation, act.date)
            if problem:
                errors.setdefault(where, []).append(
                    f"{problem} No act of it can be dated {act.date}."
                )
    return errors


def write_acts(
    party: AgreementParty,
    acts: list[PartyAct],
    existing: list[PartyAct],
    agreement: Agreement,
    recorder: Recorder,
) -> list[PartyAct]:
    """Make the party's stored acts the planned ones, recording each change; new acts in
    one INSERT. Returns the party's acts now."""
    remaining = {_key(a): a for a in existing}
    steps, new = [], []
    for act in acts:
        current = remaining.pop(_key(act), None)
        if current is None:
            act.pk = None
            act.party = party
            new.append(act)
            steps.append((act, None, None))
            continue
        before = snapshot(current, ACT_FIELDS)
        for name in ACT_FIELDS:
            setattr(current, name, getattr(act, name))
        after = snapshot(current, ACT_FIELDS)
        if after != before:
            current.save(update_fields=list(ACT_FIELDS))
        steps.append((current, before, after))
    PartyAct.objects.bulk_create(new)
    for act, before, after in steps:
        if before is None:
            recorder.created(act, snapshot(act, ACT_FIELDS), related=agreement)
        else:
            recorder.updated(act, before, after, related=agreement)
    for leftover in remaining.values():
        recorder.deleted(leftover, snapshot(leftover, ACT_FIELDS), related=agreement)
        leftover.delete()
    return [act for act, _, _ in steps]


def rebuild_periods_locked(agreement_id: int) -> bool:
    """``rebuild_periods`` under the agreement's row lock, so that a write of its acts in
    the meantime cannot be overwritten with periods of the acts before it."""
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().filter(pk=agreement_id).first()
        return rebuild_periods(agreement) if agreement is not None else False


def rebuild_periods_of_nation(sender=None, *, nation, **kwargs) -> int:
    """After the dates a nation existed changed: the periods of every agreement it is a
    party to. Returns how many changed."""
    ids = (
        Agreement.objects.filter(parties__nation=nation)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    return sum(rebuild_periods_locked(pk) for pk in ids)


def periods_of(agreement: Agreement, parties) -> list[PartyPeriod]:
    """The status periods of ``agreement``'s parties as their acts say: ``parties`` are
    ``(party, its acts)`` pairs of saved parties (their nations loaded), in memory."""
    parties = list(parties)
    binds = party_acts.signature_binds([acts for _, acts in parties], len(parties))
    wanted = []
    for party, acts in parties:
        periods = party_acts.party_periods(
            acts,
            agreement_in_force_on=agreement.entered_into_force_on,
            signature_binds=binds,
        )
        nation = party.nation if party.nation_id else None
        first, last = (nation.valid_from, nation.valid_to) if nation else (None, None)
        for period in party_acts.within(periods, first, last):
            wanted.append(
                PartyPeriod(
                    agreement=agreement,
                    party=party,
                    status=period.status,
                    starts_on=period.starts_on,
                    ends_on=period.ends_on,
                )
            )
    return wanted


def rebuild_periods(agreement: Agreement, parties=None) -> bool:
    """Store every party's status periods as its acts now say (derived data: no history).
    True when they changed. ``parties``: the ``(party, acts)`` pairs when the caller holds
    them all (read from the database otherwise)."""
    if parties is None:
        rows = agreement.parties.select_related("nation").prefetch_related("acts")
        parties = [(party, list(party.acts.all())) for party in rows]
    wanted = periods_of(agreement, parties)
    key = [(p.party_id, p.status, p.starts_on, p.ends_on) for p in wanted]
    stored = list(
        PartyPeriod.objects.filter(agreement=agreement)
        .order_by("party_id", "starts_on")
        .values_list("party_id", "status", "starts_on", "ends_on")
    )
    if sorted(stored) == sorted(key):
        return False
    PartyPeriod.objects.filter(agreement=agreement).delete()
    PartyPeriod.objects.bulk_create(wanted)
    return True
