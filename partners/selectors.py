from __future__ import annotations

from django.db.models.functions import Upper

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


def partners_by_codes(codes) -> dict[str, Nation | Organization]:
    """The partners named by ``codes`` (as ``partner_by_code`` reads them), keyed by the code
    as given; two queries whatever the number of codes."""
    wanted = {code: (code or "").strip() for code in codes}
    alpha3 = {c.upper() for c in wanted.values() if len(c) == 3 and c.isalpha()}
    nations = {n.iso3: n for n in Nation.objects.filter(iso3__in=alpha3)} if alpha3 else {}
    rest = {c.upper() for c in wanted.values() if c and c.upper() not in nations}
    organizations = {}
    if rest:
        matching = Organization.objects.annotate(code_upper=Upper("acronym"))
        organizations = {o.code_upper: o for o in matching.filter(code_upper__in=rest)}
    found = {}
    for code, clean in wanted.items():
        partner = nations.get(clean.upper()) or organizations.get(clean.upper())
        if clean and partner is not None:
            found[code] = partner
    return found
