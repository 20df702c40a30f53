"""Nation and organization pages: every visible agreement with the partner, the mix of its
(visible) provisions, memberships, points of contact and the partner's change history.

They live here, not in ``partners``, because they are pages of agreements: ``partners`` knows
nothing of agreements. Their URL names stay ``partners:nation`` and ``partners:organization``
(``partner_urlpatterns`` in ``agreements/urls.py``)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import registry_page
from config.charts import bars
from config.pages import list_url
from history.models import ChangeRecord
from partners.models import Organization, PointOfContact
from partners.selectors import nations_with_lineage

from .choices import ProvisionCategory
from .models import Provision
from .selectors import agreements_for


def _current(queryset, today):
    return queryset.filter(Q(active_to__isnull=True) | Q(active_to__gte=today))


def _history(partner, user):
    """The partner's change records (its own and its memberships' or contacts') within
    ``user``'s clearance."""
    return ChangeRecord.objects.about(partner).visible_to(user).for_display()


def _provision_bars(provisions, code: str):
    labels = dict(ProvisionCategory.choices)
    counts = provisions.order_by().values_list("category").annotate(n=Count("pk", distinct=True))
    return bars(
        (labels.get(category, category), n, list_url(party=code, category=category))
        for category, n in counts
    )


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
    contacts = _current(
        PointOfContact.objects.filter(Q(represents=nation) | Q(posted_to=nation)), today
    ).select_related("represents", "posted_to")
    return render(
        request,
        "partners/nation.html",
        {
            "nation": nation,
            "agreements": agreements,
            "through_membership": through_membership,
            "provision_bars": _provision_bars(provisions, nation.iso3),
            "memberships": memberships,
            "contacts": contacts,
            "list_url": list_url(party=nation.iso3),
            "changes": _history(nation, user),
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
    contacts = _current(
        PointOfContact.objects.filter(represents__in=member_ids), today
    ).select_related("represents", "posted_to")
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
            "list_url": list_url(organization=organization.acronym),
            "changes": _history(organization, user),
        },
    )
