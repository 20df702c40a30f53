from __future__ import annotations

from .models import Nation, Organization


def partner_by_code(code: str) -> Nation | Organization | None:
    """The nation (ISO alpha-3, any case) or organization (acronym) with this code."""
    code = (code or "").strip()
    if not code:
        return None
    if len(code) == 3 and code.isalpha():
        nation = Nation.objects.filter(iso3=code.upper()).first()
        if nation is not None:
            return nation
    return Organization.objects.filter(acronym__iexact=code).first()
