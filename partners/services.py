"""The one write path of the partners aggregates: a nation, an organization with its
memberships, and a point of contact change only through these functions.

The admin, the reference-data loader and any other writer hand them values; they validate
(``full_clean``, each error keyed by field, ``memberships[1].left_on`` for a nested row),
write, and record what changed themselves, in one insert per write (``history.recorder``).
Partner records carry no classification, so their change records are unclassified. A
membership's record names its organization as the object it belongs to, and a point of
contact's the nation it represents, so both show in that partner's history. With
``validate_only`` a save stops after the checks (raising what they find) and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError, RestrictedError

from accounts.choices import Classification
from history.recorder import Recorder, snapshot

from .models import Membership, Nation, Organization, PointOfContact, Posting
from .signals import nation_existence_changed


def _editable(model) -> tuple[str, ...]:
    return tuple(f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key)


# What a writer may set (and what history records). Derived from the models, so a new field
# is writable and recorded without being listed again here.
NATION_FIELDS = _editable(Nation)
ORGANIZATION_FIELDS = _editable(Organization)
MEMBERSHIP_FIELDS = ("nation", "joined_on", "left_on")  # the organization is the aggregate
MEMBERSHIP_HISTORY = ("organization", *MEMBERSHIP_FIELDS)
POINT_OF_CONTACT_FIELDS = _editable(PointOfContact)
# The contact's change record also shows its summary of the postings (not writable).
POINT_OF_CONTACT_HISTORY = (*POINT_OF_CONTACT_FIELDS, "posted_to")
POSTING_FIELDS = ("nation", "organization", "title", "active_from", "active_to")
POSTING_HISTORY = ("contact", *POSTING_FIELDS)

# The most memberships one write may carry, and the most successors of one nation.
MAX_MEMBERSHIPS = 1000
MAX_SUCCESSORS = 100
MAX_POSTINGS = 100

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


# Helpers -----------------------------------------------------------------------------------


def _key(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return prefix if name == NON_FIELD_ERRORS else f"{prefix}.{name}"


def _errors_of(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {_key(prefix, key): list(messages) for key, messages in exc.message_dict.items()}
    return {prefix or NON_FIELD_ERRORS: list(exc.messages)}


def _merge(errors: dict, more: dict) -> None:
    for key, messages in more.items():
        errors.setdefault(key, []).extend(messages)


def _resolve(field, value) -> tuple[Any, str | None]:
    """The record a link field is set to: a record of the right model, or (for a nation) its
    ISO alpha-3 code. Returns the record and an error."""
    model = field.related_model
    if value is None or isinstance(value, model):
        return value, None
    if model is Nation and isinstance(value, str):
        nation = Nation.objects.filter(iso3=value.strip().upper()).first()
        return nation, None if nation else f"No nation has the code {value!r}."
    if model is Organization and isinstance(value, str):
        organization = Organization.objects.filter(acronym__iexact=value.strip()).first()
        return organization, None if organization else f"No organization is called {value!r}."
    return None, f"Expected a {model._meta.verbose_name}, got {value!r}."


def _apply(obj: Model, fields: Mapping[str, Any], allowed: Iterable[str], prefix="") -> dict:
    """Set ``fields`` on ``obj`` in memory, as Python values (``"2020-01-31"`` a date, a code
    its nation); returns the errors (unknown fields, bad values, bad links)."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        return {_key(prefix, name): ["Unknown field."] for name in unknown}
    errors = {}
    for name, value in fields.items():
        field = obj._meta.get_field(name)
        if field.many_to_one:
            value, error = _resolve(field, value)
            if error:
                errors[_key(prefix, name)] = [error]
                continue
        else:
            try:
                value = field.to_python(value)
            except ValidationError as exc:
                errors[_key(prefix, name)] = list(exc.messages)
                continue
        setattr(obj, name, value)
    return errors


