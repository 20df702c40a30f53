"""Checking a write before anything is written: the raw rows of an agreement write turned
into unsaved records, every rule checked, every error keyed by field."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from accounts.choices import Classification
from config.api import MAX_ID
from history.recorder import label
from partners.models import PointOfContact
from partners.selectors import partners_by_codes

from .. import party_acts
from ..choices import AgreementStatus
from ..limits import MAX_ACTS_PER_WRITE
from ..models import Agreement, AgreementEvent, AgreementParty, Provision
from ..selectors import not_readers_message, readers_among
from .acts import act_errors, acts_from_shorthand, build_acts, shorthand_errors
from .common import (
    AGREEMENT_FIELDS,
    EVENT_FIELDS,
    LINKS,
    PARTY_FIELDS,
    PROVISION_FIELDS,
    _errors_of,
    _merge,
    check_clearance,
    coerce_fields,
    full_clean,
)


def party_set_errors(status: str, codes: Iterable[str]) -> list[str]:
    """The rules on an agreement's parties as a whole: no party twice; two once signed."""
    counts = Counter(c for c in codes if c)
    errors = []
    duplicates = sorted(code for code, count in counts.items() if count > 1)
    if duplicates:
        errors.append(f"A party appears more than once: {', '.join(duplicates)}.")
    if status not in AgreementStatus.pre_signature() and len(counts) < 2:
        label = AgreementStatus(status).label.lower()  # "in force", "signed"...
        errors.append(f"An agreement that is {label} needs at least two parties.")
    return errors


