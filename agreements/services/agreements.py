"""``agreement_save`` and ``agreement_delete``: an agreement with its parties, provisions,
events and watchers, validated as a whole, written, and recorded."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.choices import Classification
from accounts.clearance import highest, lowest
from engagements.link_history import raise_provision_link_records
from history.recorder import Recorder, label, raise_records, snapshot

from ..choices import AgreementStatus
from ..limits import MAX_CONTACTS, MAX_EVENTS, MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS
from ..models import Agreement, Provision
from .acts import ACT_FIELDS, rebuild_periods, write_acts
from .common import (
    AGREEMENT_FIELDS,
    EVENT_FIELDS,
    LINKS,
    PARTY_FIELDS,
    PROVISION_FIELDS,
    REVIEW_FIELDS,
    StaleVersion,
    _finish,
    _merge,
    _raise_agreement_records,
    version_seen_by,
)
from .plan import (
    _apply_fields,
    _as_list,
    _build_events,
    _build_parties,
    _build_provisions,
    _contacts_by_id,
    _people_errors,
    _too_many,
    _validate_agreement,
    generate_reference,
    party_set_errors,
)


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


def contact_label(contact) -> str:
    """How history names a responsible contact: names repeat, so with its id."""
    return f"{contact} (#{contact.pk})"


# Writing the children ----------------------------------------------------------------------

PARTY_HISTORY = ("nation", "organization", *PARTY_FIELDS)
EVENT_HISTORY = EVENT_FIELDS


def _replace_parties(agreement: Agreement, plan: list, recorder: Recorder) -> None:
    existing = {
        p.code: p
        for p in agreement.parties.select_related("nation", "organization").prefetch_related("acts")
    }
    for code, party, acts in plan:
        current = existing.pop(code, None)
        if current is None:
            party.pk = None
            party.agreement = agreement
            party.save()
            recorder.created(party, snapshot(party, PARTY_HISTORY), related=agreement)
            write_acts(party, acts, [], agreement, recorder)
            continue
        before = snapshot(current, PARTY_HISTORY)
        for name in PARTY_FIELDS:
            setattr(current, name, getattr(party, name))
        after = snapshot(current, PARTY_HISTORY)
        if after != before:
            current.save(update_fields=list(PARTY_FIELDS))
            recorder.updated(current, before, after, related=agreement)
        write_acts(current, acts, list(current.acts.all()), agreement, recorder)
    for leftover in existing.values():
        for act in leftover.acts.all():
            recorder.deleted(act, snapshot(act, ACT_FIELDS), related=agreement)
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
                bump_from=lowest(before["classification"], after["classification"]),
            )
            if Classification.rank(after["classification"]) > Classification.rank(
                before["classification"]
            ):
                raise_records(current, after["classification"], include_related=False)
                raise_provision_link_records(current, after["classification"], before)
    for leftover in remaining.values():
        recorder.deleted(
            leftover,
            snapshot(leftover, PROVISION_FIELDS),
            related=agreement,
            levels=[leftover.classification],
        )
        leftover.delete()


def _replace_events(agreement: Agreement, plan: list, recorder: Recorder, *, keep: bool) -> None:
    """Write the planned events; unless ``keep``, delete the agreement's other events. An
    event given without an id takes the place of a current one of the same kind and date
    (so re-importing a file changes nothing), as provisions do by category, title and
    article."""
    remaining = {} if keep else {e.pk: e for e in agreement.events.all()}
    for event_id, event in plan:
        current = remaining.pop(event_id, None) if event_id else None
        if current is None and not event_id:
            key = (event.kind, event.date)
            match = next((e for e in remaining.values() if (e.kind, e.date) == key), None)
            current = remaining.pop(match.pk) if match else None
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
    contact_ids: Iterable | None = None,
    validate_only: bool = False,
    **fields,
) -> Agreement | None:
    """Create (``agreement=None``) or change an agreement with its children, all or nothing.

    ``fields`` are agreement fields (raw or Python values; links as records, see
    ``resolve_links``). ``parties`` (codes, ``{"code": ..., dates}`` or unsaved
    ``AgreementParty`` rows), ``provisions`` and ``events`` (dicts with an optional ``id``,
    or rows), when given, replace the current ones; provisions above the actor's clearance
    are left alone, and so are ``supersedes`` and ``parent`` when they point at an agreement
    above it. ``add_events`` are added to the timeline. ``watchers`` (users or their ids)
    and ``contact_ids`` (the responsible desk officers: points of contact or their ids),
    when given, replace the current ones. ``expected_version`` is the version
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
        "contact_ids": _as_list(contact_ids, "contact_ids", errors),
    }
    limits = {"parties": MAX_PARTIES, "provisions": MAX_PROVISIONS, "events": MAX_EVENTS}
    limits |= {"add_events": MAX_EVENTS, "watchers": MAX_WATCHERS, "contact_ids": MAX_CONTACTS}
    for name, limit in limits.items():
        if _too_many(rows[name], limit, name, errors):
            rows[name] = None
    if errors:
        raise ValidationError(errors)

    if creating:
        agreement = Agreement()
        before, before_links, before_watchers, before_contacts = {}, {}, [], []
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
        before_contacts = sorted(contact_label(c) for c in agreement.contacts.all())
        before_level = agreement.classification

    _merge(errors, _apply_fields(agreement, fields))
    generated = creating and not agreement.reference
    if not errors:
        _validate_agreement(agreement, actor, errors)

    _merge(errors, _people_errors(agreement, before, rows["watchers"], creating))
    contacts = None
    if rows["contact_ids"] is not None:
        contacts = _contacts_by_id(rows["contact_ids"], errors)

    party_plan = None
    if rows["parties"] is not None or creating:
        party_plan, party_errors = _build_parties(agreement, rows["parties"] or [])
        _merge(errors, party_errors)
        codes = [code for code, *_ in party_plan]
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
    if contacts is not None:
        after_contacts = sorted(contact_label(c) for c in contacts)
        if after_contacts != before_contacts:
            agreement.contacts.set(contacts)
            changes["contacts"] = [before_contacts, after_contacts]
    # A record names a linked agreement only when the link itself changed.
    linked = [getattr(before_links.get(n), "classification", None) for n in LINKS if n in changes]
    linked += [
        getattr(getattr(agreement, n), "classification", None) for n in LINKS if n in changes
    ]
    if creating:
        changes = {k: v for k, v in changes.items() if v[1] not in (None, "", [], False)}
        recorder.add(agreement, "create", changes, levels=linked)
    else:
        recorder.add(
            agreement,
            "update",
            changes,
            levels=linked,
            bump_from=lowest(before_level, agreement.classification),
        )

    if party_plan is not None:
        _replace_parties(agreement, party_plan, recorder)
    if party_plan is not None or "entered_into_force_on" in changes:
        rebuild_periods(agreement)
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
    # Agreements that supersede this one lose the link: through the write path, so their
    # history and version say so (attributed to the deletion, whoever may see them).
    for pk in Agreement.objects.filter(supersedes=agreement).values_list("pk", flat=True):
        agreement_save(
            agreement=Agreement(pk=pk),
            source=f"{source or 'system'} (deleted {agreement.reference})",
            supersedes=None,
        )
    links = [getattr(getattr(agreement, name), "classification", None) for name in LINKS]
    recorder = Recorder(actor=actor, source=source, floor=agreement.classification)
    recorder.deleted(agreement, snapshot(agreement, AGREEMENT_FIELDS), levels=links)
    # The children go with it (a database cascade): each is recorded as deleted too.
    for party in agreement.parties.select_related("nation", "organization").prefetch_related(
        "acts"
    ):
        for act in party.acts.all():
            recorder.deleted(act, snapshot(act, ACT_FIELDS), related=agreement)
        recorder.deleted(party, snapshot(party, PARTY_HISTORY), related=agreement)
    for provision in agreement.provisions.all():
        recorder.deleted(
            provision,
            snapshot(provision, PROVISION_FIELDS),
            related=agreement,
            levels=[provision.classification],
        )
    for event in agreement.events.all():
        recorder.deleted(event, snapshot(event, EVENT_HISTORY), related=agreement)
    for review in agreement.reviews.select_related("reviewer"):
        recorder.deleted(review, snapshot(review, REVIEW_FIELDS), related=agreement)
    agreement.delete()
    recorder.save()