def _unchanged(obj: Model, before: dict | None, fields) -> bool:
    """Whether an existing record is as it was: then nothing is checked, written or recorded
    (which keeps a loader's second run cheap)."""
    return before is not None and snapshot(obj, fields) == before


def _clean(obj: Model, prefix: str = "", **options) -> dict:
    try:
        obj.full_clean(**options)
    except ValidationError as exc:
        return _errors_of(exc, prefix)
    return {}


def _recorder(actor, source: str) -> Recorder:
    return Recorder(actor=actor, source=source, floor=Classification.UNCLASSIFIED)


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def _write(obj, before: dict | None, fields, recorder: Recorder, *, related=None) -> str:
    """Save ``obj`` if it is new (``before`` is None) or changed, and record it."""
    after = snapshot(obj, fields)
    if before is None:
        obj.save()
        recorder.created(obj, after, related=related)
        return CREATED
    if after == before:
        return UNCHANGED
    obj.save()
    recorder.updated(obj, before, after, related=related)
    return UPDATED


def _delete(obj, recorder: Recorder, fields, *, related=None, extra=None) -> None:
    """Delete ``obj`` and record it (the caller saves the recorder), with ``extra`` values
    beside its fields; refused (a ValidationError) while other records still need it. What
    needs it is named by kind only: it may be above the writer's clearance."""
    recorder.deleted(obj, snapshot(obj, fields) | (extra or {}), related=related)
    try:
        with transaction.atomic():
            obj.delete()
    except (ProtectedError, RestrictedError) as exc:
        found = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        kinds = sorted({str(o._meta.verbose_name_plural) for o in found})
        raise ValidationError(
            f"{obj} cannot be deleted: {', '.join(kinds)} still refer to it."
        ) from None


def _save_record(
    model,
    obj,
    fields: Mapping[str, Any],
    *,
    allowed: tuple[str, ...],
    actor,
    source: str,
    validate_only: bool,
    related=None,
) -> tuple[Any, str]:
    """Create (``obj`` None or unsaved) or change one record. ``related(record)`` names the
    record it belongs to in history. Returns the record and what happened to it."""
    creating = obj is None or obj.pk is None
    current = model() if creating else _locked(model, obj.pk)
    before = None if creating else snapshot(current, allowed)
    errors = _apply(current, fields, allowed)
    if not errors and not _unchanged(current, before, allowed):
        errors = _clean(current)
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None, UNCHANGED
    recorder = _recorder(actor, source)
    outcome = _write(current, before, allowed, recorder, related=related and related(current))
    recorder.save()
    return current, outcome


# Nations ----------------------------------------------------------------------------------


def _successor_codes(nation: Nation) -> list[str]:
    return sorted(nation.successors.values_list("iso3", flat=True)) if nation.pk else []


def _plan_successors(nation: Nation, successors, errors: dict) -> list[Nation] | None:
    """The nations ``successors`` names (nations or ISO alpha-3 codes), checked: each known,
    none the nation itself. One query for any number of codes."""
    if isinstance(successors, str | bytes | Mapping) or not isinstance(successors, Iterable):
        errors["successors"] = ["Expected a list of nations or ISO alpha-3 codes."]
        return None
    given = list(successors)
    if len(given) > MAX_SUCCESSORS:
        errors["successors"] = [f"At most {MAX_SUCCESSORS} successors in one write."]
        return None
    codes = {value.strip().upper() for value in given if isinstance(value, str)}
    found = {n.iso3: n for n in Nation.objects.filter(iso3__in=codes)} if codes else {}
    wanted, problems = {}, []
    for index, value in enumerate(given):
        if isinstance(value, Nation) and value.pk:
            wanted[value.iso3] = value
        elif isinstance(value, str) and value.strip().upper() in found:
            wanted[value.strip().upper()] = found[value.strip().upper()]
        elif isinstance(value, str):
            problems.append(f"successors[{index}]: No nation has the code {value!r}.")
        else:
            problems.append(f"successors[{index}]: Expected a nation or its ISO alpha-3 code.")
    if nation.iso3 and nation.iso3 in wanted:
        problems.append("A state cannot be its own successor.")
    if problems:
        errors["successors"] = problems
        return None
    return list(wanted.values())


