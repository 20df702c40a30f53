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

import copy
import datetime

import django_filters
from django import forms
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Upper
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.utils import extend_schema_field

from accounts.choices import Classification
from config.filters import (
    ChoiceInFilter,
    CommaListFilter,
    FilterSet,
    ModelIdsFilter,
    split_list,
)
from partners.filtersets import RegionFilter
from partners.models import Nation, Organization

from .choices import AgreementStatus, AgreementType, ProvisionCategory
from .models import Agreement, AgreementParty, Provision
from .search import search_agreements, search_provisions
from .statistics import GROUPINGS, MAX_GROUPINGS

MAX_WINDOW_DAYS = 36500
ORDERING_FIELDS = (
    "reference",
    "title",
    "type",
    "status",
    "signed_on",
    "entered_into_force_on",
    "expires_on",
    "next_review_on",
    "updated_at",
)


# Form fields that turn a comma list into checked values ------------------------------------


# How many comma-separated pieces one partner name may span: a name such as "Congo, The
# Democratic Republic of the" is split by the comma list and joined again here.
MAX_NAME_PIECES = 4


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def resolve_partners(value: str, *, organizations_only: bool = False):
    """The partners named in a comma list, by code or by exact name.

    Each piece is a code (ISO alpha-3 or an organization's acronym, any case) or a partner's
    name (any case, spaces collapsed); a code wins over a name. A name with commas in it may
    be given as it is written. Returns ``(resolved, unknown, ambiguous)``: ``(kind, pk,
    code)`` triples in the order given, the pieces that name nothing, and the names that
    more than one partner bears, each with their codes."""
    pieces = split_list(value)
    if not pieces:
        return [], [], []
    upper = {piece.upper() for piece in pieces}
    by_code: dict[str, tuple[str, int, str]] = {}
    by_name: dict[str, list[tuple[str, int, str]]] = {}
    nations = Nation.objects.none() if organizations_only else Nation.objects.all()
    organizations = Organization.objects.annotate(code_upper=Upper("acronym"))
    for iso3, pk in nations.filter(iso3__in=upper).values_list("iso3", "pk"):
        by_code[iso3] = ("nation", pk, iso3)
    for acronym, pk in organizations.filter(code_upper__in=upper).values_list("acronym", "pk"):
        by_code.setdefault(acronym.upper(), ("organization", pk, acronym))
    if any(piece.upper() not in by_code for piece in pieces):
        # Names are compared here rather than in SQL, where SQLite folds only ASCII letters:
        # a few hundred short rows.
        for iso3, name, pk in nations.values_list("iso3", "name", "pk"):
            by_name.setdefault(_folded(name), []).append(("nation", pk, iso3))
        for acronym, name, pk in organizations.values_list("acronym", "name", "pk"):
            by_name.setdefault(_folded(name), []).append(("organization", pk, acronym))

    resolved, unknown, ambiguous = [], [], []
    i = 0
    while i < len(pieces):
        if pieces[i].upper() in by_code:
            resolved.append(by_code[pieces[i].upper()])
            i += 1
            continue
        for j in range(min(i + MAX_NAME_PIECES, len(pieces)), i, -1):
            name = ", ".join(pieces[i:j])
            partners = by_name.get(_folded(name))
            if partners:
                if len(partners) == 1:
                    resolved.append(partners[0])
                else:
                    ambiguous.append((name, sorted(code for _kind, _pk, code in partners)))
                i = j
                break
        else:
            unknown.append(pieces[i])
            i += 1
    return resolved, unknown, ambiguous


def _check_resolved(unknown, ambiguous, *, noun: str) -> None:
    errors = []
    if unknown:
        errors.append(
            forms.ValidationError(
                "No %(noun)s has the code or name: %(values)s.",
                code="unknown_partner",
                params={"noun": noun, "values": ", ".join(unknown)},
            )
        )
    for name, codes in ambiguous:
        errors.append(
            forms.ValidationError(
                "%(name)s is the name of more than one partner (%(codes)s): give the code.",
                code="ambiguous_partner",
                params={"name": name, "codes": ", ".join(codes)},
            )
        )
    if errors:
        raise forms.ValidationError(errors)


class PartnerCodesField(forms.CharField):
    """A comma list of partners by code (ISO alpha-3 or an organization's acronym) or exact
    name (``resolve_partners``), resolved to ``(kind, pk, code)`` triples; a piece that
    names no partner, or a name that more than one partner bears, is an error."""

    def clean(self, value):
        value = super().clean(value)
        resolved, unknown, ambiguous = resolve_partners(value)
        _check_resolved(unknown, ambiguous, noun="nation or organization")
        return resolved


