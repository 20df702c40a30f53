"""The engagements' change records that name a linked agreement or provision, when that
record is classified higher.

An engagement's record names its links by label (an agreement by reference, a provision as
``REFERENCE: article title``) and is classified at the highest level of the links it names
(``engagements.services._link_changes``). When a linked agreement or provision is later
classified higher, the records naming it would still show it to readers below its new level:
they rise to it, as the agreements' records naming one as ``supersedes`` or ``parent`` do
(``agreements.services.common._raise_agreement_records``). Kept free of the services so that
the agreement services may call it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType

from accounts.choices import Classification
from history.models import ChangeRecord

from .models import Engagement

LINK_FIELDS = ("agreements", "provisions")


def provision_label(reference: str, article: str, title: str) -> str:
    """How an engagement's history names a provision (its agreement's reference first)."""
    return f"{reference}: {f'{article} {title}'.strip()}"


def _names(record: ChangeRecord, field: str) -> set[str]:
    names = set()
    for side in record.changes.get(field) or ():
        names.update(value for value in side or () if isinstance(value, str))
    return names


def raise_link_records(
    level: str, *, references: Iterable[str] = (), provision_labels: Iterable[str] = ()
) -> int:
    """Raise to ``level`` the engagement records below it that name an agreement by one of
    ``references`` (or a provision of it) or a provision by one of ``provision_labels``."""
    lower = Classification.values[: Classification.rank(level)]
    references = {r for r in references if r}
    labels = {p for p in provision_labels if p}
    if not lower or not (references or labels):
        return 0
    prefixes = tuple(f"{reference}: " for reference in references)
    candidates = ChangeRecord.objects.filter(
        changed_object_type=ContentType.objects.get_for_model(Engagement),
        classification__in=lower,
        changes__has_any_keys=list(LINK_FIELDS),
    ).only("pk", "changes")
    naming = []
    for record in candidates:
        provisions = _names(record, "provisions")
        if (
            references & _names(record, "agreements")
            or labels & provisions
            or any(name.startswith(prefixes) for name in provisions)
        ):
            naming.append(record.pk)
    if naming:
        ChangeRecord.objects.filter(pk__in=naming).update(classification=level)
    return len(naming)


def raise_provision_link_records(provision, level: str, before: dict | None = None) -> int:
    """``provision`` is now classified ``level``: the engagement records naming it (as it is
    called now, or as ``before`` called it) rise to it."""
    reference = provision.agreement.reference
    labels = {provision_label(reference, provision.article, provision.title)}
    if before:
        labels.add(provision_label(reference, before.get("article", ""), before.get("title", "")))
    return raise_link_records(level, provision_labels=labels)