def _nation_save(
    *, nation=None, actor=None, source="", validate_only=False, successors=None, **fields
):
    """Create or change a nation; ``successors`` (when given) replace its successor states,
    recorded in the nation's own change record as sorted lists of codes."""
    creating = nation is None or nation.pk is None
    current = Nation() if creating else _locked(Nation, nation.pk)
    before = None if creating else snapshot(current, NATION_FIELDS)
    errors = _apply(current, fields, NATION_FIELDS)
    if not errors and not _unchanged(current, before, NATION_FIELDS):
        errors = _clean(current)
    wanted = None if successors is None else _plan_successors(current, successors, errors)
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None, UNCHANGED

    after = snapshot(current, NATION_FIELDS)
    links_before = _successor_codes(current)
    links_after = links_before if wanted is None else sorted(n.iso3 for n in wanted)
    if before is not None and after == before and links_after == links_before:
        return current, UNCHANGED
    if before is None or after != before:
        current.save()
    if before is not None and any(
        before.get(name) != after.get(name) for name in ("valid_from", "valid_to")
    ):
        nation_existence_changed.send(sender=Nation, nation=current)
    if links_after != links_before:
        current.successors.set(wanted)
    recorder = _recorder(actor, source)
    if before is None:
        recorder.created(current, after | {"successors": links_after})
        outcome = CREATED
    else:
        recorder.updated(
            current, before | {"successors": links_before}, after | {"successors": links_after}
        )
        outcome = UPDATED
    recorder.save()
    return current, outcome


@transaction.atomic
def nation_save(
    *,
    nation: Nation | None = None,
    actor=None,
    source: str = "",
    validate_only: bool = False,
    successors: Iterable | None = None,
    **fields,
) -> Nation | None:
    """Create (``nation=None``) or change a nation. ``successors``, when given, replace its
    successor states: nations or their ISO alpha-3 codes (``None`` leaves them as they are)."""
    return _nation_save(
        nation=nation,
        actor=actor,
        source=source,
        validate_only=validate_only,
        successors=successors,
        **fields,
    )[0]


@transaction.atomic
def nation_delete(*, nation: Nation, actor=None, source: str = "") -> None:
    """Delete a nation; refused while a membership, a contact or an agreement names it, or
    while it is the successor of another state (whose record would change unrecorded). Its
    own successor links go with it, named in its deletion record."""
    nation = _locked(Nation, nation.pk)
    predecessors = sorted(nation.predecessors.values_list("iso3", flat=True))
    if predecessors:
        raise ValidationError(
            f"{nation} cannot be deleted: it is the successor of {', '.join(predecessors)}."
        )
    recorder = _recorder(actor, source)
    _delete(nation, recorder, NATION_FIELDS, extra={"successors": _successor_codes(nation)})
    recorder.save()


@transaction.atomic
def nation_upsert(
    *, iso3: str, actor=None, source: str = "", successors: Iterable | None = None, **values
) -> tuple[Nation, str]:
    """Create or bring up to date the nation with this ISO alpha-3 code (its fields, such as
    ``valid_from`` and ``valid_to``, and, when given, its ``successors``); returns it with
    "created", "updated" or "unchanged" (which writes and records nothing)."""
    iso3 = iso3.upper()
    nation = Nation.objects.filter(iso3=iso3).first()
    return _nation_save(
        nation=nation, actor=actor, source=source, iso3=iso3, successors=successors, **values
    )


# Organizations and their memberships ---------------------------------------------------------


