"""One search box for the whole registry (``/search/?q=``): agreements, provisions, nations,
organizations and points of contact at once, grouped, each group within the reader's reach.

Every group uses the rule its own list uses, so a group's count is the count its "more"
link shows: agreements through ``AgreementFilterSet``'s ``q`` (full text on PostgreSQL, every
word elsewhere; the provisions searched are those the reader may see), provisions through
``ProvisionFilterSet``'s ``q`` over ``Provision.objects.visible_to``, nations and
organizations through their filter sets' ``q``. Partners are not classified; points of
contact are shown only to those with the permission to view them. ``group=`` shows one group
in full, page by page."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.decorators import registry_page
from partners.filtersets import NationFilterSet, OrganizationFilterSet
from partners.models import Nation, Organization, PointOfContact

from .filtersets import AgreementFilterSet, ProvisionFilterSet
from .models import Provision
from .selectors import CONTACT_PERMISSION, agreements_for, in_force_count

MAX_QUERY_LENGTH = 200
MAX_WORDS = 20
HITS_PER_GROUP = 5
GROUP_PAGE_SIZE = 50


@dataclass
class Group:
    key: str
    label: str  # plural, lower case: "agreements"
    queryset: object
    more_url: str  # the full list of this group's hits
    count: int = 0
    hits: list | None = None
    page: object = None


def _search_url(q: str, **params) -> str:
    return f"{reverse('agreements:search')}?{urlencode({'q': q, **params})}"


def _agreements(request, q: str):
    filterset = AgreementFilterSet(
        data={"q": q}, queryset=agreements_for(request.user), request=request
    )
    return filterset.qs, f"{reverse('agreements:list')}?{urlencode({'q': q})}"


def _provisions(request, q: str):
    provisions = Provision.objects.visible_to(request.user).select_related("agreement")
    filterset = ProvisionFilterSet(data={"q": q}, queryset=provisions, request=request)
    rows = filterset.qs.order_by("agreement__reference", "category", "article", "pk")
    return rows, _search_url(q, group="provisions")


def _nations(request, q: str):
    nations = Nation.objects.annotate(in_force=in_force_count(request.user, "nation"))
    rows = NationFilterSet(data={"q": q}, queryset=nations, request=request).qs
    return rows.order_by("name", "iso3"), f"{reverse('partners:nations')}?{urlencode({'q': q})}"


def _organizations(request, q: str):
    organizations = Organization.objects.annotate(
        in_force=in_force_count(request.user, "organization")
    )
    rows = OrganizationFilterSet(data={"q": q}, queryset=organizations, request=request).qs
    return rows.order_by("acronym"), f"{reverse('partners:organizations')}?{urlencode({'q': q})}"


def _contacts(request, q: str):
    """Every word in the name, rank, email or the nation represented or posted to (its name
    or code)."""
    rows = PointOfContact.objects.select_related("represents", "posted_to")
    for word in q.split():
        rows = rows.filter(
            Q(name__icontains=word)
            | Q(rank__icontains=word)
            | Q(email__icontains=word)
            | Q(represents__name__icontains=word)
            | Q(represents__iso3__iexact=word)
            | Q(posted_to__name__icontains=word)
            | Q(posted_to__iso3__iexact=word)
        )
    return rows.order_by("name", "pk"), _search_url(q, group="contacts")


GROUPS = {
    "agreements": ("agreements", _agreements),
    "provisions": ("provisions", _provisions),
    "nations": ("nations", _nations),
    "organizations": ("organizations", _organizations),
    "contacts": ("points of contact", _contacts),
}


def _groups(request, q: str) -> list[Group]:
    may_see_contacts = request.user.has_perm(CONTACT_PERMISSION)
    groups = []
    for key, (label, build) in GROUPS.items():
        if key == "contacts" and not may_see_contacts:
            continue
        queryset, more_url = build(request, q)
        groups.append(Group(key=key, label=label, queryset=queryset, more_url=more_url))
    return groups


def _error(q: str) -> str:
    if len(q) > MAX_QUERY_LENGTH:
        return (
            f"That search is {len(q)} characters long; search for at most "
            f"{MAX_QUERY_LENGTH} characters."
        )
    if len(q.split()) > MAX_WORDS:
        return f"Search for at most {MAX_WORDS} words."
    return ""


@require_GET
@registry_page
def search(request):
    q = " ".join(request.GET.get("q", "").split())  # runs of white space as one space
    group_key = request.GET.get("group", "")
    error = _error(q)
    groups = [] if error or not q else _groups(request, q)
    available = {group.key: group for group in groups}
    if group_key and q and not error and group_key not in available:
        error = "Choose one of the groups shown: " + ", ".join(available) + "."
    chosen = available.get(group_key) if not error else None
    if chosen is not None:
        chosen.page = Paginator(chosen.queryset, GROUP_PAGE_SIZE).get_page(request.GET.get("page"))
        chosen.count = chosen.page.paginator.count
        chosen.hits = list(chosen.page.object_list)
        groups = [chosen]
    elif not error:
        for group in groups:
            group.count = group.queryset.count()
            group.hits = list(group.queryset[:HITS_PER_GROUP]) if group.count else []
    return render(
        request,
        "agreements/search.html",
        {
            "q": q if not error or len(q) <= MAX_QUERY_LENGTH else "",
            "error": error,
            "groups": [] if error else groups,
            "group": chosen,
            "total": sum(group.count for group in groups) if not error else 0,
            "all_url": _search_url(q) if chosen is not None else "",
            "today": timezone.localdate(),
            "hits_per_group": HITS_PER_GROUP,
        },
        status=400 if error else 200,
    )
