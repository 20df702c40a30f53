"""The one write path of the agreement aggregate: an agreement, its parties, provisions,
events, watchers and reviews change only through these functions.

The admin, the API, the import, the lifecycle and the commands hand them validated or raw
data; they check every rule (each error keyed by field, ``parties[1].withdrawn_on`` for a
nested row), write, bump the version once per write and record what changed, themselves,
in one insert (``history.recorder``). Nothing is written unless everything is valid.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.choices import Classification
from accounts.clearance import highest
from history.models import ChangeRecord
from history.recorder import Recorder, label, plain, raise_records, snapshot
from partners.selectors import partners_by_codes

from .choices import AgreementStatus, EventKind
from .dates import add_months
from .limits import MAX_EVENTS, MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS
from .models import Agreement, AgreementEvent, AgreementParty, Provision, Review
from .selectors import not_readers_message, readers_among

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



class StaleVersion(Exception):
    """The agreement changed since the caller read it (an ``If-Match`` that no longer holds)."""


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


def check_clearance(actor, classification: str, field: str = "classification") -> None:
    """An actor may not write a record above their own clearance."""
    if actor is None or classification not in Classification.values:
        return
    if not actor.is_cleared_for(classification):
        raise ValidationError(
            {field: f"You are not cleared to record {Classification(classification).label} items."}
        )


def party_set_errors(status: str, codes: Iterable[str]) -> list[str]:
    """The rules on an agreement's parties as a whole: no party twice; two once signed."""
    counts = Counter(c for c in codes if c)
    errors = []
    duplicates = sorted(code for code, count in counts.items() if count > 1)
    if duplicates:
        errors.append(f"A party appears more than once: {', '.join(duplicates)}.")
    if status not in AgreementStatus.pre_signature() and len(counts) < 2:
        errors.append(
            f"A {AgreementStatus(status).label.lower()} agreement needs at least two parties."
        )
    return errors


def generate_reference(agreement: Agreement) -> str:
    year = (agreement.signed_on or datetime.date.today()).year
    prefix = f"{(agreement.type or 'agr').upper().replace('_', '-')}-{year}-"
    taken = Agreement.objects.filter(reference__startswith=prefix).values_list(
        "reference", flat=True
    )
    numbers = [int(r[len(prefix) :]) for r in taken if r[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def resolve_links(data: dict, user) -> dict:
    """Turn the links of raw agreement data into records, in place: ``supersedes`` and
    ``parent`` (an id or a reference, among the agreements ``user`` may see), ``owner`` (a
    username) and ``watchers`` (usernames). The API and the import both call this."""
    errors: dict[str, list[str]] = {}
    visible = Agreement.objects.visible_to(user) if user is not None else Agreement.objects
    for name in LINKS:
        if name not in data:
            continue
        value = data[name]
        if value in (None, ""):
            data[name] = None
            continue
        if isinstance(value, Agreement):
            continue
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
    if errors:
        raise ValidationError(errors)
    return data


# Versions ---------------------------------------------------------------------------------


def version_seen_by(agreement: Agreement, actor) -> int:
    """The version ``actor`` sees (the system sees every change)."""
    return agreement.version if actor is None else agreement.version_for(actor)


def _finish(agreement: Agreement, recorder: Recorder, *, created: bool = False) -> None:
    """Close a write: bump the version for each clearance level that can see something of
    it, save the change records, and carry a raised classification into older records."""
    if not recorder.records:
        return
    now = timezone.now()
    lowest = min(recorder.levels, key=Classification.rank)
    revisions = {}
    for level in Classification.values:
        seen = 0 if created else agreement._revision(level)[0]
        if Classification.rank(level) >= Classification.rank(lowest):
            revisions[level] = [seen + 1, now.isoformat()]
        elif not created and (agreement.revisions or seen):
            revisions[level] = agreement._revision(level)
    agreement.revisions = revisions
    agreement.version = 1 if created else agreement.version + 1
    if created or Classification.rank(lowest) <= Classification.rank(agreement.classification):
        agreement.updated_at = now
    Agreement.objects.filter(pk=agreement.pk).update(
        version=agreement.version, revisions=agreement.revisions, updated_at=agreement.updated_at
    )
    recorder.save()


def _raise_agreement_records(agreement: Agreement, references: set[str]) -> None:
    """``agreement`` is now classified higher: its own records, its children's and the
    other agreements' records that name it as ``supersedes`` or ``parent`` reveal that much."""
    level = agreement.classification
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


# Building the plan of a write --------------------------------------------------------------


def _too_many(rows, limit: int, name: str, errors: dict) -> bool:
    if rows is not None and len(rows) > limit:
        errors.setdefault(name, []).append(f"At most {limit} {name} in one write.")
        return True
    return False


def _as_list(rows, name: str, errors: dict) -> list | None:
    if rows is None:
        return None
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        errors.setdefault(name, []).append("Expected a list.")
        return None
    return list(rows)


def _build_parties(agreement: Agreement, parties: list) -> tuple[list, dict]:
    built, errors = [], {}
    rows = []
    for index, data in enumerate(parties):
        prefix = f"parties[{index}]"
        if isinstance(data, AgreementParty):
            rows.append((prefix, data.code, data, None))
            continue
        if isinstance(data, str):
            data = {"code": data}
        if not isinstance(data, Mapping):
            errors[prefix] = ["Expected an object with a code, or a code."]
            continue
        data = dict(data)
        code = data.pop("code", "")
        code = code.code if hasattr(code, "code") else str(code or "").strip()
        unknown = set(data) - set(PARTY_FIELDS)
        if unknown:
            errors[prefix] = [f"Unknown field(s): {', '.join(sorted(unknown))}."]
            continue
        rows.append((prefix, code, None, data))
    partners = partners_by_codes([code for _, code, party, _ in rows if party is None])
    for prefix, code, party, data in rows:
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
            party = AgreementParty(agreement=agreement, **values)
            if partner._meta.model_name == "nation":
                party.nation = partner
            else:
                party.organization = partner
        try:
            party.full_clean(exclude=["agreement"], validate_unique=False)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, prefix))
        built.append((party.code, party))
    return built, errors


