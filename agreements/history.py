"""Change history for agreements, parties, provisions and reviews.

Signals record every create, change and delete, whoever makes it: a web request (the actor
comes from ``ActorMiddleware``), a service call with an explicit actor, or a management
command or task (``acting_as(None, source="...")``). Each record keeps the values before and
after, field by field.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
from contextvars import ContextVar
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save

from accounts.choices import Classification

from .choices import ChangeAction


@dataclass(frozen=True)
class Actor:
    user: object | None
    source: str


_actor: ContextVar[Actor | None] = ContextVar("history_actor", default=None)

# Values worth showing instead of a bare id.
_LOOKUPS = {
    "nation": "nation__iso3",
    "organization": "organization__acronym",
    "owner": "owner__username",
    "supersedes": "supersedes__reference",
    "parent": "parent__reference",
    "reviewer": "reviewer__username",
}
_SKIPPED = {"id", "version", "created_at", "updated_at", "notice_deadline", "agreement"}
_SKIPPED |= {"search_vector"}


@contextlib.contextmanager
def acting_as(user, source: str = ""):
    """Attribute every change made inside the block to ``user``; ``None`` keeps an outer
    actor (a request) or, with none, attributes the change to the system ``source``."""
    current = _actor.get()
    if user is None and current is not None:
        yield
        return
    token = _actor.set(Actor(user, source or (current.source if current else "system")))
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> Actor:
    return _actor.get() or Actor(None, "system")


class ActorMiddleware:
    """Attributes changes made during a request to the signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # request.user stays lazy: it is only looked at when a change is recorded.
        token = _actor.set(Actor(getattr(request, "user", None), "web"))
        try:
            return self.get_response(request)
        finally:
            _actor.reset(token)


def _tracked_fields(model) -> list[str]:
    return [
        _LOOKUPS.get(f.name, f.attname)
        for f in model._meta.concrete_fields
        if f.name not in _SKIPPED
    ]


def _snapshot(instance) -> dict:
    model = type(instance)
    row = model._base_manager.filter(pk=instance.pk).values(*_tracked_fields(model)).first()
    if row is None:
        return {}
    return {key.split("__")[0].removesuffix("_id"): _plain(value) for key, value in row.items()}


def _plain(value):
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _agreement_of(instance):
    from .models import Agreement

    return instance if isinstance(instance, Agreement) else instance.agreement


def _classification_of(instance, changes: dict) -> str:
    """The most sensitive classification the record reveals: its agreement's, a provision's
    own, and that of any agreement it names as ``supersedes`` or ``parent``."""
    from .models import Agreement, Provision

    agreement = _agreement_of(instance)
    levels = [agreement.classification]
    if isinstance(instance, Provision):
        levels.append(instance.classification)
    linked = {
        reference
        for field in ("supersedes", "parent")
        for reference in changes.get(field, ())
        if reference
    }
    if linked:
        levels += Agreement.objects.filter(reference__in=linked).values_list(
            "classification", flat=True
        )
    return max(levels, key=Classification.rank)


def _record(instance, action: str, changes: dict) -> None:
    from .models import ChangeRecord

    agreement = _agreement_of(instance)
    actor = current_actor()
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    ChangeRecord.objects.create(
        agreement_id=agreement.pk,
        agreement_reference=agreement.reference,
        model=type(instance)._meta.model_name,
        object_id=instance.pk,
        object_repr=str(instance)[:300],
        action=action,
        changes=changes,
        classification=_classification_of(instance, changes),
        actor=user,
        source=actor.source,
    )


def _before_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    instance._history_before = _snapshot(instance) if instance.pk else {}


def _after_save(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_history_before", {})
    after = _snapshot(instance)
    if created or not before:
        changes = {k: [None, v] for k, v in after.items() if v not in (None, "", False)}
        _record(instance, ChangeAction.CREATE, changes)
        return
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if changes:
        _record(instance, ChangeAction.UPDATE, changes)
        if "classification" in changes or "reference" in changes:
            _reclassify_records_naming(instance, {before.get("reference"), after.get("reference")})


def _reclassify_records_naming(agreement, references: set) -> None:
    """An agreement raised in classification: the other agreements' history entries that
    name it as ``supersedes`` or ``parent`` now reveal that much too."""
    from .models import Agreement, ChangeRecord

    if not isinstance(agreement, Agreement):
        return
    lower = Classification.values[: Classification.rank(agreement.classification)]
    if not lower:
        return
    candidates = (
        ChangeRecord.objects.filter(model="agreement", classification__in=lower)
        .filter(Q(changes__has_key="supersedes") | Q(changes__has_key="parent"))
        .exclude(agreement_id=agreement.pk)
        .only("pk", "changes")
    )
    naming = [
        record.pk
        for record in candidates
        if references.intersection(
            value
            for field in ("supersedes", "parent")
            for value in (record.changes.get(field) or ())
            if value
        )
    ]
    if naming:
        ChangeRecord.objects.filter(pk__in=naming).update(classification=agreement.classification)


def _before_delete_snapshot(sender, instance, **kwargs):
    instance._history_before = _snapshot(instance)


def _after_delete(sender, instance, **kwargs):
    before = getattr(instance, "_history_before", {})
    changes = {k: [v, None] for k, v in before.items() if v not in (None, "", False)}
    _record(instance, ChangeAction.DELETE, changes)


def _watchers_changed(sender, instance, action, reverse=False, **kwargs):
    """Watchers are a many-to-many field: record the list before and after a change."""
    from .models import Agreement

    if reverse or not isinstance(instance, Agreement):
        return
    names = sorted(instance.watchers.values_list("username", flat=True))
    if action.startswith("pre_"):
        instance._watchers_before = names
    elif action.startswith("post_"):
        before = getattr(instance, "_watchers_before", [])
        if before != names:
            _record(instance, ChangeAction.UPDATE, {"watchers": [before, names]})


def connect_signals() -> None:
    from django.db.models.signals import m2m_changed, pre_delete

    from .models import Agreement, AgreementParty, Provision, Review

    m2m_changed.connect(
        _watchers_changed, sender=Agreement.watchers.through, dispatch_uid="history-watchers"
    )

    for model in (Agreement, AgreementParty, Provision, Review):
        uid = f"history-{model._meta.label_lower}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}-pre-save")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}-post-save")
        pre_delete.connect(_before_delete_snapshot, sender=model, dispatch_uid=f"{uid}-pre-del")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}-post-del")
