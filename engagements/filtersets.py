"""The one engagement filter, shared by the API list, the CSV export and the page.

Usage::

    filterset = EngagementFilterSet(data=request.GET, queryset=engagements_for(user),
                                    request=request)
    if not filterset.is_valid():
        ...  # filterset.errors: {"parameter": ["message", ...]}
    rows = filterset.qs

Every parameter combines with the others by AND; a comma list means "any of" except for
``partner``, where every named partner must take part (as ``party`` on agreements). An
unknown value is an error named by the parameter, never an empty result; an agreement the
reader may not see is unknown.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce, Upper

from accounts.choices import Classification
from agreements.choices import ProvisionCategory
from agreements.filtersets import OrganizationCodesFilter, PartnerCodesFilter
from agreements.models import Agreement, Provision
from config.filters import ChoiceInFilter, CommaListFilter, FilterSet, split_list
from partners.models import Membership

from .choices import Domain, EngagementKind, EngagementStatus
from .models import Engagement, Participation

ORDERING_FIELDS = ("starts_on", "ends_on", "title", "kind", "status", "updated_at")


class AgreementReferencesField(forms.CharField):
    """A comma list of agreements by reference (any case) or id, among those the reader may
    see (``queryset``); one that names nothing the reader may see is an error naming it."""

    def __init__(self, *args, queryset=None, **kwargs):
        self.queryset = queryset
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        pieces = list(dict.fromkeys(split_list(value)))
        if not pieces:
            return []
        ids = [int(p) for p in pieces if p.isdigit() and len(p) <= 18]
        rows = self.queryset.annotate(ref_upper=Upper("reference")).filter(
            Q(ref_upper__in={p.upper() for p in pieces}) | Q(pk__in=ids)
        )
        by_reference, by_id = {}, set()
        for pk, reference in rows.values_list("pk", "ref_upper"):
            by_reference[reference] = pk
            by_id.add(pk)
        found, missing = [], []
        for piece in pieces:
            if piece.upper() in by_reference:
                found.append(by_reference[piece.upper()])
            elif piece.isdigit() and int(piece) in by_id:
                found.append(int(piece))
            else:
                missing.append(piece)
        if missing:
            raise forms.ValidationError(
                "No agreement you may see has the reference or id: %(values)s.",
                code="invalid_choice",
                params={"values": ", ".join(missing)},
            )
        return list(dict.fromkeys(found))


class AgreementReferencesFilter(CommaListFilter, django_filters.CharFilter):
    field_class = AgreementReferencesField

    @property
    def field(self):
        if not hasattr(self, "_field"):
            request = getattr(self.parent, "request", None)
            # The agreements the reader may see (the filter set's request's user).
            self.extra["queryset"] = Agreement.objects.visible_to(getattr(request, "user", None))
            self._field = super().field
        return self._field


class EngagementOrderingFilter(django_filters.OrderingFilter):
    """``ends_on`` sorts an engagement without an end date by its first day (as the
    ``ends_*`` filters read it, and the same on every database); ties keep one order from
    page to page: the title, then the id, after what was asked."""

    def get_ordering_value(self, param):
        if param.removeprefix("-") != "ends_on":
            return super().get_ordering_value(param)
        last_day = Coalesce("ends_on", "starts_on")
        return last_day.desc() if param.startswith("-") else last_day.asc()

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "title", "id")
        return qs


class EngagementFilterSet(FilterSet):
    kind = ChoiceInFilter(
        field_name="kind", choices=EngagementKind.choices, help_text="Comma list: any of."
    )
    status = ChoiceInFilter(
        field_name="status", choices=EngagementStatus.choices, help_text="Comma list: any of."
    )
    domain = ChoiceInFilter(
        field_name="domain", choices=Domain.choices, help_text="Comma list: any of."
    )
    classification = ChoiceInFilter(
        field_name="classification",
        choices=Classification.choices,
        help_text="Comma list: any of.",
    )
    partner = PartnerCodesFilter(
        method="filter_partner",
        help_text="Comma list of partners by code (ISO alpha-3 or acronym) or exact name; "
        "every one must take part (in any role).",
    )
    organization = OrganizationCodesFilter(
        method="filter_organization",
        help_text="Comma list of organizations by acronym or exact name: the organization "
        "takes part, or a participating nation was a member of it on the engagement's first "
        "day.",
    )
    agreement = AgreementReferencesFilter(
        method="filter_agreement",
        help_text="Comma list of agreements by reference or id (that you may see): linked to "
        "any of them.",
    )
    provision_category = ChoiceInFilter(
        choices=ProvisionCategory.choices,
        method="filter_provision_category",
        help_text="Comma list: linked to a provision (that you may see) of any of these "
        "categories.",
    )
    starts_after = django_filters.DateFilter(
        field_name="starts_on", lookup_expr="gte", help_text="Starts on or after (YYYY-MM-DD)."
    )
    starts_before = django_filters.DateFilter(
        field_name="starts_on", lookup_expr="lte", help_text="Starts on or before (YYYY-MM-DD)."
    )
    ends_after = django_filters.DateFilter(
        method="filter_ends_after",
        help_text="Ends on or after (YYYY-MM-DD); without an end date, its first day counts.",
    )
    ends_before = django_filters.DateFilter(
        method="filter_ends_before",
        help_text="Ends on or before (YYYY-MM-DD); without an end date, its first day counts.",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Words found in the title, summary, objectives or location (any case).",
    )
    ordering = EngagementOrderingFilter(
        fields=ORDERING_FIELDS,
        help_text="One of " + ", ".join(ORDERING_FIELDS) + "; prefix with - for descending. "
        "Rows that tie are in title order.",
    )

    class Meta:
        model = Engagement
        fields: list[str] = []

    @property
    def user(self):
        return getattr(self.request, "user", None)

    def filter_partner(self, queryset, name, partners):
        for kind, pk, _code in partners:
            rows = Participation.objects.filter(engagement=OuterRef("pk"), **{f"{kind}_id": pk})
            queryset = queryset.filter(Exists(rows))
        return queryset

    def filter_organization(self, queryset, name, organization_ids):
        if not organization_ids:
            return queryset
        members = Membership.objects.filter(
            Q(joined_on__isnull=True) | Q(joined_on__lte=OuterRef("engagement__starts_on")),
            Q(left_on__isnull=True) | Q(left_on__gt=OuterRef("engagement__starts_on")),
            nation=OuterRef("nation_id"),
            organization_id__in=organization_ids,
        )
        rows = Participation.objects.filter(
            Q(organization_id__in=organization_ids) | Exists(members), engagement=OuterRef("pk")
        )
        return queryset.filter(Exists(rows))

    def filter_agreement(self, queryset, name, agreement_ids):
        if not agreement_ids:
            return queryset
        links = Engagement.agreements.through.objects.filter(
            engagement=OuterRef("pk"), agreement_id__in=agreement_ids
        )
        return queryset.filter(Exists(links))

    def filter_provision_category(self, queryset, name, categories):
        if not categories:
            return queryset
        provisions = Provision.objects.visible_to(self.user).filter(category__in=categories)
        links = Engagement.provisions.through.objects.filter(
            engagement=OuterRef("pk"), provision__in=provisions.values("pk")
        )
        return queryset.filter(Exists(links))

    def filter_ends_after(self, queryset, name, day):
        return queryset.filter(Q(ends_on__gte=day) | Q(ends_on__isnull=True, starts_on__gte=day))

    def filter_ends_before(self, queryset, name, day):
        return queryset.filter(Q(ends_on__lte=day) | Q(ends_on__isnull=True, starts_on__lte=day))

    def filter_q(self, queryset, name, value):
        for term in value.split()[:10]:
            queryset = queryset.filter(
                Q(title__icontains=term)
                | Q(summary__icontains=term)
                | Q(objectives__icontains=term)
                | Q(location__icontains=term)
            )
        return queryset