def _build_provisions(agreement: Agreement, provisions: list, actor) -> tuple[list, dict]:
    built, errors = [], {}
    for index, data in enumerate(provisions):
        prefix = f"provisions[{index}]"
        if isinstance(data, Provision):
            provision, provision_id = data, data.pk
        else:
            if not isinstance(data, Mapping):
                errors[prefix] = ["Expected an object."]
                continue
            data = dict(data)
            provision_id = data.pop("id", None)
            unknown = set(data) - set(PROVISION_FIELDS)
            if unknown:
                errors[prefix] = [f"Unknown field(s): {', '.join(sorted(unknown))}."]
                continue
            values, field_errors = coerce_fields(Provision, data, prefix)
            if field_errors:
                _merge(errors, field_errors)
                continue
            values.setdefault("classification", agreement.classification)
            provision = Provision(agreement=agreement, **values)
        try:
            provision.full_clean(exclude=["agreement"])
            check_clearance(actor, provision.classification)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, prefix))
        built.append((provision_id, provision))
    return built, errors


def _build_events(agreement: Agreement, events: list, actor) -> tuple[list, dict]:
    built, errors = [], {}
    for index, data in enumerate(events):
        prefix = f"events[{index}]"
        if isinstance(data, AgreementEvent):
            event, event_id = data, data.pk
        else:
            if not isinstance(data, Mapping):
                errors[prefix] = ["Expected an object."]
                continue
            data = dict(data)
            event_id = data.pop("id", None)
            unknown = set(data) - set(EVENT_FIELDS)
            if unknown:
                errors[prefix] = [f"Unknown field(s): {', '.join(sorted(unknown))}."]
                continue
            values, field_errors = coerce_fields(AgreementEvent, data, prefix)
            if field_errors:
                _merge(errors, field_errors)
                continue
            event = AgreementEvent(agreement=agreement, **values)
        if event.pk is None and event.created_by_id is None:
            event.created_by = actor
        try:
            event.full_clean(exclude=["agreement", "created_by"])
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, prefix))
        built.append((event_id, event))
    return built, errors


def _people_errors(agreement: Agreement, before: dict, watchers, creating: bool) -> dict:
    """Whoever is named on an agreement (owner, watchers) must be able to read it. Checked
    when the owner or watchers are set or the classification changes; a person no longer
    active stays (they are sent nothing)."""
    errors = {}
    if agreement.classification not in Classification.values:
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