def _plan_memberships(organization: Organization, rows, errors: dict) -> list:
    """Check the memberships an organization is to have: [(membership id or None, row)]."""
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        errors["memberships"] = ["Expected a list."]
        return []
    rows = list(rows)
    if len(rows) > MAX_MEMBERSHIPS:
        errors["memberships"] = [f"At most {MAX_MEMBERSHIPS} memberships in one write."]
        return []
    existing = (
        set(organization.memberships.values_list("pk", flat=True)) if organization.pk else set()
    )
    plan, seen = [], set()
    for index, data in enumerate(rows):
        prefix = f"memberships[{index}]"
        if not isinstance(data, Mapping):
            errors[prefix] = ["Expected an object with a nation."]
            continue
        data = dict(data)
        membership_id = data.pop("id", None)
        if membership_id is not None and membership_id not in existing:
            errors[prefix] = [f"No membership {membership_id} in this organization."]
            continue
        if membership_id is not None and membership_id in seen:
            errors[prefix] = [f"Membership {membership_id} is given twice."]
            continue
        seen.add(membership_id)
        row = Membership()
        row_errors = _apply(row, data, MEMBERSHIP_FIELDS, prefix)
        if not row_errors:
            row_errors = _clean(row, prefix, exclude=["organization"], validate_unique=False)
        _merge(errors, row_errors)
        plan.append((membership_id, row))
    twice = Counter((row.nation_id, row.joined_on) for _, row in plan if row.nation_id)
    repeated = sorted(
        {
            row.nation.code
            for _, row in plan
            if row.nation_id and twice[row.nation_id, row.joined_on] > 1
        }
    )
    if repeated:
        errors.setdefault("memberships", []).append(
            f"A member appears more than once with the same joining date: {', '.join(repeated)}."
        )
    return plan


def _replace_memberships(organization: Organization, plan: list, recorder: Recorder) -> None:
    existing = {m.pk: m for m in organization.memberships.select_related("nation")}
    claimed = {membership_id for membership_id, _ in plan if membership_id}
    pairs = []
    for membership_id, row in plan:
        current = existing.get(membership_id) if membership_id else None
        if current is None and not membership_id:  # the same member and date: that row
            current = next(
                (
                    m
                    for m in existing.values()
                    if m.pk not in claimed
                    and (m.nation_id, m.joined_on) == (row.nation_id, row.joined_on)
                ),
                None,
            )
            if current is not None:
                claimed.add(current.pk)
        pairs.append((current, row))
    # Removals first, so a member removed and added again never meets its old row.
    for pk, leftover in existing.items():
        if pk not in claimed:
            _delete(leftover, recorder, MEMBERSHIP_HISTORY, related=organization)
    for current, row in sorted(pairs, key=lambda pair: pair[0] is None):
        if current is None:
            row.organization = organization
            _write(row, None, MEMBERSHIP_HISTORY, recorder, related=organization)
            continue
        before = snapshot(current, MEMBERSHIP_HISTORY)
        for name in MEMBERSHIP_FIELDS:
            setattr(current, name, getattr(row, name))
        _write(current, before, MEMBERSHIP_HISTORY, recorder, related=organization)


def _organization_save(
    *, organization=None, actor=None, source="", memberships=None, validate_only=False, **fields
):
    creating = organization is None or organization.pk is None
    current = Organization() if creating else _locked(Organization, organization.pk)
    before = None if creating else snapshot(current, ORGANIZATION_FIELDS)
    errors = _apply(current, fields, ORGANIZATION_FIELDS)
    if not errors and not _unchanged(current, before, ORGANIZATION_FIELDS):
        errors = _clean(current)
    plan = None
    if memberships is not None:
        plan = _plan_memberships(current, memberships, errors)
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None, UNCHANGED
    recorder = _recorder(actor, source)
    outcome = _write(current, before, ORGANIZATION_FIELDS, recorder)
    if plan is not None:
        _replace_memberships(current, plan, recorder)
    recorder.save()
    return current, outcome


