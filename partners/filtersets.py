"""Filters of the partner lists (API), and the region filter that the agreement filters use
too (a region is a property of nations)."""

import django_filters
from django import forms
from django.db.models import Q

from config.filters import ChoiceInFilter, CommaListFilter, FilterSet, split_list

from .choices import ContactRole, OrganizationKind
from .models import Nation, Organization, PointOfContact


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


class NationFilterSet(FilterSet):
    region = RegionFilter(method="filter_region", help_text="Comma list of UN M49 regions.")
    q = django_filters.CharFilter(method="filter_q", help_text="Name or ISO code contains.")

    class Meta:
        model = Nation
        fields: list[str] = []

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

    class Meta:
        model = Organization
        fields: list[str] = []


class PointOfContactFilterSet(FilterSet):
    role = ChoiceInFilter(choices=ContactRole.choices, help_text="Comma list: any of.")
    represents = django_filters.CharFilter(
        field_name="represents__iso3", lookup_expr="iexact", help_text="ISO alpha-3."
    )
    posted_to = django_filters.CharFilter(
        field_name="posted_to__iso3", lookup_expr="iexact", help_text="ISO alpha-3."
    )

    class Meta:
        model = PointOfContact
        fields: list[str] = []