def generate_reference(agreement: Agreement, reserved: Iterable[str] = ()) -> str:
    """The next free reference of the agreement's type and year (``DCA-2014-0003``);
    ``reserved``: references already given out but not saved yet (an import's batch)."""
    year = (agreement.signed_on or datetime.date.today()).year
    prefix = f"{(agreement.type or 'agr').upper().replace('_', '-')}-{year}-"
    taken = Agreement.objects.filter(reference__startswith=prefix).values_list(
        "reference", flat=True
    )
    taken = [*taken, *(r for r in reserved if r.startswith(prefix))]
    numbers = [int(r[len(prefix) :]) for r in taken if r[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def resolve_links(data: dict, user) -> dict:
    """Turn the links of raw agreement data into records, in place: ``supersedes`` and
    ``parent`` (an id or a reference, among the agreements ``user`` may see), ``owner`` (a
    username) and ``watchers`` (usernames); ``contacts`` (ids of points of contact) become
    ``agreement_save``'s ``contact_ids``. The API and the import both call this."""
    errors: dict[str, list[str]] = {}
    visible = None
    for name in LINKS:
        if name not in data:
            continue
        value = data[name]
        if value in (None, ""):
            data[name] = None
            continue
        if isinstance(value, Agreement):
            continue
        if visible is None:
            visible = Agreement.objects.visible_to(user) if user is not None else Agreement.objects
        if isinstance(value, int) and not isinstance(value, bool):
            target = visible.filter(pk=value).first()
            what = f"the id {value}"
        elif isinstance(value, str):
            target = visible.filter(reference=value).first()
            what = f"the reference {value!r}"
        else:
            errors[name] = ["Give an agreement's id or reference."]
            continue
        if target is None:
            errors[name] = [f"No agreement has {what}."]
        data[name] = target
    users = get_user_model().objects
    owner = data.get("owner")
    if isinstance(owner, str) and owner:
        data["owner"] = users.filter(username=owner).first()
        if data["owner"] is None:
            errors["owner"] = [f"No user is called {owner!r}."]
    elif owner == "":
        data["owner"] = None
    if "watchers" in data:
        names = data["watchers"] or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            errors["watchers"] = ["Give a list of usernames."]
        else:
            found = list(users.filter(username__in=set(names)))
            missing = sorted(set(names) - {u.username for u in found})
            if missing:
                errors["watchers"] = [f"No user is called: {', '.join(missing)}."]
            data["watchers"] = found
    if "contacts" in data:
        data["contact_ids"] = data.pop("contacts")
    if errors:
        raise ValidationError(errors)
    return data


# Building the plan of a write --------------------------------------------------------------


def _too_many(rows, limit: int, name: str, errors: dict) -> bool:
    if rows is not None and len(rows) > limit:
        errors.setdefault(name, []).append(f"At most {limit} {name} in one write.")
        return True
    return False


def _contacts_by_id(values: list, errors: dict) -> list | None:
    """The points of contact named by ``values`` (contacts or their ids), each once; one
    query. Contacts carry no classification, so any existing one may be named."""
    ids = []
    for value in values:
        pk = value.pk if isinstance(value, PointOfContact) else value
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk <= MAX_ID:
            errors.setdefault("contact_ids", []).append(
                f"Expected ids of points of contact, got {value!r}."
            )
            return None
        ids.append(pk)
    found = {c.pk: c for c in PointOfContact.objects.filter(pk__in=set(ids))}
    missing = sorted(set(ids) - set(found))
    if missing:
        errors.setdefault("contact_ids", []).append(
            f"No point of contact has the id(s): {', '.join(map(str, missing))}."
        )
        return None
    return [found[pk] for pk in dict.fromkeys(ids)]


def _as_list(rows, name: str, errors: dict) -> list | None:
    if rows is None:
        return None
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        errors.setdefault(name, []).append("Expected a list.")
        return None
    return list(rows)


def _build_parties(agreement: Agreement, parties: list, known=None) -> tuple[list, dict]:
    """The planned parties as ``(code, unsaved party, its acts)``. A party's ``acts``, when
    given, are all its acts; otherwise its shorthand dates change the acts it has (an
    ``AgreementParty`` row states all four dates). ``known``: partners already found by
    code (a dict the caller keeps across writes, filled here)."""
    built, errors = [], {}
    given_acts = sum(
        len(data["acts"])
        for data in parties
        if isinstance(data, Mapping) and isinstance(data.get("acts"), list | tuple)
    )
    if given_acts > MAX_ACTS_PER_WRITE:
        errors["parties"] = [
            f"At most {MAX_ACTS_PER_WRITE} acts in one write, all parties together "
            f"(got {given_acts})."
        ]
        return built, errors
    rows = []
    for index, data in enumerate(parties):
        prefix = f"parties[{index}]"
        if isinstance(data, AgreementParty):
            given = {name: getattr(data, name) for name in PARTY_FIELDS}
            rows.append((prefix, data.code, data, None, given, None))
            continue
        if isinstance(data, str):
            data = {"code": data}
        if not isinstance(data, Mapping):
            errors[prefix] = ["Expected an object with a code, or a code."]
            continue
        data = dict(data)
        code = data.pop("code", "")
        code = code.code if hasattr(code, "code") else str(code or "").strip()
        raw_acts = data.pop("acts", None)
        unknown = set(data) - set(PARTY_FIELDS)
        if unknown:
            errors[prefix] = [f"Unknown field(s): {', '.join(sorted(unknown))}."]
            continue
        acts = None
        if raw_acts is not None:
            acts = build_acts(raw_acts, prefix, errors)
            if acts is None:
                continue
        rows.append((prefix, code, None, data, None, acts))
    codes = [code for _, code, party, *_ in rows if party is None]
    known = {} if known is None else known
    missing = [code for code in codes if code not in known]
    if missing:
        known.update(partners_by_codes(missing))
    partners = {code: known[code] for code in codes if code in known}
    existing = {}
    if agreement.pk:
        existing = {
            p.code: list(p.acts.all())
            for p in agreement.parties.select_related("nation", "organization").prefetch_related(
                "acts"
            )
        }
    for prefix, code, party, data, given, acts in rows:
        if party is None:
            values, field_errors = coerce_fields(AgreementParty, data, prefix)
            _merge(errors, field_errors)
            partner = partners.get(code)
            if partner is None:
                errors.setdefault(f"{prefix}.code", []).append(
                    f"No nation or organization has the code {code!r}."
                )
                continue
            if field_errors:
                continue
            given = values
            party = AgreementParty(agreement=agreement)
            if partner._meta.model_name == "nation":
                party.nation = partner
            else:
                party.organization = partner
        from_shorthand = acts is None
        if from_shorthand:
            acts = acts_from_shorthand(existing.get(party.code, []), given)
        else:
            _merge(errors, shorthand_errors(acts, given, prefix))
        _merge(errors, act_errors(party, acts, prefix, from_shorthand=from_shorthand))
        for name, value in party_acts.shorthand_dates(acts).items():
            setattr(party, name, value)
        try:
            full_clean(party, exclude=["agreement"], validate_unique=False)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, prefix))
        built.append((party.code, party, acts))
    return built, errors


