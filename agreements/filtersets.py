"""The one agreement filter, shared by the API list, the browser list, the CSV export and the
statistics.

Usage::

    filterset = AgreementFilterSet(data=request.GET, queryset=agreements_for(user),
                                   request=request)
    if not filterset.is_valid():
        ...  # filterset.errors: {"parameter": ["message", ...]}
    rows = filterset.qs

Every parameter combines with the others by AND; a comma list means "any of" except for
``party``, where every named party must be a party. Unknown values are errors named by the
parameter, never an empty result.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from accounts.choices import Classification
from config.filters import ChoiceInFilter, split_list
from partners.filtersets import RegionFilter
from partners.models import Nation, Organization

from .choices import AgreementStatus, AgreementType, ProvisionCategory
from .models import Agreement, AgreementParty, Provision
from .search import search_agreements, search_provisions

MAX_WINDOW_DAYS = 36500
ORDERING_FIELDS = (
    "title",
    "signed_on",
    "entered_into_force_on",
    "expires_on",
    "next_review_on",
    "updated_at",
)


# Form fields that turn a comma list into checked values ------------------------------------


class PartnerCodesField(forms.CharField):
    """A comma list of partner codes (ISO alpha-3 or an organization's acronym), resolved to
    ``(kind, pk, code)`` triples; an unknown code is an error."""

    def clean(self, value):
        value = super().clean(value)
        codes = split_list(value)
        if not codes:
            return []
        upper = {code.upper() for code in codes}
        nations = dict(Nation.objects.filter(iso3__in=upper).values_list("iso3", "pk"))
        organizations = {
            acronym.upper(): (acronym, pk)
            for acronym, pk in Organization.objects.filter(
                Q(acronym__in=codes) | Q(acronym__in=upper)
            ).values_list("acronym", "pk")
        }
        resolved, unknown = [], []
        for code in codes:
            key = code.upper()
            if key in nations:
                resolved.append(("nation", nations[key], key))
            elif key in organizations:
                acronym, pk = organizations[key]
                resolved.append(("organization", pk, acronym))
            else:
                unknown.append(code)
        if unknown:
            raise forms.ValidationError(
                "No nation or organization has the code(s): %(codes)s.",
                code="unknown_partner",
                params={"codes": ", ".join(unknown)},
            )
        return resolved


class OrganizationCodesField(forms.CharField):
    """A comma list of organization acronyms, resolved to primary keys."""

    def clean(self, value):
        value = super().clean(value)
        codes = split_list(value)
        if not codes:
            return []
        found = {
            acronym.upper(): pk
            for acronym, pk in Organization.objects.values_list("acronym", "pk")
            if acronym.upper() in {c.upper() for c in codes}
        }
        unknown = [code for code in codes if code.upper() not in found]
        if unknown:
            raise forms.ValidationError(
                "No organization has the acronym(s): %(codes)s.",
                code="unknown_organization",
                params={"codes": ", ".join(unknown)},
            )
        return list(found.values())


class DaysField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_WINDOW_DAYS)
        super().__init__(*args, **kwargs)


# Filters -----------------------------------------------------------------------------------


class PartnerCodesFilter(django_filters.CharFilter):
    field_class = PartnerCodesField


class OrganizationCodesFilter(django_filters.CharFilter):
    field_class = OrganizationCodesField


class DaysFilter(django_filters.NumberFilter):
    field_class = DaysField


def _party_q(kind: str, pk: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}{kind}_id": pk})


class AgreementFilterSet(django_filters.FilterSet):
    party = PartnerCodesFilter(
        method="filter_party",
        help_text="Comma list of partner codes (ISO alpha-3 or acronym); every one must be a "
        "party. With in_force_on, each must itself have been a party on that day.",
    )
    party_any = PartnerCodesFilter(
        method="filter_party_any",
        help_text="Comma list of partner codes; at least one must be a party.",
    )
    region = RegionFilter(
        method="filter_region",
        help_text="Comma list of UN M49 regions; a nation of one of them is a party.",
    )
    organization = OrganizationCodesFilter(
        method="filter_organization",
        help_text="Comma list of organization acronyms: the organization is a party, or a "
        "party nation was a member while the agreement was in force (with in_force_on: a "
        "member on that day).",
    )
    type = ChoiceInFilter(
        field_name="type", choices=AgreementType.choices, help_text="Comma list: any of."
    )
    status = ChoiceInFilter(
        field_name="status", choices=AgreementStatus.choices, help_text="Comma list: any of."
    )
    classification = ChoiceInFilter(
        field_name="classification",
        choices=Classification.choices,
        help_text="Comma list: any of.",
    )
    category = ChoiceInFilter(
        choices=ProvisionCategory.choices,
        method="filter_category",
        help_text="Comma list: has a provision (that you may see) of any of these categories.",
    )
    signed_after = django_filters.DateFilter(
        field_name="signed_on", lookup_expr="gte", help_text="Signed on or after (YYYY-MM-DD)."
    )
    signed_before = django_filters.DateFilter(
        field_name="signed_on", lookup_expr="lte", help_text="Signed on or before (YYYY-MM-DD)."
    )
    expires_after = django_filters.DateFilter(
        field_name="expires_on", lookup_expr="gte", help_text="Expires on or after (YYYY-MM-DD)."
    )
    expires_before = django_filters.DateFilter(
        field_name="expires_on",
        lookup_expr="lte",
        help_text="Expires on or before (YYYY-MM-DD).",
    )
    expiring_within = DaysFilter(
        method="filter_expiring_within",
        help_text=f"Expires between today and today + N days (0 to {MAX_WINDOW_DAYS}).",
    )
    review_due_within = DaysFilter(
        method="filter_review_due_within",
        help_text="Next review on or before today + N days (overdue reviews included; "
        f"0 to {MAX_WINDOW_DAYS}).",
    )
    in_force_on = django_filters.DateFilter(
        method="filter_in_force_on",
        help_text="In force on that day (YYYY-MM-DD): entered into force on or before it, "
        "not expired or terminated before it, not suspended on it.",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Full text over reference, title, summary and the provisions you may see, "
        'as one text, in web search syntax ("a phrase", or, -word); ranked by relevance when '
        "no ordering is given.",
    )
    ordering = django_filters.OrderingFilter(
        fields=ORDERING_FIELDS,
        help_text="One of " + ", ".join(ORDERING_FIELDS) + "; prefix with - for descending.",
    )

    class Meta:
        model = Agreement
        fields: list[str] = []

    # Helpers ------------------------------------------------------------------------------

    @property
    def user(self):
        return getattr(self.request, "user", None)

    @property
    def today(self) -> datetime.date:
        return datetime.date.today()

    def visible_provisions(self):
        return Provision.objects.visible_to(self.user)

    # Methods ------------------------------------------------------------------------------

    def filter_party(self, queryset, name, partners):
        day = self.form.cleaned_data.get("in_force_on")
        for kind, pk, _code in partners:
            if day is not None:
                queryset = queryset.with_party_bound_on(kind, pk, day)
                continue
            parties = AgreementParty.objects.filter(_party_q(kind, pk), agreement=OuterRef("pk"))
            queryset = queryset.filter(Exists(parties))
        return queryset

    def filter_party_any(self, queryset, name, partners):
        if not partners:
            return queryset
        condition = Q()
        for kind, pk, _code in partners:
            condition |= _party_q(kind, pk)
        parties = AgreementParty.objects.filter(condition, agreement=OuterRef("pk"))
        return queryset.filter(Exists(parties))

    def filter_region(self, queryset, name, regions):
        if not regions:
            return queryset
        parties = AgreementParty.objects.filter(
            agreement=OuterRef("pk"), nation__region__in=regions
        )
        return queryset.filter(Exists(parties))

    def filter_organization(self, queryset, name, organization_ids):
        if not organization_ids:
            return queryset
        return queryset.with_organization(
            organization_ids, day=self.form.cleaned_data.get("in_force_on")
        )

    def filter_category(self, queryset, name, categories):
        if not categories:
            return queryset
        provisions = self.visible_provisions().filter(
            agreement=OuterRef("pk"), category__in=categories
        )
        return queryset.filter(Exists(provisions))

    def filter_expiring_within(self, queryset, name, value: int):
        return queryset.filter(
            expires_on__gte=self.today,
            expires_on__lte=self.today + datetime.timedelta(days=value),
        )

    def filter_review_due_within(self, queryset, name, value: int):
        return queryset.filter(next_review_on__lte=self.today + datetime.timedelta(days=value))

    def filter_in_force_on(self, queryset, name, day):
        return queryset.in_force_on(day)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        queryset = search_agreements(queryset, value, self.user)
        if not self.data.get("ordering"):
            queryset = queryset.order_by("-search_rank", "reference")
        return queryset


def _visible_agreements(request):
    return Agreement.objects.visible_to(getattr(request, "user", None))


class ProvisionFilterSet(django_filters.FilterSet):
    """Filters of the provision list; the queryset is already limited to visible ones."""

    category = ChoiceInFilter(
        field_name="category", choices=ProvisionCategory.choices, help_text="Comma list: any of."
    )
    agreement = django_filters.ModelChoiceFilter(
        queryset=_visible_agreements, help_text="An agreement id."
    )
    party = PartnerCodesFilter(
        method="filter_party",
        help_text="Comma list of partner codes; every one must be a party to the agreement.",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        help_text='Full text over title and text, in web search syntax ("a phrase", or, -word).',
    )

    class Meta:
        model = Provision
        fields: list[str] = []

    def filter_party(self, queryset, name, partners):
        for kind, pk, _code in partners:
            parties = AgreementParty.objects.filter(
                _party_q(kind, pk), agreement=OuterRef("agreement_id")
            )
            queryset = queryset.filter(Exists(parties))
        return queryset

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return search_provisions(queryset, value)