@transaction.atomic
def organization_save(
    *,
    organization: Organization | None = None,
    actor=None,
    source: str = "",
    memberships: Iterable[Mapping] | None = None,
    validate_only: bool = False,
    **fields,
) -> Organization | None:
    """Create (``organization=None``) or change an organization, all or nothing.
    ``memberships``, when given, replace its memberships: each a mapping of ``nation`` (a
    nation or its ISO alpha-3 code), ``joined_on`` and ``left_on``, with the ``id`` of the
    membership it changes (without one, a current membership of the same nation and joining
    date is the one changed; the others are added)."""
    return _organization_save(
        organization=organization,
        actor=actor,
        source=source,
        memberships=memberships,
        validate_only=validate_only,
        **fields,
    )[0]


@transaction.atomic
def organization_delete(*, organization: Organization, actor=None, source: str = "") -> None:
    """Delete an organization with its memberships (each recorded); refused while an
    agreement names it as a party."""
    organization = _locked(Organization, organization.pk)
    recorder = _recorder(actor, source)
    for membership in organization.memberships.select_related("nation"):
        recorder.deleted(membership, snapshot(membership, MEMBERSHIP_HISTORY), related=organization)
    _delete(organization, recorder, ORGANIZATION_FIELDS)
    recorder.save()


@transaction.atomic
def organization_upsert(
    *, acronym: str, actor=None, source: str = "", **values
) -> tuple[Organization, str]:
    """Create or bring up to date the organization with this acronym (its memberships are
    left alone); returns it with "created", "updated" or "unchanged"."""
    organization = Organization.objects.filter(acronym=acronym).first()
    return _organization_save(
        organization=organization, actor=actor, source=source, acronym=acronym, **values
    )


# One membership at a time ----------------------------------------------------------------------


def _membership_save(
    *, membership=None, organization=None, actor=None, source="", validate_only=False, **fields
):
    if membership is None or membership.pk is None:
        if not isinstance(organization, Organization) or organization.pk is None:
            raise ValidationError({"organization": ["Give the organization of the membership."]})
        current, before = Membership(organization=organization), None
    else:
        current = _locked(Membership, membership.pk)
        if (
            organization is not None
            and getattr(organization, "pk", None) != current.organization_id
        ):
            raise ValidationError(
                {"organization": ["A membership cannot move to another organization."]}
            )
        before = snapshot(current, MEMBERSHIP_HISTORY)
    errors = _apply(current, fields, MEMBERSHIP_FIELDS)
    if not errors and not _unchanged(current, before, MEMBERSHIP_HISTORY):
        errors = _clean(current)
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None, UNCHANGED
    recorder = _recorder(actor, source)
    outcome = _write(current, before, MEMBERSHIP_HISTORY, recorder, related=current.organization)
    recorder.save()
    return current, outcome


@transaction.atomic
def membership_save(
    *,
    membership: Membership | None = None,
    organization: Organization | None = None,
    actor=None,
    source: str = "",
    validate_only: bool = False,
    **fields,
) -> Membership | None:
    """Add a membership to ``organization`` (``membership=None``) or change one (``nation``,
    ``joined_on``, ``left_on``). Recorded as belonging to the organization."""
    return _membership_save(
        membership=membership,
        organization=organization,
        actor=actor,
        source=source,
        validate_only=validate_only,
        **fields,
    )[0]


@transaction.atomic
def membership_delete(*, membership: Membership, actor=None, source: str = "") -> None:
    membership = _locked(Membership, membership.pk)
    recorder = _recorder(actor, source)
    _delete(membership, recorder, MEMBERSHIP_HISTORY, related=membership.organization)
    recorder.save()


