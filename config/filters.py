"""Filter building blocks shared by the filter sets of every app."""

from __future__ import annotations

import django_filters


def split_list(value: str) -> list[str]:
    """``"a, b,,c"`` as ``["a", "b", "c"]``."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """``a,b,c``: any of; each value must be one of the choices."""
