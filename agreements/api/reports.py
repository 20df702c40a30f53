"""Statistics and the CSV export: views over the agreements that match the list's filters.
The counting is ``agreements.statistics``, the rows ``agreements.export``."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import export
from ..filtersets import AgreementFilterSet
from ..models import Agreement
from ..selectors import agreements_for
from ..statistics import agreement_counts
from .views import ERRORS, FilteredSchema


def filtered(request) -> AgreementFilterSet:
    filterset = AgreementFilterSet(
        data=request.query_params, queryset=agreements_for(request.user), request=request
    )
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
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