@transaction.atomic
def membership_upsert(
    *,
    organization: Organization,
    nation: Nation,
    joined_on=None,
    left_on=None,
    actor=None,
    source: str = "",
) -> tuple[Membership, str]:
    """Create or bring up to date the membership of ``nation`` in ``organization`` that began
    on ``joined_on``; returns it with "created", "updated" or "unchanged"."""
    membership = Membership.objects.filter(
        organization=organization, nation=nation, joined_on=joined_on
    ).first()
    return _membership_save(
        membership=membership,
        organization=organization,
        actor=actor,
        source=source,
        nation=nation,
        joined_on=joined_on,
        left_on=left_on,
    )


# Points of contact and their postings -------------------------------------------------------


def _posting_place(data: dict, prefix: str, errors: dict) -> None:
    """A row's ``code`` (an ISO alpha-3 code or an organization's acronym, as agreement
    parties are named) becomes its ``nation`` or ``organization``."""
    if "code" not in data:
        return
    code = data.pop("code")
    if data.get("nation") is not None or data.get("organization") is not None:
        errors[f"{prefix}.code"] = ["Give a code, or a nation or an organization, not both."]
        return
    partner = None
    if isinstance(code, str) and code.strip():
        code = code.strip()
        if len(code) == 3 and code.isalpha():
            partner = Nation.objects.filter(iso3=code.upper()).first()
        partner = partner or Organization.objects.filter(acronym__iexact=code).first()
    if partner is None:
        errors[f"{prefix}.code"] = [f"No nation or organization has the code {code!r}."]
    elif isinstance(partner, Nation):
        data["nation"] = partner
    else:
        data["organization"] = partner


def _plan_postings(contact: PointOfContact, rows, errors: dict) -> list:
    """Check the postings a contact is to have: [(posting id or None, unsaved row)]. Each
    row within the contact's service span (``active_from`` to ``active_to``), no place twice
    from the same day."""
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        errors["postings"] = ["Expected a list."]
        return []
    rows = list(rows)
    if len(rows) > MAX_POSTINGS:
        errors["postings"] = [f"At most {MAX_POSTINGS} postings in one write."]
        return []
    existing = set(contact.postings.values_list("pk", flat=True)) if contact.pk else set()
    plan, seen, indexes = [], set(), []
    for index, data in enumerate(rows):
        prefix = f"postings[{index}]"
        if not isinstance(data, Mapping):
            errors[prefix] = ["Expected an object with a code, active_from and active_to."]
            continue
        data = dict(data)
        posting_id = data.pop("id", None)
        if posting_id is not None and posting_id not in existing:
            errors[f"{prefix}.id"] = [f"No posting {posting_id} of this contact."]
            continue
        if posting_id is not None and posting_id in seen:
            errors[f"{prefix}.id"] = [f"Posting {posting_id} is given twice."]
            continue
        seen.add(posting_id)
        row_errors: dict = {}
        _posting_place(data, prefix, row_errors)
        row = Posting()
        if not row_errors:
            row_errors = _apply(row, data, POSTING_FIELDS, prefix)
        if not row_errors:
            row_errors = _clean(row, prefix, exclude=["contact"], validate_unique=False)
        if not row_errors:
            row_errors = _span_errors(contact, row, prefix)
        _merge(errors, row_errors)
        plan.append((posting_id, row))
        indexes.append(index)
    _swapped_postings(contact, plan, indexes, errors)
    places = Counter((row.code, row.active_from) for _, row in plan if row.partner)
    repeated = sorted({code for (code, _), n in places.items() if n > 1})
    if repeated:
        errors.setdefault("postings", []).append(
            f"A place appears more than once with the same first day: {', '.join(repeated)}."
        )
    return plan


def _place_and_day(posting: Posting) -> tuple:
    """What a contact's posting is unique by (``posting_*_once_a_day``)."""
    return (posting.nation_id, posting.organization_id, posting.active_from)


