"""Writes to nations, organizations and memberships (the reference data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from .models import Membership, Nation, Organization


def _upsert(model, lookup: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[Any, str]:
    """Create or update one row; returns it with "created", "updated" or "unchanged"."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()
        obj.save()
        return obj, "created"
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, "unchanged"
    for name in changed:
        setattr(obj, name, values[name])
    obj.full_clean()
    obj.save(update_fields=changed)
    return obj, "updated"


def nation_upsert(*, iso3: str, **values) -> tuple[Nation, str]:
    return _upsert(Nation, {"iso3": iso3.upper()}, values)


def organization_upsert(*, acronym: str, **values) -> tuple[Organization, str]:
    return _upsert(Organization, {"acronym": acronym}, values)


@transaction.atomic
def membership_upsert(
    *, organization: Organization, nation: Nation, joined_on=None, left_on=None
) -> tuple[Membership, str]:
    return _upsert(
        Membership,
        {"organization": organization, "nation": nation, "joined_on": joined_on},
        {"left_on": left_on},
    )
