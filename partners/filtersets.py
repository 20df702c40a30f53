"""Filters of the partner lists (API), and the region filter that the agreement filters use
too (a region is a property of nations)."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper

from config.filters import ChoiceInFilter, CommaListFilter, FilterSet, split_list

from .choices import ContactRole, OrganizationKind
from .models import Membership, Nation, Organization, PointOfContact, Posting
from .selectors import partners_by_codes


class RegionField(forms.CharField):
    """A comma list of UN M49 region names (any case), checked against the nations."""

    def clean(self, value):
        value = super().clean(value)
        names = split_list(value)
        if not names:
            return []
        known = {
            region.lower(): region
            for region in Nation.objects.exclude(region="")
            .values_list("region", flat=True)
            .distinct()
        }
        unknown = [name for name in names if name.lower() not in known]
        if unknown:
            raise forms.ValidationError(
                "Unknown region(s): %(names)s. Known: %(known)s.",
                code="unknown_region",
                params={"names": ", ".join(unknown), "known": ", ".join(sorted(known.values()))},
            )
        return [known[name.lower()] for name in names]


class RegionFilter(CommaListFilter, django_filters.CharFilter):
    field_class = RegionField


class AcronymsField(forms.CharField):
    """A comma list of organization acronyms (any case), resolved to primary keys in one
    query; an unknown acronym is an error."""

    def clean(self, value):
        value = super().clean(value)
        codes = split_list(value)
        if not codes:
            return []
        wanted = {code.upper() for code in codes}
        found = dict(
            Organization.objects.annotate(code_upper=Upper("acronym"))
            .filter(code_upper__in=wanted)
            .values_list("code_upper", "pk")
        )
        unknown = [code for code in codes if code.upper() not in found]
        if unknown:
            raise forms.ValidationError(
                "No organization has the acronym(s): %(codes)s.",
                code="unknown_organization",
                params={"codes": ", ".join(unknown)},
            )
        return sorted(set(found.values()))


class AcronymsFilter(CommaListFilter, django_filters.CharFilter):
    field_class = AcronymsField


def members_on(organizations, day=None) -> Q:
    """Nations with a membership in any of ``organizations`` (primary keys): at any time,
    or, with ``day``, on that day (joined on or before it, or on no recorded day; not yet
    left: ``left_on`` is the first day outside)."""
    memberships = Membership.objects.filter(nation=OuterRef("pk"), organization__in=organizations)
    if day is not None:
        memberships = memberships.filter(
            Q(joined_on__isnull=True) | Q(joined_on__lte=day),
            Q(left_on__isnull=True) | Q(left_on__gt=day),
        )
    return Q(Exists(memberships))


class NationFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        member_of_given = cleaned.get("member_of") or "member_of" in self.errors
        if cleaned.get("member_on") and not member_of_given:
            self.add_error("member_on", "Give member_of too: the organization(s) to check.")
        return cleaned


class NationFilterSet(FilterSet):
    region = RegionFilter(method="filter_region", help_text="Comma list of UN M49 regions.")
    q = django_filters.CharFilter(method="filter_q", help_text="Name or ISO code contains.")
    member_of = AcronymsFilter(
        method="filter_member_of",
        help_text="Comma list of organization acronyms: a member of any of them. Alone, a "
        "membership at any time counts (a former member too); with member_on, only on that "
        "day.",
    )
    member_on = django_filters.DateFilter(
        method="filter_member_on",
        help_text="With member_of: a member on that day (YYYY-MM-DD): joined on or before it "
        "(no joining date: a member since ever) and not left on or before it.",
    )

    class Meta:
        model = Nation
        fields: list[str] = []
        form = NationFilterForm

    def filter_member_of(self, queryset, name, organizations):
        if not organizations:
            return queryset
        return queryset.filter(members_on(organizations, self.form.cleaned_data.get("member_on")))

    def filter_member_on(self, queryset, name, day):
        return queryset  # applied by member_of, which it requires

    def filter_region(self, queryset, name, regions):
        return queryset.filter(region__in=regions) if regions else queryset

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(official_name__icontains=value)
            | Q(iso3__iexact=value)
            | Q(iso2__iexact=value)
        )


class OrganizationFilterSet(FilterSet):
    kind = ChoiceInFilter(choices=OrganizationKind.choices, help_text="Comma list: any of.")
    q = django_filters.CharFilter(method="filter_q", help_text="Name or acronym contains.")

    class Meta:
        model = Organization
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(acronym__icontains=value))


class PartnerCodesField(forms.CharField):
    """A comma list of partner codes: ISO alpha-3 codes and organization acronyms (any
    case), resolved in two queries; an unknown code is an error."""

    def clean(self, value):
        codes = split_list(super().clean(value))
        if not codes:
            return []
        found = partners_by_codes(codes)
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise forms.ValidationError(
                "No nation or organization has the code(s): %(codes)s.",
                code="unknown_partner",
                params={"codes": ", ".join(unknown)},
            )
        return [found[code] for code in codes]


class PartnerCodesFilter(CommaListFilter, django_filters.CharFilter):
    field_class = PartnerCodesField


def posted_to_on(partners, day=None) -> Q:
    """Contacts with a posting to any of ``partners`` (nations and organizations; all
    places when empty), at any time or, with ``day``, active on that day."""
    postings = Posting.objects.filter(contact=OuterRef("pk"))
    if partners:
        nations = [p.pk for p in partners if isinstance(p, Nation)]
        organizations = [p.pk for p in partners if isinstance(p, Organization)]
        postings = postings.filter(Q(nation__in=nations) | Q(organization__in=organizations))
    if day is not None:
        postings = postings.active_on(day)
    return Q(Exists(postings))


class PointOfContactFilterSet(FilterSet):
    role = ChoiceInFilter(choices=ContactRole.choices, help_text="Comma list: any of.")
    represents = django_filters.CharFilter(
        field_name="represents__iso3", lookup_expr="iexact", help_text="ISO alpha-3."
    )
    posted_to = PartnerCodesFilter(
        method="filter_posted_to",
        help_text="Comma list of ISO alpha-3 codes and organization acronyms: a posting to any "
        "of them (at any time; with active_on, one active that day).",
    )
    active_on = django_filters.DateFilter(
        method="filter_active_on",
        help_text="A posting active on that day (YYYY-MM-DD): begun on or before it and not "
        "ended before it. With posted_to, that same posting is to one of those places.",
    )

    class Meta:
        model = PointOfContact
        fields: list[str] = []

    def filter_posted_to(self, queryset, name, partners):
        if not partners:
            return queryset
        return queryset.filter(posted_to_on(partners, self.form.cleaned_data.get("active_on")))

    def filter_active_on(self, queryset, name, day):
        if day is None or self.form.cleaned_data.get("posted_to"):
            return queryset  # with posted_to, applied there: one posting meets both
        return queryset.filter(posted_to_on([], day))
