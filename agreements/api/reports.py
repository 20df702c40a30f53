"""Statistics and the CSV export: views over the agreements that match the list's filters.
The counting is ``agreements.statistics``, the rows ``agreements.export``."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import CSVRenderer, FilterBackend

from .. import export
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

    def filterset(self) -> AgreementFilterSet:
        """The filters of the request over the agreements the user may see (or a 400)."""
        return FilterBackend().valid_filterset(
            self.request, agreements_for(self.request.user), self
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
        lines = export.export_lines(self.filterset().qs)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="agreements.csv"'
        return response
