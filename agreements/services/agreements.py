"""``agreement_save`` and ``agreement_delete``: an agreement with its parties, provisions,
events and watchers, validated as a whole, written, and recorded; ``AgreementBatch``: new
agreements checked one by one and written together (the import)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.choices import Classification
from accounts.clearance import highest, lowest
from engagements.link_history import raise_provision_link_records
from history.recorder import Recorder, label, raise_records, snapshot
from history.versioning import StaleVersion, version_seen_by
from partners.selectors import partners_by_codes

from ..choices import AgreementStatus
from ..limits import MAX_CONTACTS, MAX_EVENTS, MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS
from ..models import (
    PROVISION_VECTOR,
    Agreement,
    AgreementEvent,
    AgreementParty,
    PartyAct,
    PartyPeriod,
    Provision,
    provision_vector,
)
from ..search import uses_postgres
from .acts import ACT_FIELDS, periods_of, rebuild_periods, write_acts
from .common import (
    AGREEMENT_FIELDS,
    EVENT_FIELDS,
    LINKS,
    PARTY_FIELDS,
    PROVISION_FIELDS,
    REVIEW_FIELDS,
    _finish,
    _finish_created,
    _merge,
    _raise_agreement_records,
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


def contact_label(contact) -> str:
    """How history names a responsible contact: names repeat, so with its id."""
    return f"{contact} (#{contact.pk})"


# Writing the children ----------------------------------------------------------------------

PARTY_HISTORY = ("nation", "organization", *PARTY_FIELDS)
EVENT_HISTORY = EVENT_FIELDS


def _replace_parties(agreement: Agreement, plan: list, recorder: Recorder) -> list:
    """Make the planned parties the agreement's, recording each change; new parties in one
    INSERT. Returns the parties now, each with its acts: ``(party, acts)``."""
    existing = {
        p.code: p
        for p in agreement.parties.select_related("nation", "organization").prefetch_related("acts")
    }
    steps, new = [], []
    for code, party, acts in plan:
        current = existing.pop(code, None)
        if current is None:
            party.pk = None
            party.agreement = agreement
            new.append(party)
            steps.append((party, acts, None, None))
            continue
        before = snapshot(current, PARTY_HISTORY)
        for name in PARTY_FIELDS:
            setattr(current, name, getattr(party, name))
        after = snapshot(current, PARTY_HISTORY)
        if after != before:
            current.save(update_fields=list(PARTY_FIELDS))
        steps.append((current, acts, before, after))
    AgreementParty.objects.bulk_create(new)
    now = []
    for party, acts, before, after in steps:
        if before is None:
            recorder.created(party, snapshot(party, PARTY_HISTORY), related=agreement)
            stored = write_acts(party, acts, [], agreement, recorder)
        else:
            recorder.updated(party, before, after, related=agreement)
            stored = write_acts(party, acts, list(party.acts.all()), agreement, recorder)
        now.append((party, stored))
    for leftover in existing.values():
        for act in leftover.acts.all():
            recorder.deleted(act, snapshot(act, ACT_FIELDS), related=agreement)
        recorder.deleted(leftover, snapshot(leftover, PARTY_HISTORY), related=agreement)
        leftover.delete()
    return now


def _replace_provisions(agreement: Agreement, plan: list, actor, recorder: Recorder) -> None:
    visible = Provision.objects.filter(agreement=agreement)
    if actor is not None:
        visible = visible.visible_to(actor)
    remaining = {p.pk: p for p in visible}
    steps, new = [], []
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
            new.append(provision)
            steps.append((provision, None, None))
            continue
        before = snapshot(current, PROVISION_FIELDS)
        for name in PROVISION_FIELDS:
            setattr(current, name, getattr(provision, name))
        after = snapshot(current, PROVISION_FIELDS)
        if after != before:
            current.save()
            if Classification.rank(after["classification"]) > Classification.rank(
                before["classification"]
            ):
                raise_records(current, after["classification"], include_related=False)
                raise_provision_link_records(current, after["classification"], before)
        steps.append((current, before, after))
    _insert_provisions(new)
    for provision, before, after in steps:
        if before is None:
            recorder.created(
                provision,
                snapshot(provision, PROVISION_FIELDS),
                related=agreement,
                levels=[provision.classification],
            )
        else:
            recorder.updated(
                provision,
                before,
                after,
                related=agreement,
                levels=[before["classification"], after["classification"]],
                bump_from=lowest(before["classification"], after["classification"]),
            )
    for leftover in remaining.values():
        recorder.deleted(
            leftover,
            snapshot(leftover, PROVISION_FIELDS),
            related=agreement,
            levels=[leftover.classification],
        )
        leftover.delete()


# Up to this many new provisions, their search vectors are computed in the INSERT (one round
# trip); more, and one UPDATE from their columns is cheaper than an expression per row.
VECTORS_IN_INSERT = 50


def _insert_provisions(provisions: list, agreements: list | None = None) -> None:
    """One INSERT for new provisions, with the search vector ``Provision.save`` stores
    (PostgreSQL; on SQLite the FTS5 table follows by trigger): in the INSERT for a few, by
    one UPDATE from their columns for many. ``agreements``: when the provisions are all
    those of these (new) agreements, which then name them in the UPDATE."""
    if not provisions:
        return
    postgres = uses_postgres(Provision.objects.db)
    in_insert = postgres and len(provisions) <= VECTORS_IN_INSERT
    for provision in provisions:
        provision.search_vector = provision_vector(provision) if in_insert else None
    Provision.objects.bulk_create(provisions)
    for provision in provisions:
        provision.search_vector = None  # stored in the row; not kept in memory
    if not postgres or in_insert:
        return
    if agreements is not None:
        new = Provision.objects.filter(agreement__in=agreements)
    else:
        new = Provision.objects.filter(pk__in=[p.pk for p in provisions])
    new.update(search_vector=PROVISION_VECTOR)


def _replace_events(agreement: Agreement, plan: list, recorder: Recorder, *, keep: bool) -> None:
    """Write the planned events; unless ``keep``, delete the agreement's other events. An
    event given without an id takes the place of a current one of the same kind and date
    (so re-importing a file changes nothing), as provisions do by category, title and
    article."""
    remaining = {} if keep else {e.pk: e for e in agreement.events.all()}
    steps, new = [], []
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
            new.append(event)
            steps.append((event, None, None))
            continue
        before = snapshot(current, EVENT_HISTORY)
        for name in EVENT_FIELDS:
            setattr(current, name, getattr(event, name))
        after = snapshot(current, EVENT_HISTORY)
        if after != before:
            current.save(update_fields=list(EVENT_FIELDS))
        steps.append((current, before, after))
    AgreementEvent.objects.bulk_create(new)
    for event, before, after in steps:
        if before is None:
            recorder.created(event, snapshot(event, EVENT_HISTORY), related=agreement)
        else:
            recorder.updated(event, before, after, related=agreement)
    for leftover in remaining.values():
        recorder.deleted(leftover, snapshot(leftover, EVENT_HISTORY), related=agreement)
        leftover.delete()


# The agreement aggregate ------------------------------------------------------------------


@dataclass
class _Checked:
    """One agreement write that passed every check, not written yet."""

    agreement: Agreement
    creating: bool
    generated: bool
    actor: Any
    fields_before: dict
    links_before: dict
    watchers_before: list
    contacts_before: list
    level_before: str | None
    watchers: list | None
    contacts: list | None
    party_plan: list | None
    provision_plan: list | None
    event_plan: list | None
    added_plan: list | None


def _check(
    *,
    agreement,
    actor,
    expected_version,
    parties,
    provisions,
    events,
    add_events,
    watchers,
    contact_ids,
    fields,
    pending=None,
    partners=None,
    free_references=frozenset(),
) -> _Checked:
    """Every check of ``agreement_save``, before anything is written (the agreement's row
    is locked for a change). Raises the ValidationError of everything found."""
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
        _validate_agreement(agreement, actor, errors, pending, free_references)

    _merge(errors, _people_errors(agreement, before, rows["watchers"], creating))
    contacts = None
    if rows["contact_ids"] is not None:
        contacts = _contacts_by_id(rows["contact_ids"], errors)

    party_plan = None
    if rows["parties"] is not None or creating:
        party_plan, party_errors = _build_parties(agreement, rows["parties"] or [], partners)
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
    if creating:
        # A new agreement has no provisions or events an id could name.
        for name, plan in (("provision", provision_plan), ("event", event_plan)):
            named = next((row_id for row_id, _ in plan or () if row_id), None)
            if named:
                raise ValidationError({f"{name}s": [f"No {name} {named} here."]})
    return _Checked(
        agreement=agreement,
        creating=creating,
        generated=generated,
        actor=actor,
        fields_before=before,
        links_before=before_links,
        watchers_before=before_watchers,
        contacts_before=before_contacts,
        level_before=before_level,
        watchers=rows["watchers"],
        contacts=contacts,
        party_plan=party_plan,
        provision_plan=provision_plan,
        event_plan=event_plan,
        added_plan=added_plan,
    )


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
    for the rest of the transaction. A caller that shows what was written reads it again
    (the API answers with ``agreement_detail``, as a read does)."""
    checked = _check(
        agreement=agreement,
        actor=actor,
        expected_version=expected_version,
        parties=parties,
        provisions=provisions,
        events=events,
        add_events=add_events,
        watchers=watchers,
        contact_ids=contact_ids,
        fields=fields,
    )
    if validate_only:
        return None
    if checked.creating:
        _create([checked], source=source)
        return checked.agreement
    _update(checked, source=source)
    return checked.agreement


