"""Every write to agreements, parties, provisions, reviews and events goes through here.

The admin, the import command, the API and the Celery tasks call these functions, so each
rule of the registry holds whichever way a record is written. Errors are ``ValidationError``
dicts keyed by field (``parties[1].withdrawn_on`` for a nested row).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.choices import Classification
from partners.selectors import partner_by_code

from .choices import AgreementStatus, EventKind
from .dates import add_months
from .history import acting_as
from .models import Agreement, AgreementEvent, AgreementParty, Provision, Review

AGREEMENT_FIELDS = (
    "reference",
    "title",
    "short_title",
    "summary",
    "source_url",
    "type",
    "status",
    "classification",
    "signed_on",
    "entered_into_force_on",
    "expires_on",
    "terminated_on",
    "auto_renews",
    "renewal_period_months",
    "notice_period_days",
    "notice_given_on",
    "next_review_on",
    "review_interval_months",
    "office_email",
    "supersedes",
    "parent",
    "owner",
    "reminder_offsets",
)
PARTY_FIELDS = ("signed_on", "ratified_on", "entered_into_force_on", "withdrawn_on")
PROVISION_FIELDS = ("category", "title", "article", "text", "classification")


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
    codes = [c for c in codes if c]
    errors = []
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        errors.append(f"A party appears more than once: {', '.join(duplicates)}.")
    if status not in AgreementStatus.pre_signature() and len(set(codes)) < 2:
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


# Agreements ------------------------------------------------------------------------------


def _build_parties(agreement: Agreement, parties: Iterable[Mapping]) -> tuple[list, dict]:
    built, errors = [], {}
    for index, data in enumerate(parties):
        prefix = f"parties[{index}]"
        data = dict(data)
        code = str(data.pop("code", "") or "").strip()
        unknown = set(data) - set(PARTY_FIELDS)
        if unknown:
            errors[prefix] = [f"Unknown field(s): {', '.join(sorted(unknown))}."]
            continue
        values, field_errors = coerce_fields(AgreementParty, data, prefix)
        _merge(errors, field_errors)
        partner = partner_by_code(code)
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
        built.append((partner.code, party))
    return built, errors


def _build_provisions(agreement, provisions: Iterable[Mapping], actor) -> tuple[list, dict]:
    built, errors = [], {}
    for index, data in enumerate(provisions):
        prefix = f"provisions[{index}]"
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


def _apply_fields(agreement: Agreement, fields: Mapping[str, Any]) -> tuple[bool, dict]:
    unknown = set(fields) - set(AGREEMENT_FIELDS) - {"watchers"}
    if unknown:
        return False, {name: ["Unknown field."] for name in sorted(unknown)}
    plain = {k: v for k, v in fields.items() if k != "watchers"}
    values, errors = coerce_fields(Agreement, plain)
    changed = False
    for name, value in values.items():
        field = Agreement._meta.get_field(name)
        attname = field.attname
        current = getattr(agreement, attname)
        new = value.pk if (field.is_relation and value is not None) else value
        if field.is_relation:
            if current != new:
                setattr(agreement, name, value)
                changed = True
        elif current != new:
            setattr(agreement, attname, new)
            changed = True
    return changed, errors


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


def _save_agreement(agreement: Agreement) -> None:
    """Save, retrying a generated reference that another writer took in the meantime."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                agreement.save()
            return
        except IntegrityError:
            if attempt == 4 or not agreement._generated_reference:
                raise
            agreement.reference = generate_reference(agreement)


@transaction.atomic
def agreement_create(
    *,
    actor=None,
    parties: Iterable[Mapping] = (),
    provisions: Iterable[Mapping] = (),
    watchers: Iterable = (),
    source: str = "",
    **fields,
) -> Agreement:
    """Create an agreement with its parties and provisions, all or nothing."""
    agreement = Agreement()
    _, errors = _apply_fields(agreement, fields)
    agreement._generated_reference = not agreement.reference
    if not errors:
        _validate_agreement(agreement, actor, errors)
    built_parties, party_errors = _build_parties(agreement, parties)
    _merge(errors, party_errors)
    if not party_errors:
        messages = party_set_errors(agreement.status, [code for code, _ in built_parties])
        if messages:
            errors.setdefault("parties", []).extend(messages)
    built_provisions, provision_errors = _build_provisions(agreement, provisions, actor)
    _merge(errors, provision_errors)
    if errors:
        raise ValidationError(errors)
    with acting_as(actor, source):
        _save_agreement(agreement)
        if watchers:
            agreement.watchers.set(watchers)
        for _, party in built_parties:
            party.agreement = agreement
            party.save()
        for _, provision in built_provisions:
            provision.agreement = agreement
            provision.save()
    return agreement


class StaleVersion(Exception):
    """The agreement changed since the caller read it (an ``If-Match`` that no longer holds)."""