def _blockers(current: dict, plan: list) -> dict:
    """{posting id: the id of the posting that has the place and first day it moves to, and
    moves elsewhere in the same write}: the one to write first. ``current``: {id: place and
    day} of the contact's postings now."""
    holders = {key: pk for pk, key in current.items()}
    moving = {pk for pk, row in plan if pk and _place_and_day(row) != current.get(pk)}
    out = {}
    for posting_id, row in plan:
        other = holders.get(_place_and_day(row))
        if posting_id and other and other != posting_id and other in moving:
            out[posting_id] = other
    return out


def _swapped_postings(contact, plan: list, indexes: list, errors: dict) -> None:
    """Postings that take each other's place and first day in one write (a cycle of
    ``_blockers``) cannot be written one after the other: refused, with the way round it."""
    if not contact.pk:
        return
    blockers = _blockers({p.pk: _place_and_day(p) for p in contact.postings.all()}, plan)
    for index, (posting_id, _row) in zip(indexes, plan, strict=True):
        seen, other = set(), blockers.get(posting_id)
        while other is not None and other not in seen and other != posting_id:
            seen.add(other)
            other = blockers.get(other)
        if other is not None and other == posting_id:
            errors.setdefault(f"postings[{index}]", []).append(
                "It takes the place and first day of a posting that takes its own in the same "
                "write: change one of them first, in another write."
            )


def _span_errors(contact: PointOfContact, row: Posting, prefix: str) -> dict:
    errors = {}
    if contact.active_from and row.active_from and row.active_from < contact.active_from:
        errors[f"{prefix}.active_from"] = [
            f"Must be on or after the contact's first day ({contact.active_from.isoformat()})."
        ]
    if contact.active_to:
        if row.active_to is None:
            errors[f"{prefix}.active_to"] = [
                f"The contact serves until {contact.active_to.isoformat()}: give the last day."
            ]
        elif row.active_to > contact.active_to:
            errors[f"{prefix}.active_to"] = [
                f"Must be on or before the contact's last day ({contact.active_to.isoformat()})."
            ]
    return errors


def _latest_nation(postings) -> Nation | None:
    """The ``posted_to`` summary: the nation of the latest posting (by first day, then the
    later row); None when that posting is to an organization or there is none."""
    latest = max(postings, key=lambda p: (p.active_from, p.pk or 0), default=None)
    return latest.nation if latest is not None else None


def _replace_postings(contact: PointOfContact, plan: list, recorder: Recorder) -> list:
    existing = {p.pk: p for p in contact.postings.select_related("nation", "organization")}
    claimed = {posting_id for posting_id, _ in plan if posting_id}
    pairs = []
    for posting_id, row in plan:
        current = existing.get(posting_id) if posting_id else None
        if current is None and not posting_id:  # the same place and first day: that row
            current = next(
                (
                    p
                    for p in existing.values()
                    if p.pk not in claimed
                    and (p.code, p.active_from) == (row.code, row.active_from)
                ),
                None,
            )
            if current is not None:
                claimed.add(current.pk)
        pairs.append((current, row))
    for pk, leftover in existing.items():
        if pk not in claimed:
            recorder.deleted(leftover, snapshot(leftover, POSTING_HISTORY), related=contact)
            leftover.delete()
    # Changed ones before added ones, and one whose place and day another leaves after that
    # other (no swaps: ``_swapped_postings``).
    blockers = _blockers({pk: _place_and_day(p) for pk, p in existing.items()}, plan)

    def depth(pk) -> int:
        return 1 + depth(blockers[pk]) if pk in blockers else 0

    kept = []
    order = sorted(pairs, key=lambda pair: (pair[0] is None, depth(pair[0].pk) if pair[0] else 0))
    for current, row in order:
        if current is None:
            row.contact = contact
            _write(row, None, POSTING_HISTORY, recorder, related=contact)
            kept.append(row)
            continue
        before = snapshot(current, POSTING_HISTORY)
        for name in POSTING_FIELDS:
            setattr(current, name, getattr(row, name))
        _write(current, before, POSTING_HISTORY, recorder, related=contact)
        kept.append(current)
    return kept