class AgreementBatch:
    """New agreements written together, as ``agreement_save`` writes one (an import's
    batch): ``add`` checks one (``agreement_save``'s arguments, without ``agreement``) and
    raises its ValidationError, or keeps it; ``save`` writes those kept with a few bulk
    INSERTs for the lot (agreements, parties, acts, periods, provisions, events, watchers,
    contacts, search documents), one UPDATE of their versions and ONE insert of every
    change record. The records are those ``agreement_save`` would have written one by one.
    References given or generated in the batch count as taken for the next ones; partners
    found by code are remembered (``know_partners`` reads a whole file's at once). Call
    inside a transaction.

    ``free_references``: references the caller has found free (the import looks up all of
    its file's at the start, 500 a query), which are not looked up again for each agreement.
    The unique index still holds them: one taken by another writer in the meantime fails
    the batch's insert with an ``IntegrityError``."""

    def __init__(self, *, actor=None, source: str = "", free_references=frozenset()):
        self.actor, self.source = actor, source
        self.free_references = free_references
        self.checked: list[_Checked] = []
        self.references: set[str] = set()
        self._partners: dict = {}

    def know_partners(self, codes) -> None:
        """Find the partners of ``codes`` now, in a few queries, rather than as rows name
        them."""
        missing = sorted({code for code in codes if code not in self._partners})
        if missing:
            self._partners.update(partners_by_codes(missing))

    def __len__(self) -> int:
        return len(self.checked)

    def add(
        self,
        *,
        parties=None,
        provisions=None,
        events=None,
        add_events=None,
        watchers=None,
        contact_ids=None,
        **fields,
    ) -> Agreement:
        checked = _check(
            agreement=None,
            actor=self.actor,
            expected_version=None,
            parties=parties,
            provisions=provisions,
            events=events,
            add_events=add_events,
            watchers=watchers,
            contact_ids=contact_ids,
            fields=fields,
            pending=self.references,
            partners=self._partners,
            free_references=self.free_references,
        )
        self.checked.append(checked)
        self.references.add(checked.agreement.reference)
        return checked.agreement

    def save(self) -> list[Agreement]:
        checked, self.checked, self.references = self.checked, [], set()
        if checked:
            with transaction.atomic(savepoint=False):
                _create(checked, source=self.source)
        return [c.agreement for c in checked]