def _row(model, agreement, data, fields, prefix: str, errors: dict, **defaults):
    """One child row of a write, as (id, unsaved record), from a record or a dict with an
    optional ``id``; None (with the errors noted) when its shape or values are wrong."""
    if isinstance(data, model):
        return data.pk, data
    if not isinstance(data, Mapping):
        errors[prefix] = ["Expected an object."]
        return None
    data = dict(data)
    row_id = data.pop("id", None)
    unknown = set(data) - set(fields)
    if unknown:
        errors[prefix] = [f"Unknown field(s): {', '.join(sorted(unknown))}."]
        return None
    values, field_errors = coerce_fields(model, data, prefix)
    if field_errors:
        _merge(errors, field_errors)
        return None
    return row_id, model(agreement=agreement, **{**defaults, **values})


def _build_provisions(agreement: Agreement, provisions: list, actor) -> tuple[list, dict]:
    built, errors = [], {}
    for index, data in enumerate(provisions):
        prefix = f"provisions[{index}]"
        row = _row(
            Provision,
            agreement,
            data,
            PROVISION_FIELDS,
            prefix,
            errors,
            classification=agreement.classification,
        )
        if row is None:
            continue
        provision_id, provision = row
        try:
            # No unique field but the id (tests/test_write_queries.py holds this).
            full_clean(provision, exclude=["agreement"], validate_unique=False)
            check_clearance(actor, provision.classification)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, prefix))
        built.append((provision_id, provision))
    return built, errors


def _build_events(agreement: Agreement, events: list, actor) -> tuple[list, dict]:
    built, errors = [], {}
    for index, data in enumerate(events):
        prefix = f"events[{index}]"
        row = _row(AgreementEvent, agreement, data, EVENT_FIELDS, prefix, errors)
        if row is None:
            continue
        event_id, event = row
        if event.pk is None and event.created_by_id is None:
            event.created_by = actor
        try:
            full_clean(event, exclude=["agreement", "created_by"], validate_unique=False)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, prefix))
        built.append((event_id, event))
    return built, errors


def _people_errors(
    agreement: Agreement,
    before: dict,
    watchers,
    creating: bool,
    *,
    readers_among=readers_among,
    not_readers_message=not_readers_message,
) -> dict:
    """Whoever is named on an agreement (owner, watchers) must be able to read it. Checked
    when the owner or watchers are set or the classification changes; a person no longer
    active stays (they are sent nothing). Another aggregate with an owner and watchers (an
    engagement) passes its own ``readers_among`` and ``not_readers_message``."""
    errors = {}
    if not Classification.is_level(agreement.classification):
        return errors
    reclassified = not creating and before.get("classification") != agreement.classification
    checks = []
    if agreement.owner_id and (
        creating or reclassified or before.get("owner") != label(agreement.owner)
    ):
        checks.append(("owner", [agreement.owner]))
    if watchers is None and reclassified:
        watchers = list(agreement.watchers.all())
    if watchers:
        users = [w for w in watchers if hasattr(w, "is_active")]
        checks.append(("watchers", users))
    for name, people in checks:
        active = [person for person in people if person.is_active]
        readers = readers_among(active, agreement.classification)
        refused = [person for person in active if person not in readers]
        if refused:
            errors[name] = [not_readers_message(refused, agreement.classification)]
    return errors


def _apply_fields(agreement: Agreement, fields: Mapping[str, Any]) -> dict:
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        return {name: ["Unknown field."] for name in sorted(unknown)}
    values, errors = coerce_fields(Agreement, fields)
    for name, value in values.items():
        setattr(agreement, name, value)
    return errors


def _validate_agreement(
    agreement: Agreement, actor, errors: dict, pending=None, free_references=frozenset()
) -> None:
    """The agreement's own rules. ``pending``: references of agreements checked but not
    saved yet (an import's batch), which count as taken. ``free_references``: references the
    caller has just found free (the import read its file's at the start), not looked up
    again; any other reference is."""
    pending = pending or set()
    if not agreement.reference:
        agreement.reference = generate_reference(agreement, pending)
    try:
        full_clean(
            agreement,
            exclude=["watchers"],
            validate_unique=agreement.reference not in free_references,
        )
    except ValidationError as exc:
        _merge(errors, _errors_of(exc))
    if agreement.reference in pending and "reference" not in errors:
        taken = agreement.unique_error_message(Agreement, ("reference",))
        errors.setdefault("reference", []).extend(taken.messages)
    try:
        check_clearance(actor, agreement.classification)
    except ValidationError as exc:
        _merge(errors, _errors_of(exc))
