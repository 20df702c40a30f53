"""One child of an agreement at a time: a provision (the provision admin), a review, an
event. Each locks its agreement and closes the write like ``agreement_save``."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.choices import Classification
from accounts.clearance import lowest
from engagements.link_history import raise_provision_link_records
from history.recorder import Recorder, plain, raise_records, snapshot

from ..choices import EventKind
from ..dates import add_months
from ..models import Agreement, AgreementEvent, AgreementParty, Provision, Review
from .agreements import EVENT_HISTORY, agreement_save
from .common import PROVISION_FIELDS, REVIEW_FIELDS, _finish, check_clearance, coerce_fields

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
        recorder.updated(
            current,
            before,
            after,
            related=agreement,
            levels=levels,
            bump_from=lowest(*levels),
        )
        if Classification.rank(after["classification"]) > Classification.rank(
            before["classification"]
        ):
            raise_records(current, after["classification"], include_related=False)
            raise_provision_link_records(current, after["classification"], before)
    _finish(agreement, recorder)
    return current


@transaction.atomic
def provision_delete(*, provision: Provision, actor=None, source: str = "") -> None:
    provision = Provision.objects.get(pk=provision.pk)
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
    """Correct a recorded review (its date, reviewer, outcome or notes; a review stays with
    the agreement it was recorded on)."""
    current = Review.objects.select_related("reviewer").get(pk=review.pk)
    agreement = Agreement.objects.select_for_update().get(pk=current.agreement_id)
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
    review = Review.objects.get(pk=review.pk)
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


# One party's acts (the party admin) --------------------------------------------------------


@transaction.atomic
def party_acts_save(
    *,
    party: AgreementParty,
    acts,
    actor=None,
    source: str = "",
    expected_version: int | None = None,
    validate_only: bool = False,
):
    """Make ``acts`` all of one party's acts, through ``agreement_save``: the agreement is
    checked as a whole, its periods follow and the change is recorded. Errors are keyed as
    for that party alone (``acts[1].date``). ``expected_version`` is the agreement's version
    the caller read (``StaleVersion`` when it moved). Returns the party.

    The agreement's row is locked before its parties are listed (the list is handed on as
    the full set), so a party another writer adds meanwhile is waited for, never dropped."""
    agreement = Agreement.objects.select_for_update(of=("self",)).get(pk=party.agreement_id)
    rows, index = [], None
    for position, other in enumerate(agreement.parties.select_related("nation", "organization")):
        if other.pk == party.pk:
            index = position
            rows.append({"code": other.code, "acts": list(acts)})
        else:
            rows.append(other.code)
    if index is None:
        raise ValidationError("This party is no longer on the agreement: reload the page.")
    try:
        agreement_save(
            agreement=agreement,
            actor=actor,
            source=source,
            expected_version=expected_version,
            parties=rows,
            validate_only=validate_only,
        )
    except ValidationError as exc:
        prefix = f"parties[{index}]."
        errors: dict[str, list[str]] = {}
        for key, messages in exc.message_dict.items():
            key = key[len(prefix) :] if key.startswith(prefix) else "__all__"
            errors.setdefault(key, []).extend(messages)
        raise ValidationError(errors) from None
    if validate_only:
        return None
    return AgreementParty.objects.get(agreement=agreement, pk=party.pk)
