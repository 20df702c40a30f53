from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Upper

from .models import Nation, Organization, PointOfContact, Posting, postings_in_order


def nations_with_lineage(queryset: QuerySet[Nation] | None = None) -> QuerySet[Nation]:
    """``queryset`` (all nations by default) with each nation's successor and predecessor
    states loaded, by name: two more queries whatever the number of nations."""
    queryset = Nation.objects.all() if queryset is None else queryset
    return queryset.prefetch_related(
        Prefetch("successors", queryset=Nation.objects.order_by("name")),
        Prefetch("predecessors", queryset=Nation.objects.order_by("name")),
    )


def existence_error(nation: Nation, day: datetime.date | None) -> str | None:
    """Why ``nation`` cannot act on ``day`` (it did not exist yet, or had ceased to exist),
    or None when it existed that day (``Nation.existed_on``) or no day is given."""
    if day is None or nation.existed_on(day):
        return None
    if nation.valid_to is not None and day > nation.valid_to:
        return f"{nation.name} ceased to exist on {nation.valid_to.isoformat()}."
    return f"{nation.name} came into being only on {nation.valid_from.isoformat()}."


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


# Codes looked up in one statement, at most (SQLite bounds a statement's variables).
CODES_PER_QUERY = 500


def partners_by_codes(codes) -> dict[str, Nation | Organization]:
    """The partners named by ``codes`` (as ``partner_by_code`` reads them), keyed by the code
    as given; two queries per ``CODES_PER_QUERY`` distinct codes."""
    codes = list(dict.fromkeys(codes))
    if len(codes) > CODES_PER_QUERY:
        found = {}
        for start in range(0, len(codes), CODES_PER_QUERY):
            found.update(partners_by_codes(codes[start : start + CODES_PER_QUERY]))
        return found
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


def contacts_for(user, *, with_agreements: bool = False) -> QuerySet[PointOfContact]:
    """Points of contact with their nations and postings loaded (contacts carry no
    classification: every reader with the view permission sees them all); with
    ``with_agreements``, the agreements each is responsible for that ``user`` may see, as
    ``visible_agreements``. A fixed number of queries whatever the number of contacts."""
    queryset = PointOfContact.objects.select_related("represents", "posted_to").prefetch_related(
        Prefetch("postings", queryset=Posting.objects.select_related("nation", "organization"))
    )
    if with_agreements:
        # The agreements model, reached through the link (partners never imports agreements).
        agreement = PointOfContact._meta.get_field("agreements").related_model
        queryset = queryset.prefetch_related(
            Prefetch(
                "agreements",
                queryset=agreement.objects.visible_to(user).order_by("reference"),
                to_attr="visible_agreements",
            )
        )
    return queryset


def contacts_listed(queryset: QuerySet[PointOfContact], today: datetime.date) -> list:
    """The contacts of ``queryset`` as the partner pages list them: each with
    ``ordered_postings`` (the current first, each marked ``is_current``). Three queries."""
    contacts = list(
        queryset.select_related("represents", "posted_to").prefetch_related(
            Prefetch("postings", queryset=Posting.objects.select_related("nation", "organization"))
        )
    )
    for contact in contacts:
        contact.ordered_postings = postings_in_order(contact.postings.all(), today)
        for posting in contact.ordered_postings:
            posting.is_current = posting.active_on(today)
    return contacts


def posted_to_on_day(partner, day: datetime.date) -> QuerySet[PointOfContact]:
    """Contacts with a posting to ``partner`` (a nation or an organization) active on
    ``day``."""
    postings = Posting.objects.active_on(day)
    if isinstance(partner, Organization):
        postings = postings.filter(organization=partner)
    else:
        postings = postings.filter(nation=partner)
    return PointOfContact.objects.filter(pk__in=postings.values("contact_id"))