def _validate_agreement(agreement: Agreement, actor, errors: dict) -> None:
    if not agreement.reference:
        agreement.reference = generate_reference(agreement)
    try:
        agreement.full_clean(exclude=["watchers"])
    except ValidationError as exc:
        _merge(errors, _errors_of(exc))
    try:
        check_clearance(actor, agreement.classification)
    except ValidationError as exc:
        _merge(errors, _errors_of(exc))


def _save_new(agreement: Agreement, generated: bool) -> None:
    """Insert, retrying a generated reference that another writer took in the meantime."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                agreement.save()
            return
        except IntegrityError:
            if attempt == 4 or not generated:
                raise
            agreement.reference = generate_reference(agreement)


# Writing the children ----------------------------------------------------------------------

PARTY_HISTORY = ("nation", "organization", *PARTY_FIELDS)
EVENT_HISTORY = EVENT_FIELDS


def _replace_parties(agreement: Agreement, plan: list, recorder: Recorder) -> None:
    existing = {p.code: p for p in agreement.parties.select_related("nation", "organization")}
    for code, party in plan:
        current = existing.pop(code, None)
        if current is None:
            party.pk = None
            party.agreement = agreement
            party.save()
            recorder.created(party, snapshot(party, PARTY_HISTORY), related=agreement)
            continue
        before = snapshot(current, PARTY_HISTORY)
        for name in PARTY_FIELDS:
            setattr(current, name, getattr(party, name))
        after = snapshot(current, PARTY_HISTORY)
        if after != before:
            current.save(update_fields=list(PARTY_FIELDS))
            recorder.updated(current, before, after, related=agreement)
    for leftover in existing.values():
        recorder.deleted(leftover, snapshot(leftover, PARTY_HISTORY), related=agreement)
        leftover.delete()


def _replace_provisions(agreement: Agreement, plan: list, actor, recorder: Recorder) -> None:
    visible = Provision.objects.filter(agreement=agreement)
    if actor is not None:
        visible = visible.visible_to(actor)
    remaining = {p.pk: p for p in visible}
    for provision_id, provision in plan:
        current = remaining.pop(provision_id, None) if provision_id else None
        if current is None and not provision_id:
            key = (provision.category, provision.title, provision.article)
            match = next(
                (p for p in remaining.values() if (p.category, p.title, p.article) == key), None
            )
            current = remaining.pop(match.pk) if match else None
        if current is None:
            if provision_id:
                raise ValidationError({"provisions": [f"No provision {provision_id} here."]})
            provision.agreement = agreement
            provision.save()
            recorder.created(
                provision,
                snapshot(provision, PROVISION_FIELDS),
                related=agreement,
                levels=[provision.classification],
            )
            continue
        before = snapshot(current, PROVISION_FIELDS)
        for name in PROVISION_FIELDS:
            setattr(current, name, getattr(provision, name))
        after = snapshot(current, PROVISION_FIELDS)
        if after != before:
            current.save()
            recorder.updated(
                current,
                before,
                after,
                related=agreement,
                levels=[before["classification"], after["classification"]],
            )
            if Classification.rank(after["classification"]) > Classification.rank(
                before["classification"]
            ):
                raise_records(current, after["classification"], include_related=False)
    for leftover in remaining.values():
        recorder.deleted(
            leftover,
            snapshot(leftover, PROVISION_FIELDS),
            related=agreement,
            levels=[leftover.classification],
        )
        leftover.delete()


def _replace_events(agreement: Agreement, plan: list, recorder: Recorder, *, keep: bool) -> None:
    """Write the planned events; unless ``keep``, delete the agreement's other events."""
    remaining = {} if keep else {e.pk: e for e in agreement.events.all()}
    for event_id, event in plan:
        current = remaining.pop(event_id, None) if event_id else None
        if current is None:
            if event_id and not keep:
                raise ValidationError({"events": [f"No event {event_id} here."]})
            event.pk = None
            event.agreement = agreement
            event.save()
            recorder.created(event, snapshot(event, EVENT_HISTORY), related=agreement)
            continue
        before = snapshot(current, EVENT_HISTORY)
        for name in EVENT_FIELDS:
            setattr(current, name, getattr(event, name))
        after = snapshot(current, EVENT_HISTORY)
        if after != before:
            current.save(update_fields=list(EVENT_FIELDS))
            recorder.updated(current, before, after, related=agreement)
    for leftover in remaining.values():
        recorder.deleted(leftover, snapshot(leftover, EVENT_HISTORY), related=agreement)
        leftover.delete()


