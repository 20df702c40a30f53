"""Statistics, the CSV export and the dyad-years: views over the agreements that match the
list's filters. The counting is ``agreements.statistics``, the rows ``agreements.export`` and
``agreements.dyad_years``."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import dyad_years, export
from ..filtersets import AgreementFilterSet
from ..models import Agreement
from ..selectors import agreements_for
from ..statistics import agreement_counts
from .views import ERRORS, FilteredSchema


def filtered(request, *, errors: dict | None = None) -> AgreementFilterSet:
    """The agreements matching the list's filters; a bad filter is a 400 naming it, together
    with any ``errors`` the view found in its own parameters."""
    filterset = AgreementFilterSet(
        data=request.query_params, queryset=agreements_for(request.user), request=request
    )
    problems = {**(errors or {}), **(filterset.errors if not filterset.is_valid() else {})}
    if problems:
        raise ValidationError(problems)
    return filterset


class CountSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    count = serializers.IntegerField()


class FilteredAgreementsView(APIView):
    """A view over the agreements that match the shared filters (documented in the schema)."""

    permission_model = Agreement
    filter_backends = [DjangoFilterBackend]
    filterset_class = AgreementFilterSet
    queryset = Agreement.objects.none()
    schema = FilteredSchema()


@extend_schema(tags=["statistics"])
class StatisticsView(FilteredAgreementsView):
    extra_permissions = ("agreements.view_statistics",)

    @extend_schema(
        responses={
            200: inline_serializer(
                "Statistics",
                {
                    "total": serializers.IntegerField(),
                    "by_year_signed": CountSerializer(many=True),
                    "by_type": CountSerializer(many=True),
                    "by_status": CountSerializer(many=True),
                    "by_provision_category": CountSerializer(many=True),
                    "by_partner": CountSerializer(many=True),
                },
            ),
            400: ERRORS[400],
        }
    )
    def get(self, request):
        """Counts of the agreements matching the filters (the same as the list's), by year
        signed, type, status, provision category (agreements with at least one visible
        provision of it) and partner."""
        counts = agreement_counts(filtered(request).qs, user=request.user)
        return Response(counts.as_dict())


@extend_schema(tags=["agreements"])
class ExportView(FilteredAgreementsView):
    extra_permissions = ("agreements.export_agreement",)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV with a header row."
            ),
            400: ERRORS[400],
        }
    )
    def get(self, request):
        """Every agreement matching the filters (the same as the list's) as CSV, streamed
        with constant memory."""
        lines = export.export_lines(filtered(request).qs)
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

    @extend_schema(
        parameters=YEAR_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="CSV with a header row: year, party_a, party_b, reference, type, "
                "then one 0/1 column per provision category ("
                + ", ".join(dyad_years.CATEGORY_COLUMNS)
                + ").",
            ),
            400: ERRORS[400],
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
        agreements = filtered(request, errors=errors).qs
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
