"""The one clearance rule, shared by every app: a record is visible when its classification is
at or below the user's clearance; superusers see everything, the anonymous and the inactive
nothing."""

from __future__ import annotations

from django.db import models

from .choices import Classification


def levels_for(user) -> list[str] | None:
    """The classifications ``user`` may see; None means every level (superuser)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    return Classification.up_to(user.clearance)


def _is_level(value) -> bool:
    try:
        Classification.rank(value)
    except ValueError:
        return False
    return True


def highest(*levels: str | None) -> str:
    """The most sensitive of ``levels`` (unclassified when none is given)."""
    known = [level for level in levels if _is_level(level)]
    return max(known, key=Classification.rank, default=Classification.UNCLASSIFIED)


def lowest(*levels: str | None) -> str:
    """The least sensitive of ``levels`` (unclassified when none is given)."""
    known = [level for level in levels if _is_level(level)]
    return min(known, key=Classification.rank, default=Classification.UNCLASSIFIED)


def level_of(user) -> str:
    """The highest classification ``user`` may see (secret for a superuser)."""
    levels = levels_for(user)
    if levels is None:
        return Classification.SECRET
    return levels[-1] if levels else ""


class ClassifiedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Records at or below the user's clearance. Every read path goes through this."""
        levels = levels_for(user)
        if levels is None:
            return self
        return self.filter(classification__in=levels)