# Writing -----------------------------------------------------------------------------------


def _insert_agreements(checked: list[_Checked]) -> None:
    """One INSERT for the new agreements; a generated reference that another writer took
    in the meantime is generated again (in a savepoint, only when one was generated)."""
    agreements = [c.agreement for c in checked]
    for agreement in agreements:
        agreement.notice_deadline = agreement.compute_notice_deadline()  # as save() does
    if not any(c.generated for c in checked):
        Agreement.objects.bulk_create(agreements)
        return
    for attempt in range(5):
        try:
            with transaction.atomic():
                Agreement.objects.bulk_create(agreements)
            return
        except IntegrityError:
            if attempt == 4:
                raise
            for agreement in agreements:
                agreement.pk = None
            given = {c.agreement.reference for c in checked if not c.generated}
            for c in checked:
                if c.generated:
                    c.agreement.reference = generate_reference(c.agreement, given)
                    given.add(c.agreement.reference)


def _watcher_labels(wanted: dict) -> list:
    """The labels of the watchers (users or ids) named in a write, read only for ids."""
    users = [w for w in wanted.values() if hasattr(w, "get_username")]
    ids = [pk for pk, w in wanted.items() if not hasattr(w, "get_username")]
    if ids:
        users += list(get_user_model().objects.filter(pk__in=ids))
    return sorted(label(u) for u in users)


