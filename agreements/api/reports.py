"""Statistics, the CSV export and the dyad-years: views over the agreements that match the
list's filters. The counting is ``agreements.statistics``, the rows ``agreements.export`` and
``agreements.dyad_years``."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import CSVRenderer, FilterBackend
from config.renderers import JSONRenderer

from .. import dyad_years, export
from ..filtersets import AgreementFilterSet, StatisticsFilterSet
from ..models import Agreement
from ..selectors import agreements_for
from ..statistics import GROUPINGS, agreement_counts, grouped_counts
from . import examples
from .views import FilteredSchema


class CountSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    count = serializers.IntegerField()


class StatisticsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_year_signed = CountSerializer(many=True)
    by_type = CountSerializer(many=True)
    by_status = CountSerializer(many=True)
    by_provision_category = CountSerializer(many=True)
    by_partner = CountSerializer(many=True)


def _value(kind, help_text):
    return kind(allow_null=True, required=False, help_text=help_text)


class GroupSerializer(serializers.Serializer):
    """One combination: the value of each grouping asked for (null: none), the label of the
    coded ones, and how many agreements are in it."""

    year = _value(serializers.IntegerField, "Year signed.")
    decade = _value(serializers.IntegerField, "Decade signed: 1990 is 1990 to 1999.")
    type = _value(serializers.CharField, "Agreement type.")
    type_label = _value(serializers.CharField, "")
    status = _value(serializers.CharField, "Agreement status.")
    status_label = _value(serializers.CharField, "")
    category = _value(serializers.CharField, "A category of its provisions you may see.")
    category_label = _value(serializers.CharField, "")
    partner = _value(serializers.CharField, "A party's code.")
    partner_label = _value(serializers.CharField, "")
    region = _value(serializers.CharField, "The UN M49 region of a party nation.")
    organization = _value(serializers.CharField, "An organization that is a party.")
    organization_label = _value(serializers.CharField, "")
    count = serializers.IntegerField()


class GroupedStatisticsSerializer(serializers.Serializer):
    group_by = serializers.ListField(child=serializers.ChoiceField(choices=GROUPINGS))
    total = serializers.IntegerField()
    results = GroupSerializer(many=True)


class FilteredAgreementsView(APIView):
    """A view over the agreements that match the shared filters (documented in the schema),
    JSON or CSV."""

    permission_model = Agreement
    filter_backends = [FilterBackend]
    filterset_class = AgreementFilterSet
    queryset = Agreement.objects.none()
    schema = FilteredSchema()
    renderer_classes = [JSONRenderer, CSVRenderer]

    def filterset(self, *, errors: dict | None = None) -> AgreementFilterSet:
        """The filters of the request over the agreements the user may see, or a 400 naming
        every bad parameter, with the ``errors`` the view found in its own."""
        return FilterBackend().valid_filterset(
            self.request, agreements_for(self.request.user), self, errors=errors
        )

    def wants_csv(self) -> bool:
        return self.request.accepted_renderer.format == CSVRenderer.format


@extend_schema(tags=["statistics"])
class StatisticsView(FilteredAgreementsView):
    extra_permissions = ("agreements.view_statistics",)
    filterset_class = StatisticsFilterSet

    @extend_schema(
        summary="Count agreements, filtered, by year, type, status, category and partner, "
        "or by one or two groupings together",
        responses={
            (200, "application/json"): OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="StatisticsAnswer",
                    serializers=[StatisticsSerializer, GroupedStatisticsSerializer],
                    resource_type_field_name=None,
                ),
                description="Without group_by, the counts by year signed, type, status, "
                "provision category and partner; with it, a count per combination.",
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="format=csv (or Accept: text/csv): with group_by, a column per "
                "grouping (and its label) and count; without, grouping, key, label, count.",
            ),
        },
        examples=[examples.STATISTICS, examples.STATISTICS_GROUPED, examples.STATISTICS_CSV],
    )
    def get(self, request):
        """Counts of the agreements matching the filters (the same as the list's), by year
        signed, type, status, provision category (agreements with at least one visible
        provision of it) and partner; with ``group_by`` (one or two of year, decade, type,
        status, category, partner, region, organization), a count per combination, where an
        agreement counts once in every group it belongs to (an agreement with three partners
        counts once for each; ``organization`` counts the organizations that are parties,
        not memberships). ``format=csv`` answers CSV."""
        filterset = self.filterset()
        group_by = filterset.form.cleaned_data.get("group_by")
        if group_by:
            counts = grouped_counts(filterset.qs, user=request.user, group_by=group_by)
        else:
            counts = agreement_counts(filterset.qs, user=request.user)
        if not self.wants_csv():
            return Response(counts.as_dict())
        response = HttpResponse(
            export.csv_text(counts.columns, counts.csv_rows()),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="statistics.csv"'
        return response


@extend_schema(tags=["agreements"])
class ExportView(FilteredAgreementsView):
    extra_permissions = ("agreements.export_agreement",)

    @extend_schema(
        summary="Export agreements, filtered, as CSV",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV with a header row."
            ),
        },
        examples=[examples.EXPORT],
    )
    def get(self, request):
        """Every agreement matching the filters (the same as the list's) as CSV, streamed
        with constant memory."""
        lines = export.export_lines(self.filterset().qs, user=request.user)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="agreements.csv"'
        return response


class YearSpanSerializer(serializers.Serializer):
    """``from`` and ``to``: the first and last calendar years, both required."""

    def get_fields(self):
        year = {"min_value": dyad_years.FIRST_YEAR, "max_value": dyad_years.LAST_YEAR}
        return {"from": serializers.IntegerField(**year), "to": serializers.IntegerField(**year)}

    def validate(self, attrs):
        first, last = attrs["from"], attrs["to"]
        if last < first:
            raise ValidationError({"to": [f"Must be {first} (from) or later."]})
        if last - first + 1 > dyad_years.MAX_SPAN_YEARS:
            raise ValidationError(
                {"to": [f"At most {dyad_years.MAX_SPAN_YEARS} years from {first} (from)."]}
            )
        return attrs


YEAR_SCHEMA = {
    "type": "integer",
    "minimum": dyad_years.FIRST_YEAR,
    "maximum": dyad_years.LAST_YEAR,
}
YEAR_PARAMETERS = [
    OpenApiParameter(
        name, YEAR_SCHEMA, OpenApiParameter.QUERY, required=True, description=description
    )
    for name, description in (
        ("from", "The first year (YYYY)."),
        ("to", f"The last year (YYYY): from to from + {dyad_years.MAX_SPAN_YEARS - 1}."),
    )
]


@extend_schema(tags=["agreements"])
class DyadYearsView(FilteredAgreementsView):
    extra_permissions = ("agreements.export_agreement",)
    query_parameters = ("from", "to")

    @extend_schema(
        summary="Export the dyad-years of agreements, filtered, as CSV",
        parameters=YEAR_PARAMETERS,
        examples=[examples.DYAD_YEARS],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="CSV with a header row: year, party_a, party_b, reference, type, "
                "then one 0/1 column per provision category ("
                + ", ".join(dyad_years.CATEGORY_COLUMNS)
                + ").",
            ),
        },
    )
    def get(self, request):
        """One row per pair of nations, year and agreement in which both nations were bound,
        for the agreements matching the filters (the same as the list's), for the years
        ``from`` to ``to``; the format of alliance data sets such as ATOP and DCAD. Streamed
        with constant memory; the same permission as the export.

        - The agreement counts in a year on the days it was in force (the rule of
          ``in_force_on``: entered into force, not expired, not terminated, not suspended),
          up to today: no row is for a year after this one.
        - A nation is bound on the days its own acts bind it (``bound`` in its party
          periods: not before its entry into force, not while suspended, not after its
          withdrawal). Only nations form dyads: organizations that are parties are left out.
        - Two nations form a dyad in a year when both were bound on at least one common day
          of that year on which the agreement was in force.
        - ``party_a`` is the earlier ISO alpha-3 code in alphabetical order. One row per
          (year, pair, agreement): a pair bound by two agreements has two rows.
        - The category columns are 1 when the agreement has a provision of that category
          that you may see, else 0.
        - Filters select agreements, not dyads: ``party=SWE`` gives every dyad of the
          agreements Sweden is party to.
        - Rows come agreement by agreement (in the list's order), then by ``party_a``,
          ``party_b`` and year.

        ``from`` and ``to`` are required years from 1700 to 2300, ``to`` not before
        ``from``, at most 500 years in all; otherwise 400 naming the parameter."""
        span = YearSpanSerializer(data=request.query_params)
        errors = {} if span.is_valid() else dict(span.errors)
        agreements = self.filterset(errors=errors).qs
        lines = dyad_years.dyad_year_lines(
            agreements,
            user=request.user,
            first=span.validated_data["from"],
            last=span.validated_data["to"],
            today=timezone.localdate(),
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="dyad-years.csv"'
        return response
