"""The one write path of the engagement aggregate: an engagement, its participants, its
links to agreements, provisions and points of contact, and its watchers change only through
``engagement_save`` and ``engagement_delete``.

The admin, the API and the import hand them validated or raw data; they check every rule
(errors keyed by field, ``participants[1].role`` for a row), write, bump the version once per
write and record what changed in one insert (``history.recorder``). Nothing is written unless
everything is valid.

Links above the writer's clearance are never shown to them and never lost by their edits:
the agreement and provision ids a writer gives are the links they may see; the ones they may
not see stay as they are. History of a link is classified at the link's level (and at least
the engagement's), so a reader never learns of a link they may not see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.choices import Classification
from accounts.clearance import highest, lowest
from agreements.models import Agreement, Provision
from agreements.services import check_clearance, coerce_fields
from agreements.services.common import _errors_of, _merge
from agreements.services.plan import _as_list, _people_errors, _too_many
from config.api import MAX_ID
from history.recorder import Recorder, label, raise_records, snapshot
from history.versioning import StaleVersion, finish_write, version_seen_by
from partners.models import Nation, PointOfContact
from partners.selectors import partners_by_codes

from .choices import EngagementStatus, ParticipationRole
from .link_history import provision_label
from .models import Engagement, Participation
from .selectors import not_readers_message, readers_among, visible_agreements, visible_provisions

__all__ = [
    "ENGAGEMENT_FIELDS",
    "PARTICIPATION_FIELDS",
    "StaleVersion",
    "engagement_delete",
    "engagement_save",
    "version_seen_by",
]

# What a writer may set, derived from the model (a new editable field is writable and
# recorded without being listed again).
ENGAGEMENT_FIELDS = tuple(
    f.name for f in Engagement._meta.concrete_fields if f.editable and not f.primary_key
)
PARTICIPATION_FIELDS = ("role", "personnel")
PARTICIPATION_HISTORY = ("nation", "organization", *PARTICIPATION_FIELDS)

# How many rows one write may carry (each is looked up): far above any real engagement, and
# low enough that a form-encoded write with every list full stays within Django's
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1000).
MAX_PARTICIPANTS = 200
MAX_LINKS = 100
MAX_WATCHERS = 100


# Fields ------------------------------------------------------------------------------------


def _apply_fields(engagement: Engagement, fields: Mapping[str, Any]) -> dict:
    unknown = set(fields) - set(ENGAGEMENT_FIELDS)
    if unknown:
        return {name: ["Unknown field."] for name in sorted(unknown)}
    fields = dict(fields)
    errors: dict[str, list[str]] = {}
    nation = fields.get("location_nation")
    if isinstance(nation, str):
        code = nation.strip().upper()
        fields["location_nation"] = Nation.objects.filter(iso3=code).first() if code else None
        if code and fields["location_nation"] is None:
            errors["location_nation"] = [f"No nation has the code {nation!r}."]
    owner = fields.get("owner")
    if isinstance(owner, str):
        fields["owner"] = get_user_model().objects.filter(username=owner).first() if owner else None
        if owner and fields["owner"] is None:
            errors["owner"] = [f"No user is called {owner!r}."]
    for name in ("kind", "status", "classification", "domain", "outcome"):
        if fields.get(name, "") is None:
            fields[name] = ""
    values, more = coerce_fields(Engagement, fields)
    _merge(errors, more)
    for name, value in values.items():
        field = Engagement._meta.get_field(name)
        if isinstance(value, Decimal) and value.is_finite():
            # As the database will give it back, so that a re-sent value is no change.
            value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
        if field.is_relation and value is not None and not isinstance(value, field.related_model):
            errors.setdefault(name, []).append("Expected a record or its code.")
            continue
        setattr(engagement, name, value)
    return errors


def _validate_engagement(engagement: Engagement, actor, errors: dict) -> None:
    exclude = ["watchers", "agreements", "provisions", "contacts"]
    try:
        engagement.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        _merge(errors, _errors_of(exc))
    if not errors:  # what the rules above do not say already (they say it by field)
        try:
            engagement.validate_constraints(exclude=exclude)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc))
    try:
        check_clearance(actor, engagement.classification)
    except ValidationError as exc:
        _merge(errors, _errors_of(exc))


def _resolve_watchers(rows: list, errors: dict) -> list | None:
    users = get_user_model()
    records = [row for row in rows if isinstance(row, users)]
    keys = [row for row in rows if not isinstance(row, users)]
    names = [key for key in keys if isinstance(key, str)]
    ids = [key for key in keys if isinstance(key, int) and not isinstance(key, bool)]
    if len(names) + len(ids) != len(keys):
        errors["watchers"] = ["Give users by username."]
        return None
    found = list(users.objects.filter(username__in=set(names))) if names else []
    found += list(users.objects.filter(pk__in=set(ids))) if ids else []
    missing = sorted(set(names) - {u.username for u in found})
    missing += sorted(str(pk) for pk in set(ids) - {u.pk for u in found})
    if missing:
        errors["watchers"] = [f"No user is called: {', '.join(missing)}."]
        return None
    return list({u.pk: u for u in [*records, *found]}.values())


# Participants ------------------------------------------------------------------------------


def _build_participants(engagement: Engagement, rows: list) -> tuple[list, dict]:
    """The planned participants as ``(code, unsaved Participation)``; rows are codes,
    ``{"code", "role", "personnel"}`` or unsaved ``Participation`` rows."""
    errors: dict[str, list[str]] = {}
    parsed = []
    for index, data in enumerate(rows):
        prefix = f"participants[{index}]"
        if isinstance(data, Participation):
            parsed.append((prefix, None, data, None))
            continue
        if isinstance(data, str):
            data = {"code": data}
        if not isinstance(data, Mapping):
            errors[prefix] = ["Expected an object with a code, or a code."]
            continue
        data = dict(data)
        code = data.pop("code", "")
        code = code.code if hasattr(code, "code") else str(code or "").strip()
        unknown = set(data) - set(PARTICIPATION_FIELDS)
        if unknown:
            errors[prefix] = [f"Unknown field(s): {', '.join(sorted(unknown))}."]
            continue
        if not code:
            errors[f"{prefix}.code"] = ["Give the code of a nation or an organization."]
            continue
        parsed.append((prefix, code, None, data))
    partners = partners_by_codes([code for _, code, row, _ in parsed if row is None])
    built = []
    for prefix, code, row, data in parsed:
        if row is None:
            partner = partners.get(code)
            if partner is None:
                errors[f"{prefix}.code"] = [f"No nation or organization has the code {code!r}."]
                continue
            if data.get("role", "") in (None, ""):
                data.pop("role", None)
            values, field_errors = coerce_fields(Participation, data, prefix)
            if field_errors:
                _merge(errors, field_errors)
                continue
            row = Participation(**values)
            if partner._meta.model_name == "nation":
                row.nation = partner
            else:
                row.organization = partner
        row.engagement = engagement
        try:
            row.full_clean(exclude=["engagement"], validate_unique=False)
        except ValidationError as exc:
            _merge(errors, _errors_of(exc, prefix))
            continue
        built.append((row.code, row))
    duplicates = sorted(c for c, n in Counter(code for code, _ in built).items() if n > 1)
    if duplicates:
        errors.setdefault("participants", []).append(
            f"A participant appears more than once: {', '.join(duplicates)}."
        )
    return built, errors


def participant_set_errors(status: str, roles: Iterable[str]) -> list[str]:
    """The rule on the participants as a whole: once approved (or under way, or done), at
    least one participant besides the host."""
    if status in EngagementStatus.committed() and not any(
        role != ParticipationRole.HOST for role in roles
    ):
        label_ = EngagementStatus(status).label.lower()
        return [f"An engagement that is {label_} needs at least one participant besides the host."]
    return []


def _replace_participants(engagement: Engagement, plan: list, recorder: Recorder) -> None:
    existing = {p.code: p for p in engagement.participants.select_related("nation", "organization")}
    for code, row in plan:
        current = existing.pop(code, None)
        if current is None:
            row.pk = None
            row.engagement = engagement
            row.save()
            recorder.created(row, snapshot(row, PARTICIPATION_HISTORY), related=engagement)
            continue
        before = snapshot(current, PARTICIPATION_HISTORY)
        for name in PARTICIPATION_FIELDS:
            setattr(current, name, getattr(row, name))
        after = snapshot(current, PARTICIPATION_HISTORY)
        if after != before:
            current.save(update_fields=list(PARTICIPATION_FIELDS))
            recorder.updated(current, before, after, related=engagement)
    for leftover in existing.values():
        recorder.deleted(leftover, snapshot(leftover, PARTICIPATION_HISTORY), related=engagement)
        leftover.delete()


# Links -------------------------------------------------------------------------------------


def _ids(rows: list, model, name: str, errors: dict) -> list[int] | None:
    ids = []
    for row in rows:
        if isinstance(row, model):
            ids.append(row.pk)
        elif isinstance(row, int) and not isinstance(row, bool) and 0 < row <= MAX_ID:
            ids.append(row)
        elif isinstance(row, str) and row.strip().isdigit() and len(row.strip()) <= 18:
            ids.append(int(row.strip()))
        else:
            errors.setdefault(name, []).append(f"Not an id: {row!r}.")
            return None
    return list(dict.fromkeys(ids))


def _resolve(ids: list[int], queryset, name: str, noun: str, errors: dict) -> dict | None:
    """The records of ``ids`` in ``queryset`` (what the writer may see), by id; an id that
    is not there, missing or out of reach alike, is an error naming it."""
    found = {obj.pk: obj for obj in queryset.filter(pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        errors.setdefault(name, []).append(
            f"No {noun} you may see has the id(s): {', '.join(missing)}."
        )
        return None
    return found


def _agreement_level(agreement: Agreement) -> str:
    return agreement.classification


def _provision_level(provision: Provision) -> str:
    return highest(provision.classification, provision.agreement.classification)


def _provision_label(provision: Provision) -> str:
    return provision_label(provision.agreement.reference, provision.article, provision.title)


def _contact_label(contact: PointOfContact) -> str:
    return str(contact)


LINK_LABELS = {
    "agreements": (label, _agreement_level),
    "provisions": (_provision_label, _provision_level),
    "contacts": (_contact_label, lambda contact: Classification.UNCLASSIFIED),
}


def _link_changes(name: str, before: list, after: list, floor: str) -> dict[str, list]:
    """What a change of links reveals, by the level it is recorded at: at ``floor`` (the
    engagement's) the links at or below it; at each higher level where a link of that level
    was added or removed, the links at or below that level. {level: [before, after]}."""
    label_of, level_of = LINK_LABELS[name]
    before_ids, after_ids = {o.pk for o in before}, {o.pk for o in after}
    changed = [o for o in [*before, *after] if (o.pk in before_ids) != (o.pk in after_ids)]
    if not changed:
        return {}
    levels = {floor}
    levels |= {
        level_of(o)
        for o in changed
        if Classification.rank(level_of(o)) > Classification.rank(floor)
    }
    out = {}
    for level in sorted(levels, key=Classification.rank):
        rank = Classification.rank(level)
        pair = [
            sorted(label_of(o) for o in rows if Classification.rank(level_of(o)) <= rank)
            for rows in (before, after)
        ]
        if pair[0] != pair[1]:
            out[level] = pair
    return out


def _plan_links(
    engagement: Engagement,
    creating: bool,
    actor,
    given: dict[str, list | None],
    errors: dict,
) -> dict[str, tuple[list, list]]:
    """For each link (agreements, provisions, contacts): (the current records, the records
    after the write). Given ids are among what the actor may see; the current links the
    actor may not see are kept."""
    current: dict[str, list] = {"agreements": [], "provisions": [], "contacts": []}
    if not creating:
        current["agreements"] = list(engagement.agreements.order_by("reference"))
        current["provisions"] = list(engagement.provisions.select_related("agreement"))
        current["contacts"] = list(engagement.contacts.all())
    querysets = {
        "agreements": (Agreement, visible_agreements(actor), "agreement"),
        "provisions": (
            Provision,
            visible_provisions(actor).select_related("agreement"),
            "provision",
        ),
        "contacts": (PointOfContact, PointOfContact.objects.all(), "point of contact"),
    }
    planned = {}
    for name, (model, queryset, noun) in querysets.items():
        rows = given[name]
        if rows is None:
            planned[name] = (current[name], current[name])
            continue
        ids = _ids(rows, model, name, errors)
        if ids is None:
            planned[name] = (current[name], current[name])
            continue
        found = _resolve(ids, queryset, name, noun, errors)
        if found is None:
            planned[name] = (current[name], current[name])
            continue
        seen = set(
            queryset.filter(pk__in=[o.pk for o in current[name]]).values_list("pk", flat=True)
        )
        hidden = [o for o in current[name] if o.pk not in seen]
        planned[name] = (current[name], [*(found[pk] for pk in ids), *hidden])
    agreement_ids = {a.pk for a in planned["agreements"][1]}
    for provision in planned["provisions"][1]:
        if provision.agreement_id in agreement_ids:
            continue
        reference = provision.agreement.reference
        if actor is None or actor.is_cleared_for(_provision_level(provision)):
            errors.setdefault("provisions", []).append(
                f"{_provision_label(provision)} belongs to the agreement {reference}, which is "
                "not linked: link that agreement too."
            )
        else:  # a kept provision the actor may not see, whose agreement they unlinked
            errors.setdefault("agreements", []).append(
                f"Provisions you may not see are linked under the agreement {reference}: "
                "it stays linked until someone cleared for them unlinks them."
            )
    return planned


# The engagement aggregate -----------------------------------------------------------------


@transaction.atomic
def engagement_save(
    *,
    engagement: Engagement | None = None,
    actor=None,
    source: str = "",
    expected_version: int | None = None,
    participants: Iterable | None = None,
    agreement_ids: Iterable | None = None,
    provision_ids: Iterable | None = None,
    contact_ids: Iterable | None = None,
    watchers: Iterable | None = None,
    validate_only: bool = False,
    **fields,
) -> Engagement | None:
    """Create (``engagement=None``) or change an engagement with its participants and
    links, all or nothing.

    ``fields`` are engagement fields (raw or Python values; ``location_nation`` as a
    ``Nation`` or its ISO alpha-3 code, ``owner`` as a user or a username). ``participants``
    (codes, ``{"code", "role", "personnel"}`` or unsaved ``Participation`` rows), when given,
    replace the current ones (matched by code). ``agreement_ids``, ``provision_ids`` and
    ``contact_ids`` (ids or records), when given, replace the links the actor may see; the
    links above the actor's clearance stay. ``watchers`` (users or usernames) replace the
    watchers. ``expected_version`` is the version the caller read (``StaleVersion`` when it
    moved). The version goes up once, only if something changed. With ``validate_only`` it
    stops after the checks (raising what they find).
    """
    creating = engagement is None or engagement.pk is None
    errors: dict[str, list[str]] = {}
    rows = {
        "participants": _as_list(participants, "participants", errors),
        "agreements": _as_list(agreement_ids, "agreements", errors),
        "provisions": _as_list(provision_ids, "provisions", errors),
        "contacts": _as_list(contact_ids, "contacts", errors),
        "watchers": _as_list(watchers, "watchers", errors),
    }
    limits = {"participants": MAX_PARTICIPANTS, "watchers": MAX_WATCHERS}
    limits |= dict.fromkeys(("agreements", "provisions", "contacts"), MAX_LINKS)
    for name, limit in limits.items():
        if _too_many(rows[name], limit, name, errors):
            rows[name] = None
    if errors:
        raise ValidationError(errors)

    if creating:
        engagement = Engagement()
        before, before_watchers, before_level = {}, [], None
    else:
        engagement = (
            Engagement.objects.select_for_update(of=("self",))
            .select_related("location_nation", "owner")
            .get(pk=engagement.pk)
        )
        if expected_version is not None and version_seen_by(engagement, actor) != expected_version:
            raise StaleVersion(version_seen_by(engagement, actor))
        before = snapshot(engagement, ENGAGEMENT_FIELDS)
        before_watchers = sorted(label(u) for u in engagement.watchers.all())
        before_level = engagement.classification

    _merge(errors, _apply_fields(engagement, fields))
    if not errors:
        _validate_engagement(engagement, actor, errors)

    watcher_rows = None
    if rows["watchers"] is not None:
        watcher_rows = _resolve_watchers(rows["watchers"], errors)
    _merge(
        errors,
        _people_errors(
            engagement,
            before,
            watcher_rows,
            creating,
            readers_among=readers_among,
            not_readers_message=not_readers_message,
        ),
    )

    participant_plan = None
    if rows["participants"] is not None or creating:
        participant_plan, more = _build_participants(engagement, rows["participants"] or [])
        _merge(errors, more)
        roles = [row.role for _, row in participant_plan]
        check_set = not more
    else:
        roles = list(engagement.participants.values_list("role", flat=True))
        check_set = True
    if check_set and engagement.status in EngagementStatus.values:
        messages = participant_set_errors(engagement.status, roles)
        if messages:
            errors.setdefault("participants", []).extend(messages)

    links = _plan_links(
        engagement,
        creating,
        actor,
        {name: rows[name] for name in ("agreements", "provisions", "contacts")},
        errors,
    )
    if errors:
        raise ValidationError(errors)
    if validate_only:
        return None

    floor = highest(before_level, engagement.classification)
    recorder = Recorder(actor=actor, source=source, floor=floor)
    after = snapshot(engagement, ENGAGEMENT_FIELDS)
    if creating or after != before:
        engagement.save()
    changes = {name: [before.get(name), value] for name, value in after.items()}
    changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
    if watcher_rows is not None:
        after_watchers = sorted(label(u) for u in watcher_rows)
        if after_watchers != before_watchers or creating:
            engagement.watchers.set(watcher_rows)
        if after_watchers != before_watchers:
            changes["watchers"] = [before_watchers, after_watchers]
    higher: dict[str, dict] = {}  # level: the link changes only that level may see
    for name, (old, new) in links.items():
        if {o.pk for o in old} != {o.pk for o in new}:
            getattr(engagement, name).set([o.pk for o in new])
        for level, pair in _link_changes(name, old, new, floor).items():
            if level == floor:
                changes[name] = pair
            else:
                higher.setdefault(level, {})[name] = pair
    if creating:
        changes = {k: v for k, v in changes.items() if v[1] not in (None, "", [], False)}
        recorder.add(engagement, "create", changes)
    else:
        recorder.add(
            engagement,
            "update",
            changes,
            bump_from=lowest(before_level, engagement.classification),
        )
    for level, more in higher.items():
        recorder.add(engagement, "update", more, levels=[level])

    if participant_plan is not None:
        _replace_participants(engagement, participant_plan, recorder)

    if before_level and Classification.rank(engagement.classification) > Classification.rank(
        before_level
    ):
        raise_records(engagement, engagement.classification)
    finish_write(engagement, recorder, created=creating)
    return engagement


@transaction.atomic
def engagement_delete(*, engagement: Engagement, actor=None, source: str = "") -> None:
    """Delete an engagement with its participants and links. Refused when it is linked to
    an agreement or provision the actor may not see (the link would go unseen)."""
    engagement = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("location_nation", "owner")
        .get(pk=engagement.pk)
    )
    agreements = list(engagement.agreements.order_by("reference"))
    provisions = list(engagement.provisions.select_related("agreement"))
    if actor is not None and (
        any(not actor.is_cleared_for(_agreement_level(a)) for a in agreements)
        or any(not actor.is_cleared_for(_provision_level(p)) for p in provisions)
    ):
        raise PermissionDenied(
            "This engagement is linked to agreements or provisions above your clearance; "
            "someone cleared for them must delete it."
        )
    floor = engagement.classification
    recorder = Recorder(actor=actor, source=source, floor=floor)
    values = snapshot(engagement, ENGAGEMENT_FIELDS)
    values["watchers"] = sorted(label(u) for u in engagement.watchers.all())
    higher: dict[str, dict] = {}
    links = {
        "agreements": agreements,
        "provisions": provisions,
        "contacts": list(engagement.contacts.all()),
    }
    for name, old in links.items():
        for level, (was, _now) in _link_changes(name, old, [], floor).items():
            if level == floor:
                values[name] = was
            else:
                higher.setdefault(level, {})[name] = [was, []]
    recorder.deleted(engagement, values)
    for level, more in higher.items():
        recorder.add(engagement, "update", more, levels=[level])
    for row in engagement.participants.select_related("nation", "organization"):
        recorder.deleted(row, snapshot(row, PARTICIPATION_HISTORY), related=engagement)
    engagement.delete()
    recorder.save()