class OrganizationCodesField(forms.CharField):
    """A comma list of organizations by acronym or exact name, resolved to primary keys."""

    def clean(self, value):
        value = super().clean(value)
        resolved, unknown, ambiguous = resolve_partners(value, organizations_only=True)
        _check_resolved(unknown, ambiguous, noun="organization")
        return list(dict.fromkeys(pk for _kind, pk, _code in resolved))


class DaysField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_WINDOW_DAYS)
        super().__init__(*args, **kwargs)


# Filters -----------------------------------------------------------------------------------


class PartnerCodesFilter(CommaListFilter, django_filters.CharFilter):
    field_class = PartnerCodesField


class OrganizationCodesFilter(CommaListFilter, django_filters.CharFilter):
    field_class = OrganizationCodesField


class DaysFilter(django_filters.NumberFilter):
    field_class = DaysField


def _choice_rank(field: str, values: list[str]) -> Case:
    """A sort key that puts ``field``'s values in the order given."""
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(values)),
        default=Value(len(values)),
        output_field=IntegerField(),
    )


class AgreementOrderingFilter(django_filters.OrderingFilter):
    """``status`` in lifecycle order and ``type`` by label rather than by stored value, rows
    without the date last when sorting by a date, and the reference after whatever was
    asked for, so that ties keep one order from page to page."""

    ranks = {
        "status": lambda: _choice_rank("status", list(AgreementStatus.values)),
        "type": lambda: _choice_rank(
            "type", [value for value, label in sorted(AgreementType.choices, key=lambda c: c[1])]
        ),
    }

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        name = param.removeprefix("-")
        rank = self.ranks.get(name)
        if rank is not None:
            return rank().desc() if descending else rank().asc()
        # Rows without the date (no expiry, no review due) last either way, on both
        # databases (SQLite puts nulls first going up, PostgreSQL going down).
        field = F(self.param_map.get(name, name))
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value and not any(param.removeprefix("-") == "reference" for param in value):
            qs = qs.order_by(*qs.query.order_by, "reference")
        return qs


def _party_q(kind: str, pk: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}{kind}_id": pk})