# The agreement aggregate ------------------------------------------------------------------


@transaction.atomic
def agreement_save(
    *,
    agreement: Agreement | None = None,
    actor=None,
    source: str = "",
    expected_version: int | None = None,
    parties: Iterable | None = None,
    provisions: Iterable | None = None,
    events: Iterable | None = None,
    add_events: Iterable | None = None,
    watchers: Iterable | None = None,
    validate_only: bool = False,
    **fields,
) -> Agreement | None:
    """Create (``agreement=None``) or change an agreement with its children, all or nothing.

    ``fields`` are agreement fields (raw or Python values; links as records, see
    ``resolve_links``). ``parties`` (codes, ``{"code": ..., dates}`` or unsaved
    ``AgreementParty`` rows), ``provisions`` and ``events`` (dicts with an optional ``id``,
    or rows), when given, replace the current ones; provisions above the actor's clearance
    are left alone, and so are ``supersedes`` and ``parent`` when they point at an agreement
    above it. ``add_events`` are added to the timeline. ``expected_version`` is the version
    the caller read (``StaleVersion`` when it moved). The version goes up, once, only if
    something changed, and the change records are written with it. With ``validate_only``
    it stops after the checks (raising what they find), holding the agreement's row lock
    for the rest of the transaction.
    """
    creating = agreement is None or agreement.pk is None
    errors: dict[str, list[str]] = {}
    rows = {
        "parties": _as_list(parties, "parties", errors),
        "provisions": _as_list(provisions, "provisions", errors),
        "events": _as_list(events, "events", errors),
        "add_events": _as_list(add_events, "add_events", errors),
        "watchers": _as_list(watchers, "watchers", errors),
    }
    limits = {"parties": MAX_PARTIES, "provisions": MAX_PROVISIONS, "events": MAX_EVENTS}
    limits |= {"add_events": MAX_EVENTS, "watchers": MAX_WATCHERS}
    for name, limit in limits.items():
        if _too_many(rows[name], limit, name, errors):
            rows[name] = None
    if errors:
        raise ValidationError(errors)

    if creating:
        agreement = Agreement()
        before, before_links, before_watchers = {}, {}, []
        before_level = None
    else:
        agreement = (
            Agreement.objects.select_for_update(of=("self",))
            .select_related("supersedes", "parent", "owner")
            .get(pk=agreement.pk)
        )
        if expected_version is not None and version_seen_by(agreement, actor) != expected_version:
            raise StaleVersion(version_seen_by(agreement, actor))
        if not fields.get("reference", True):
            fields.pop("reference")  # blank: keep the current one (generated only on create)
        for name in LINKS:
            target = getattr(agreement, name)
            if (
                target is not None
                and actor is not None
                and not actor.is_cleared_for(target.classification)
            ):
                fields.pop(name, None)
        before = snapshot(agreement, AGREEMENT_FIELDS)
        before_links = {name: getattr(agreement, name) for name in LINKS}
        before_watchers = sorted(label(u) for u in agreement.watchers.all())
        before_level = agreement.classification

    _merge(errors, _apply_fields(agreement, fields))
    generated = creating and not agreement.reference
    if not errors:
        _validate_agreement(agreement, actor, errors)

    _merge(errors, _people_errors(agreement, before, rows["watchers"], creating))

    party_plan = None
    if rows["parties"] is not None or creating:
        party_plan, party_errors = _build_parties(agreement, rows["parties"] or [])
        _merge(errors, party_errors)
        codes = [code for code, _ in party_plan]
        check_set = not party_errors
    else:
        codes = [p.code for p in agreement.parties.select_related("nation", "organization")]
        check_set = True
    messages = []
    if check_set and agreement.status in AgreementStatus.values:
        messages = party_set_errors(agreement.status, codes)
    if messages:
        errors.setdefault("parties", []).extend(messages)

    provision_plan = None
    if rows["provisions"] is not None:
        provision_plan, more = _build_provisions(agreement, rows["provisions"], actor)
        _merge(errors, more)
    event_plan = added_plan = None
    if rows["events"] is not None:
        event_plan, more = _build_events(agreement, rows["events"], actor)
        _merge(errors, more)
    if rows["add_events"] is not None:
        added_plan, more = _build_events(agreement, rows["add_events"], actor)
        _merge(errors, {k.replace("events", "add_events", 1): v for k, v in more.items()})
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None

    recorder = Recorder(
        actor=actor, source=source, floor=highest(before_level, agreement.classification)
    )
    after = snapshot(agreement, AGREEMENT_FIELDS)
    if creating:
        _save_new(agreement, generated)
    elif after != before:
        agreement.save()
    changes = {name: [before.get(name), value] for name, value in after.items()}
    changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
    if rows["watchers"] is not None:
        wanted = {getattr(w, "pk", w): w for w in rows["watchers"]}
        after_watchers = sorted(label(u) for u in get_user_model().objects.filter(pk__in=wanted))
        if after_watchers != before_watchers:
            agreement.watchers.set(list(wanted))
            changes["watchers"] = [before_watchers, after_watchers]
    # A record names a linked agreement only when the link itself changed.
    linked = [getattr(before_links.get(n), "classification", None) for n in LINKS if n in changes]
    linked += [
        getattr(getattr(agreement, n), "classification", None) for n in LINKS if n in changes
    ]
    if creating:
        changes = {k: v for k, v in changes.items() if v[1] not in (None, "", [], False)}
        recorder.add(agreement, "create", changes, levels=linked)
    else:
        recorder.add(agreement, "update", changes, levels=linked)

    if party_plan is not None:
        _replace_parties(agreement, party_plan, recorder)
    if provision_plan is not None:
        _replace_provisions(agreement, provision_plan, actor, recorder)
    if event_plan is not None:
        _replace_events(agreement, event_plan, recorder, keep=False)
    if added_plan is not None:
        _replace_events(agreement, added_plan, recorder, keep=True)

    if before_level and Classification.rank(agreement.classification) > Classification.rank(
        before_level
    ):
        _raise_agreement_records(agreement, {before.get("reference"), agreement.reference})
    _finish(agreement, recorder, created=creating)
    return agreement


