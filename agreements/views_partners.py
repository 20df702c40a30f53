"""Nation and organization pages: every visible agreement with the partner, the mix of its
(visible) provisions, memberships, points of contact and the partner's change history; and
their indexes, each partner with its count of agreements in force (within clearance).

They live here, not in ``partners``, because they are pages of agreements: ``partners`` knows
nothing of agreements. Their URL names stay ``partners:nation`` and ``partners:organization``
(``partner_urlpatterns`` in ``agreements/urls.py``)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import registry_page
from config.charts import bars
from config.pages import list_url
from history.models import ChangeRecord
from partners.choices import OrganizationKind
from partners.filtersets import NationFilterSet, OrganizationFilterSet
from partners.models import Membership, Nation, Organization, PointOfContact
from partners.selectors import contacts_listed, nations_with_lineage, posted_to_on_day
from partners.world_map import world_map

from .choices import ProvisionCategory
from .models import Provision
from .selectors import (
    CONTACT_PERMISSION,
    agreements_for,
    changes_for,
    in_force_count,
    in_force_counts_by_nation,
)

INDEX_PAGE_SIZE = 50
MAX_QUERY_LENGTH = 200


def _current(queryset, today):
    return queryset.filter(Q(active_to__isnull=True) | Q(active_to__gte=today))


def _contacts(user, queryset, today):
    """The points of contact of ``queryset`` as the pages list them (the current posting
    first on each row); None (no section) for a reader without the permission to view
    them, as in the search and the API."""
    if not user.has_perm(CONTACT_PERMISSION):
        return None
    return contacts_listed(queryset, today)


def _history(partner, user):
    """The partner's change records (its own and its memberships' or contacts') that
    ``user`` may read."""
    return changes_for(user, ChangeRecord.objects.about(partner))


def _provision_bars(provisions, code: str):
    labels = dict(ProvisionCategory.choices)
    counts = provisions.order_by().values_list("category").annotate(n=Count("pk", distinct=True))
    return bars(
        (labels.get(category, category), n, list_url(party=code, category=category))
        for category, n in counts
    )


# Indexes -----------------------------------------------------------------------------------

INDEX_ORDERINGS = {"name": "Name", "in_force": "Most agreements in force"}


def _index_query(request):
    """The index's parameters without the empty ones; a redirect to the short address when
    the form sent empty fields."""
    data = request.GET.copy()
    for key in list(data):
        values = [v.strip() for v in data.getlist(key) if v.strip()]
        if values:
            data.setlist(key, values)
        else:
            del data[key]
    return data


def _index(request, *, filterset, template: str, context: dict, name_order: tuple):
    """Filter, order and paginate a partner index; bad parameters are a 400 with the
    reasons next to the form."""
    data = filterset.data
    errors = dict(filterset.errors) if not filterset.is_valid() else {}
    if len(data.get("q", "")) > MAX_QUERY_LENGTH:
        errors["q"] = [f"Search for at most {MAX_QUERY_LENGTH} characters."]
    order = data.get("order", "name")
    if order not in INDEX_ORDERINGS:
        errors["order"] = ["Choose one of the orders listed."]
    if errors:
        rows = filterset.queryset.none()
    else:
        rows = filterset.qs
        if data.get("with_agreements"):
            rows = rows.filter(in_force__gt=0)
        by_count = ("-in_force",) if order == "in_force" else ()
        rows = rows.order_by(*by_count, *name_order)
    page = Paginator(rows, INDEX_PAGE_SIZE).get_page(data.get("page") if not errors else 1)
    return render(
        request,
        template,
        {
            **context,
            "page": page,
            "rows": page.object_list,
            "errors": errors,
            "values": data,
            "orders": INDEX_ORDERINGS.items(),
            "today": timezone.localdate(),
        },
        status=400 if errors else 200,
    )


@require_GET
@registry_page
def nation_list(request):
    data = _index_query(request)
    if data.urlencode() != request.GET.urlencode():
        return redirect(f"{request.path}?{data.urlencode()}" if data else request.path)
    today = timezone.localdate()
    nations = nations_with_lineage(
        Nation.objects.annotate(in_force=in_force_count(request.user, "nation", today))
    )
    filterset = NationFilterSet(data=data, queryset=nations, request=request)
    regions = Nation.objects.exclude(region="").order_by("region")
    return _index(
        request,
        filterset=filterset,
        template="partners/nation_list.html",
        context={"regions": regions.values_list("region", flat=True).distinct()},
        name_order=("name", "iso3"),
    )


@require_GET
@registry_page
def organization_list(request):
    data = _index_query(request)
    if data.urlencode() != request.GET.urlencode():
        return redirect(f"{request.path}?{data.urlencode()}" if data else request.path)
    today = timezone.localdate()
    members = (
        Membership.objects.filter(organization=OuterRef("pk"), left_on__isnull=True)
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    organizations = Organization.objects.annotate(
        in_force=in_force_count(request.user, "organization", today),
        current_members=Coalesce(Subquery(members, output_field=IntegerField()), 0),
    )
    filterset = OrganizationFilterSet(data=data, queryset=organizations, request=request)
    return _index(
        request,
        filterset=filterset,
        template="partners/organization_list.html",
        context={"kinds": OrganizationKind.choices},
        name_order=("acronym",),
    )


# Pages -------------------------------------------------------------------------------------


@require_GET
@registry_page
def nation_detail(request, iso3: str):
    user = request.user
    nation = get_object_or_404(nations_with_lineage(), iso3=iso3.upper())
    today = timezone.localdate()
    agreements = list(agreements_for(user).filter(parties__nation=nation).distinct())
    memberships = list(
        nation.memberships.select_related("organization").order_by(
            "organization__acronym", "joined_on"
        )
    )
    through_membership = list(
        agreements_for(user).through_memberships_of(nation.pk).exclude(parties__nation=nation)
    )
    provisions = Provision.objects.visible_to(user).filter(agreement__parties__nation=nation)
    # Postings to this nation today, and the contacts serving it (their own span),
    # wherever they are posted.
    posted_here = _contacts(user, posted_to_on_day(nation, today), today)
    from_here = _contacts(
        user, _current(PointOfContact.objects.filter(represents=nation), today), today
    )
    return render(
        request,
        "partners/nation.html",
        {
            "nation": nation,
            "agreements": agreements,
            "through_membership": through_membership,
            "provision_bars": _provision_bars(provisions, nation.iso3),
            "memberships": memberships,
            "posted_here": posted_here,
            "from_here": from_here,
            "list_url": list_url(party=nation.iso3),
            "changes": _history(nation, user),
            "world_map": world_map(
                in_force_counts_by_nation(user, today, with_nation=nation),
                count_url=lambda code: list_url(
                    party=f"{nation.iso3},{code}", in_force_on=today.isoformat()
                ),
                highlight=nation,
            ),
        },
    )


@require_GET
@registry_page
def organization_detail(request, acronym: str):
    user = request.user
    organization = get_object_or_404(Organization, acronym__iexact=acronym)
    today = timezone.localdate()
    agreements = list(agreements_for(user).filter(parties__organization=organization).distinct())
    # The registry's rule for organization= (AgreementQuerySet.with_organization): members'
    # agreements count while they were members.
    of_members = list(
        agreements_for(user)
        .with_organization([organization.pk])
        .exclude(parties__organization=organization)
    )
    memberships = list(organization.memberships.select_related("nation").order_by("nation__name"))
    member_ids = [m.nation_id for m in memberships if m.left_on is None]
    provisions = Provision.objects.visible_to(user).filter(
        agreement__parties__organization=organization
    )
    contacts = _contacts(
        user, _current(PointOfContact.objects.filter(represents__in=member_ids), today), today
    )
    posted_here = _contacts(user, posted_to_on_day(organization, today), today)
    return render(
        request,
        "partners/organization.html",
        {
            "organization": organization,
            "agreements": agreements,
            "of_members": of_members,
            "provision_bars": _provision_bars(provisions, organization.acronym),
            "memberships": memberships,
            "current_members": len(member_ids),
            "contacts": contacts,
            "posted_here": posted_here,
            "list_url": list_url(organization=organization.acronym),
            "changes": _history(organization, user),
        },
    )