def _agreement_changes(checked: _Checked) -> dict:
    """The agreement's own record of the write: its fields, watchers and contacts."""
    agreement, before = checked.agreement, checked.fields_before
    after = snapshot(agreement, AGREEMENT_FIELDS)
    changes = {name: [before.get(name), value] for name, value in after.items()}
    return {name: pair for name, pair in changes.items() if pair[0] != pair[1]}


def _linked_levels(checked: _Checked, changes: dict) -> list:
    """A record names a linked agreement only when the link itself changed."""
    agreement = checked.agreement
    linked = [
        getattr(checked.links_before.get(n), "classification", None) for n in LINKS if n in changes
    ]
    linked += [
        getattr(getattr(agreement, n), "classification", None) for n in LINKS if n in changes
    ]
    return linked


def _create(checked: list[_Checked], *, source: str) -> None:
    """Write new agreements with their children: one INSERT per kind of row for them all,
    then close the writes together (``_finish_created``)."""
    _insert_agreements(checked)
    parties, acts, provisions, events = [], [], [], []
    for c in checked:
        agreement = c.agreement
        for _, party, _ in c.party_plan:
            party.pk = None
            party.agreement = agreement
            parties.append(party)
        for _, provision in c.provision_plan or ():
            provision.agreement = agreement
            provisions.append(provision)
        for _, event in [*(c.event_plan or ()), *(c.added_plan or ())]:
            event.pk = None
            event.agreement = agreement
            events.append(event)
    AgreementParty.objects.bulk_create(parties)
    for c in checked:
        for _, party, planned in c.party_plan:
            for act in planned:
                act.pk = None
                act.party = party
                acts.append(act)
    PartyAct.objects.bulk_create(acts)
    periods = []
    for c in checked:
        periods += periods_of(c.agreement, [(party, a) for _, party, a in c.party_plan])
    PartyPeriod.objects.bulk_create(periods)
    _insert_provisions(provisions, [c.agreement for c in checked])
    AgreementEvent.objects.bulk_create(events)

    watcher_rows, contact_rows, written = [], [], []
    watchers_through = Agreement.watchers.through
    contacts_through = Agreement.contacts.through
    for c in checked:
        agreement = c.agreement
        recorder = Recorder(actor=c.actor, source=source, floor=agreement.classification)
        changes = _agreement_changes(c)
        if c.watchers is not None:
            wanted = {getattr(w, "pk", w): w for w in c.watchers}
            after_watchers = _watcher_labels(wanted)
            if after_watchers:
                watcher_rows += [
                    watchers_through(agreement_id=agreement.pk, user_id=pk) for pk in wanted
                ]
                changes["watchers"] = [[], after_watchers]
        if c.contacts:
            contact_rows += [
                contacts_through(agreement_id=agreement.pk, pointofcontact_id=contact.pk)
                for contact in c.contacts
            ]
            changes["contacts"] = [[], sorted(contact_label(x) for x in c.contacts)]
        linked = _linked_levels(c, changes)
        changes = {k: v for k, v in changes.items() if v[1] not in (None, "", [], False)}
        recorder.add(agreement, "create", changes, levels=linked)
        for _, party, planned in c.party_plan:
            recorder.created(party, snapshot(party, PARTY_HISTORY), related=agreement)
            for act in planned:
                recorder.created(act, snapshot(act, ACT_FIELDS), related=agreement)
        new_provisions = [provision for _, provision in c.provision_plan or ()]
        for provision in new_provisions:
            recorder.created(
                provision,
                snapshot(provision, PROVISION_FIELDS),
                related=agreement,
                levels=[provision.classification],
            )
        new_events = [event for _, event in [*(c.event_plan or ()), *(c.added_plan or ())]]
        for event in new_events:
            recorder.created(event, snapshot(event, EVENT_HISTORY), related=agreement)
        written.append((agreement, recorder, new_provisions))
    watchers_through.objects.bulk_create(watcher_rows)
    contacts_through.objects.bulk_create(contact_rows)
    _finish_created(written)