@transaction.atomic
def agreement_update(
    *,
    agreement: Agreement,
    actor=None,
    expected_version: int | None = None,
    parties: Iterable[Mapping] | None = None,
    provisions: Iterable[Mapping] | None = None,
    watchers: Iterable | None = None,
    source: str = "",
    **fields,
) -> Agreement:
    """Change an agreement; ``parties`` and ``provisions``, when given, replace the current
    ones (provisions above the actor's clearance are left alone, and so are ``supersedes`` and
    ``parent`` when they point at an agreement above it). Nothing changes unless everything
    is valid. Returns the agreement; its version goes up only if something changed.
    """
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if expected_version is not None and agreement.version != expected_version:
        raise StaleVersion(agreement.version)
    if not fields.get("reference", True):
        fields.pop("reference")  # blank: keep the current one (generated only on create)
    if actor is not None:
        for name in ("supersedes", "parent"):
            target = getattr(agreement, name)
            if target is not None and not actor.is_cleared_for(target.classification):
                fields.pop(name, None)
    changed, errors = _apply_fields(agreement, fields)
    if not errors:
        _validate_agreement(agreement, actor, errors)
    agreement._generated_reference = False

    party_plan = None
    if parties is not None:
        built_parties, party_errors = _build_parties(agreement, parties)
        _merge(errors, party_errors)
        codes = [c for c, _ in built_parties]
        if not party_errors:
            party_plan = built_parties
    else:
        codes = [p.code for p in agreement.parties.select_related("nation", "organization")]
    if parties is None or party_plan is not None:
        messages = party_set_errors(agreement.status, codes)
        if messages:
            errors.setdefault("parties", []).extend(messages)

    provision_plan = None
    if provisions is not None:
        provision_plan, provision_errors = _build_provisions(agreement, provisions, actor)
        _merge(errors, provision_errors)
    if errors:
        raise ValidationError(errors)

    with acting_as(actor, source):
        if party_plan is not None:
            changed |= _replace_parties(agreement, party_plan)
        if provision_plan is not None:
            changed |= _replace_provisions(agreement, provision_plan, actor)
        if watchers is not None:
            current = set(agreement.watchers.values_list("pk", flat=True))
            wanted = {getattr(w, "pk", w) for w in watchers}
            if current != wanted:
                agreement.watchers.set(wanted)
                changed = True
        if changed:
            agreement.version += 1
            agreement.save()
    return agreement


def _replace_parties(agreement: Agreement, plan: list) -> bool:
    changed = False
    existing = {p.code: p for p in agreement.parties.select_related("nation", "organization")}
    for code, party in plan:
        current = existing.pop(code, None)
        if current is None:
            party.agreement = agreement
            party.save()
            changed = True
            continue
        diff = [f for f in PARTY_FIELDS if getattr(current, f) != getattr(party, f)]
        if diff:
            for f in diff:
                setattr(current, f, getattr(party, f))
            current.save()
            changed = True
    for leftover in existing.values():
        leftover.delete()
        changed = True
    return changed


def _replace_provisions(agreement: Agreement, plan: list, actor) -> bool:
    changed = False
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
            changed = True
            continue
        diff = [f for f in PROVISION_FIELDS if getattr(current, f) != getattr(provision, f)]
        if diff:
            for f in diff:
                setattr(current, f, getattr(provision, f))
            current.save()
            changed = True
    for leftover in remaining.values():
        leftover.delete()
        changed = True
    return changed


def agreement_save(*, agreement: Agreement, actor=None, bump_version: bool = True) -> Agreement:
    """Validate and save an agreement edited field by field (the admin form does this)."""
    errors: dict = {}
    _validate_agreement(agreement, actor, errors)
    if errors:
        raise ValidationError(errors)
    with acting_as(actor):
        if agreement.pk and bump_version:
            agreement.version += 1
        agreement._generated_reference = False
        _save_agreement(agreement)
    return agreement


def agreement_bump_version(*, agreement: Agreement) -> None:
    Agreement.objects.filter(pk=agreement.pk).update(version=F("version") + 1)
    agreement.refresh_from_db(fields=["version"])


@transaction.atomic
def agreement_delete(*, agreement: Agreement, actor=None, source: str = "") -> None:
    with acting_as(actor, source):
        agreement.delete()


# Reviews and events ---------------------------------------------------------------------


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
    """Record a review; the next review moves forward by the agreement's review interval."""
    review = Review(
        agreement=agreement,
        reviewed_on=reviewed_on,
        outcome=outcome,
        notes=notes,
        reviewer=reviewer or actor,
    )
    review.full_clean()
    with acting_as(actor, source):
        review.save()
        if agreement.review_interval_months:
            agreement.next_review_on = add_months(reviewed_on, agreement.review_interval_months)
            agreement.version += 1
            agreement.save(update_fields=["next_review_on", "version", "updated_at"])
        event_record(
            agreement=agreement,
            kind=EventKind.REVIEWED,
            date=reviewed_on,
            note=f"Outcome: {review.get_outcome_display()}",
            actor=actor,
        )
    return review


def event_record(
    *, agreement: Agreement, kind: str, date: datetime.date, note: str = "", actor=None
) -> AgreementEvent:
    event = AgreementEvent(agreement=agreement, kind=kind, date=date, note=note, created_by=actor)
    event.full_clean()
    event.save()
    return event