def _point_of_contact_save(
    *, point_of_contact=None, actor=None, source="", postings=None, validate_only=False, **fields
):
    creating = point_of_contact is None or point_of_contact.pk is None
    current = PointOfContact() if creating else _locked(PointOfContact, point_of_contact.pk)
    before = None if creating else snapshot(current, POINT_OF_CONTACT_HISTORY)
    if "posted_to" in fields:
        fields.pop("posted_to")
        raise ValidationError(
            {"posted_to": ["It follows the postings: give postings=[{code, active_from, ...}]."]}
        )
    errors = _apply(current, fields, POINT_OF_CONTACT_FIELDS)
    if not errors and not _unchanged(current, before, POINT_OF_CONTACT_HISTORY):
        errors = _clean(current)
    if postings is not None:
        plan = _plan_postings(current, postings, errors)
    elif not errors and not creating and ("active_from" in fields or "active_to" in fields):
        # The span moved: the postings kept must still lie within it.
        plan = None
        for row in current.postings.select_related("nation", "organization"):
            for key, messages in _span_errors(current, row, "posting").items():
                field = key.split(".", 1)[1]
                where = f"The posting to {row.code} from {row.active_from.isoformat()}"
                errors.setdefault(field, []).append(f"{where} is outside the span: {messages[0]}")
    else:
        plan = None
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None, UNCHANGED
    recorder = _recorder(actor, source)
    related = current.represents
    if plan is None:
        outcome = _write(current, before, POINT_OF_CONTACT_HISTORY, recorder, related=related)
        recorder.save()
        return current, outcome
    if creating:
        current.save()  # the postings need its id; the summary follows them
    kept = _replace_postings(current, plan, recorder)
    current.posted_to = _latest_nation(kept)
    if creating:
        recorder.created(current, snapshot(current, POINT_OF_CONTACT_HISTORY), related=related)
        current.save(update_fields=["posted_to"])
        outcome = CREATED
    else:
        outcome = _write(current, before, POINT_OF_CONTACT_HISTORY, recorder, related=related)
    recorder.save()
    return current, outcome


@transaction.atomic
def point_of_contact_save(
    *,
    point_of_contact: PointOfContact | None = None,
    actor=None,
    source: str = "",
    postings: Iterable[Mapping] | None = None,
    validate_only: bool = False,
    **fields,
) -> PointOfContact | None:
    """Create (``point_of_contact=None``) or change a point of contact, all or nothing
    (``represents`` is a nation or its ISO alpha-3 code). ``postings``, when given, replace
    its postings: each a mapping of ``code`` (an ISO alpha-3 code or an acronym; or
    ``nation`` / ``organization`` as records or codes), ``active_from``, ``active_to`` and
    ``title``, with the ``id`` of the posting it changes (without one, a posting to the same
    place from the same day is the one changed; the others are added). Each posting lies
    within the contact's ``active_from`` to ``active_to``; errors name the row
    (``postings[1].active_to``). ``posted_to`` follows the postings (``_latest_nation``).
    Recorded as belonging to the nation it represents; each posting as belonging to it."""
    return _point_of_contact_save(
        point_of_contact=point_of_contact,
        actor=actor,
        source=source,
        postings=postings,
        validate_only=validate_only,
        **fields,
    )[0]


@transaction.atomic
def point_of_contact_delete(
    *, point_of_contact: PointOfContact, actor=None, source: str = ""
) -> None:
    """Delete a contact with its postings (each recorded). Its links to agreements go with
    it (the agreements' own records do not change: the contact is not part of them)."""
    contact = _locked(PointOfContact, point_of_contact.pk)
    recorder = _recorder(actor, source)
    for posting in contact.postings.select_related("nation", "organization"):
        recorder.deleted(posting, snapshot(posting, POSTING_HISTORY), related=contact)
    _delete(contact, recorder, POINT_OF_CONTACT_HISTORY, related=contact.represents)
    recorder.save()