def _update(checked: _Checked, *, source: str) -> None:
    """Write a change to an existing agreement and its children, and close it."""
    agreement, actor = checked.agreement, checked.actor
    before_level = checked.level_before
    recorder = Recorder(
        actor=actor, source=source, floor=highest(before_level, agreement.classification)
    )
    if snapshot(agreement, AGREEMENT_FIELDS) != checked.fields_before:
        agreement.save()
    changes = _agreement_changes(checked)
    if checked.watchers is not None:
        wanted = {getattr(w, "pk", w): w for w in checked.watchers}
        after_watchers = _watcher_labels(wanted)
        if after_watchers != checked.watchers_before:
            agreement.watchers.set(list(wanted))
            changes["watchers"] = [checked.watchers_before, after_watchers]
    if checked.contacts is not None:
        after_contacts = sorted(contact_label(c) for c in checked.contacts)
        if after_contacts != checked.contacts_before:
            agreement.contacts.set(checked.contacts)
            changes["contacts"] = [checked.contacts_before, after_contacts]
    recorder.add(
        agreement,
        "update",
        changes,
        levels=_linked_levels(checked, changes),
        bump_from=lowest(before_level, agreement.classification),
    )

    parties = None
    if checked.party_plan is not None:
        parties = _replace_parties(agreement, checked.party_plan, recorder)
    if checked.party_plan is not None or "entered_into_force_on" in changes:
        rebuild_periods(agreement, parties)
    if checked.provision_plan is not None:
        _replace_provisions(agreement, checked.provision_plan, actor, recorder)
    if checked.event_plan is not None:
        _replace_events(agreement, checked.event_plan, recorder, keep=False)
    if checked.added_plan is not None:
        _replace_events(agreement, checked.added_plan, recorder, keep=True)

    if Classification.rank(agreement.classification) > Classification.rank(before_level):
        references = {checked.fields_before.get("reference"), agreement.reference}
        _raise_agreement_records(agreement, references)
    _finish(agreement, recorder)


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