@transaction.atomic
def agreement_delete(*, agreement: Agreement, actor=None, source: str = "") -> None:
    """Delete an agreement with its children. Refused when it holds provisions the actor may
    not see (they would be deleted unseen)."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if actor is not None:
        hidden = Provision.objects.filter(agreement=agreement).exclude(
            pk__in=Provision.objects.filter(agreement=agreement).visible_to(actor).values("pk")
        )
        if hidden.exists():
            raise PermissionDenied(
                "This agreement has provisions above your clearance; someone cleared for "
                "them must delete it."
            )
    links = [getattr(getattr(agreement, name), "classification", None) for name in LINKS]
    recorder = Recorder(actor=actor, source=source, floor=agreement.classification)
    recorder.deleted(agreement, snapshot(agreement, AGREEMENT_FIELDS), levels=links)
    agreement.delete()
    recorder.save()


# Provisions one at a time (the provision admin) --------------------------------------------


@transaction.atomic
def provision_save(
    *,
    provision: Provision | None = None,
    agreement: Agreement,
    actor=None,
    source: str = "",
    **fields,
) -> Provision:
    """Add or change one provision of ``agreement``."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if provision is not None and provision.pk:
        current = Provision.objects.get(pk=provision.pk)
        if current.agreement_id != agreement.pk:
            raise ValidationError({"agreement": ["A provision cannot move to another agreement."]})
        before = snapshot(current, PROVISION_FIELDS)
    else:
        current, before = Provision(agreement=agreement), {}
        fields.setdefault("classification", agreement.classification)
    unknown = set(fields) - set(PROVISION_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    values, errors = coerce_fields(Provision, fields)
    if errors:
        raise ValidationError(errors)
    for name, value in values.items():
        setattr(current, name, value)
    current.full_clean()
    check_clearance(actor, current.classification)
    if before:
        check_clearance(actor, before["classification"])
    after = snapshot(current, PROVISION_FIELDS)
    recorder = Recorder(actor=actor, source=source, floor=agreement.classification)
    levels = [before.get("classification"), after["classification"]]
    if not before:
        current.save()
        recorder.created(current, after, related=agreement, levels=levels)
    elif after != before:
        current.save()
        recorder.updated(current, before, after, related=agreement, levels=levels)
        if Classification.rank(after["classification"]) > Classification.rank(
            before["classification"]
        ):
            raise_records(current, after["classification"], include_related=False)
    _finish(agreement, recorder)
    return current


@transaction.atomic
def provision_delete(*, provision: Provision, actor=None, source: str = "") -> None:
    agreement = Agreement.objects.select_for_update().get(pk=provision.agreement_id)
    recorder = Recorder(actor=actor, source=source, floor=agreement.classification)
    recorder.deleted(
        provision,
        snapshot(provision, PROVISION_FIELDS),
        related=agreement,
        levels=[provision.classification],
    )
    provision.delete()
    _finish(agreement, recorder)


# Reviews and events ---------------------------------------------------------------------


def _review_record_changes(review, before, recorder, agreement) -> None:
    after = snapshot(review, REVIEW_FIELDS)
    if not before:
        recorder.created(review, after, related=agreement)
    else:
        recorder.updated(review, before, after, related=agreement)


@transaction.atomic
def review_record(
    *,
    agreement: Agreement,
    reviewed_on: datetime.date,
    outcome: str,
    notes: str = "",
    reviewer=None,
    actor=None,
    source: str = "",
) -> Review:
    """Record a review; the next review moves forward by the agreement's review interval,
    and the timeline gains a "reviewed" event."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    review = Review(
        agreement=agreement,
        reviewed_on=reviewed_on,
        outcome=outcome,
        notes=notes,
        reviewer=reviewer or actor,
    )
    review.full_clean()
    recorder = Recorder(actor=actor, source=source, floor=agreement.classification)
    review.save()
    _review_record_changes(review, {}, recorder, agreement)
    if agreement.review_interval_months:
        before = agreement.next_review_on
        agreement.next_review_on = add_months(reviewed_on, agreement.review_interval_months)
        if agreement.next_review_on != before:
            Agreement.objects.filter(pk=agreement.pk).update(
                next_review_on=agreement.next_review_on
            )
            recorder.add(
                agreement,
                "update",
                {"next_review_on": [plain(before), plain(agreement.next_review_on)]},
            )
    event = AgreementEvent(
        agreement=agreement,
        kind=EventKind.REVIEWED,
        date=reviewed_on,
        note=f"Outcome: {review.get_outcome_display()}",
        created_by=actor,
    )
    event.full_clean()
    event.save()
    recorder.created(event, snapshot(event, EVENT_HISTORY), related=agreement)
    _finish(agreement, recorder)
    return review


@transaction.atomic
def review_update(*, review: Review, actor=None, source: str = "", **fields) -> Review:
    """Correct a recorded review (its date, reviewer, outcome or notes)."""
    agreement = Agreement.objects.select_for_update().get(pk=review.agreement_id)
    current = Review.objects.select_related("reviewer").get(pk=review.pk)
    before = snapshot(current, REVIEW_FIELDS)
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean()
    recorder = Recorder(actor=actor, source=source, floor=agreement.classification)
    if snapshot(current, REVIEW_FIELDS) != before:
        current.save()
        _review_record_changes(current, before, recorder, agreement)
    _finish(agreement, recorder)
    return current


@transaction.atomic
def review_delete(*, review: Review, actor=None, source: str = "") -> None:
    agreement = Agreement.objects.select_for_update().get(pk=review.agreement_id)
    recorder = Recorder(actor=actor, source=source, floor=agreement.classification)
    recorder.deleted(review, snapshot(review, REVIEW_FIELDS), related=agreement)
    review.delete()
    _finish(agreement, recorder)


def event_record(
    *,
    agreement: Agreement,
    kind: str,
    date: datetime.date,
    note: str = "",
    actor=None,
    source: str = "",
) -> AgreementEvent:
    """Add one event to an agreement's timeline."""
    saved = agreement_save(
        agreement=agreement,
        actor=actor,
        source=source,
        add_events=[{"kind": kind, "date": date, "note": note}],
    )
    return saved.events.order_by("-id").first()