class AgreementFilterSet(FilterSet):
    party = PartnerCodesFilter(
        method="filter_party",
        help_text="Comma list of partners by code (ISO alpha-3 or acronym) or exact name; "
        "every one must be a party. With in_force_on, each must itself have been a party on "
        "that day.",
    )
    party_any = PartnerCodesFilter(
        method="filter_party_any",
        help_text="Comma list of partners by code or exact name; at least one must be a party.",
    )
    region = RegionFilter(
        method="filter_region",
        help_text="Comma list of UN M49 regions; a nation of one of them is a party.",
    )
    organization = OrganizationCodesFilter(
        method="filter_organization",
        help_text="Comma list of organizations by acronym or exact name: the organization is "
        "a party, or a party nation was a member while the agreement was in force (with "
        "in_force_on: a member on that day).",
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
    ordering = AgreementOrderingFilter(
        fields=ORDERING_FIELDS,
        help_text="One of " + ", ".join(ORDERING_FIELDS) + "; prefix with - for descending. "
        "status sorts in the order of the lifecycle (draft to superseded), type by its label; "
        "rows that tie are in reference order.",
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

    @property
    def day(self) -> datetime.date | None:
        """The ``in_force_on`` day asked for, which ``party`` and ``organization`` follow."""
        values = getattr(self, "_values", None)
        if values is None:
            values = self.form.cleaned_data
        return values.get("in_force_on")

    def filter_agreements(self, queryset, values: dict):
        """``queryset`` filtered by ``values``, the cleaned values of some of these filters
        by name: for a filter set that takes these filters for its own rows (the provision
        list applies them to the provisions' agreements) and has cleaned them already."""
        self._values = values
        for name, value in values.items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def visible_provisions(self):
        return Provision.objects.visible_to(self.user)

    # Methods ------------------------------------------------------------------------------

    def filter_party(self, queryset, name, partners):
        day = self.day
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
        return queryset.with_organization(organization_ids, day=self.day)

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


# The agreement filters that the provision list applies to each provision's agreement; its
# own ``category`` and ``q`` are about the provision, and it keeps its own order.
PROVISION_OWN = ("category", "q", "ordering")
AGREEMENT_FILTERS_OF_PROVISIONS = [
    name for name in AgreementFilterSet.base_filters if name not in PROVISION_OWN
]


class ProvisionFilterSet(FilterSet):
    """Filters of the provision list; the queryset is already limited to visible ones.

    Besides its own (``category``, ``agreement``, ``q``), every filter of the agreement list
    but ``category``, ``q`` and ``ordering``, applied to the provision's agreement by the
    agreement filter set itself: ``party=PHL&in_force_on=2026-12-01`` is the provisions of
    the agreements that ``agreements/?party=PHL&in_force_on=2026-12-01`` lists."""

    category = ChoiceInFilter(
        field_name="category", choices=ProvisionCategory.choices, help_text="Comma list: any of."
    )
    agreement = extend_schema_field({"type": "array", "items": {"type": "integer"}})(
        ModelIdsFilter(
            field_name="agreement",
            queryset=_visible_agreements,
            noun="agreement",
            help_text="Agreement ids (a comma list, or the parameter repeated): provisions "
            "of any of them.",
        )
    )
    q = django_filters.CharFilter(
        method="filter_q",
        help_text='Full text over title and text, in web search syntax ("a phrase", or, -word).',
    )

    class Meta:
        model = Provision
        fields: list[str] = []

    def filter_queryset(self, queryset):
        cleaned = self.form.cleaned_data
        of_agreement = {
            name: cleaned[name]
            for name in AGREEMENT_FILTERS_OF_PROVISIONS
            if cleaned.get(name) not in EMPTY_VALUES
        }
        if of_agreement:
            visible = _visible_agreements(self.request)
            agreements = AgreementFilterSet(
                queryset=visible, request=self.request
            ).filter_agreements(visible, of_agreement)
            queryset = queryset.filter(agreement__in=agreements.order_by().values("pk"))
        for name in ("category", "agreement", "q"):
            queryset = self.filters[name].filter(queryset, cleaned.get(name))
        return queryset

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return search_provisions(queryset, value)


def _of_the_agreement(filter_):
    """A copy of an agreement filter for the provision list (documented as such)."""
    copied = copy.deepcopy(filter_)
    # It only checks and documents the parameter (ProvisionFilterSet.filter_queryset hands
    # the value to the agreement filter set), so it needs no method, and its field is named
    # as a provision reaches it.
    copied.method = None
    copied.field_name = f"agreement__{copied.field_name}"
    text = copied.extra.get("help_text", "")
    copied.extra["help_text"] = f"Of the provision's agreement: {text}"
    return copied


ProvisionFilterSet.base_filters.update(
    (name, _of_the_agreement(AgreementFilterSet.base_filters[name]))
    for name in AGREEMENT_FILTERS_OF_PROVISIONS
)


class GroupByField(forms.CharField):
    """One or two groupings of ``agreements.statistics.GROUPINGS``, comma separated."""

    def clean(self, value):
        value = super().clean(value)
        names = split_list(value)
        unknown = [name for name in names if name not in GROUPINGS]
        if unknown:
            raise forms.ValidationError(
                "Unknown grouping(s): %(names)s. Known: %(known)s.",
                code="invalid_choice",
                params={"names": ", ".join(unknown), "known": ", ".join(GROUPINGS)},
            )
        if len(set(names)) != len(names):
            raise forms.ValidationError("Give each grouping once.", code="repeated")
        if len(names) > MAX_GROUPINGS:
            raise forms.ValidationError(
                "At most %(max)s groupings.", code="too_many", params={"max": MAX_GROUPINGS}
            )
        return names


class GroupByFilter(CommaListFilter, django_filters.CharFilter):
    field_class = GroupByField


class StatisticsFilterSet(AgreementFilterSet):
    """The agreement filters, and ``group_by``, which filters nothing: how ``stats/`` counts
    the agreements that match (``agreements.statistics.grouped_counts``)."""

    group_by = extend_schema_field(
        {
            "type": "array",
            "items": {"type": "string", "enum": list(GROUPINGS)},
            "minItems": 1,
            "maxItems": MAX_GROUPINGS,
            "uniqueItems": True,
        }
    )(
        GroupByFilter(
            method="filter_group_by",
            help_text="One or two of " + ", ".join(GROUPINGS) + " (a comma list, or the "
            "parameter repeated): counts per combination instead of the counts by year, type, "
            "status, category and partner.",
        )
    )

    def filter_group_by(self, queryset, name, value):
        return queryset
