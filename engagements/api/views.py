"""Engagements API. Thin views: a queryset from ``engagements_for`` (the clearance rule), a
serializer, the shared FilterSet, a permission; writes call ``engagements.services``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from agreements.api.views import FilteredSchema
from config import etags
from config.api import CSVRenderer, CursorOrPagePagination, FilterBackend, flatten_errors
from config.etags import ETAG, VersionedDetailMixin
from config.renderers import JSONRenderer
from config.schema import error_response

from .. import export
from ..filtersets import EngagementFilterSet, EngagementStatisticsFilterSet
from ..models import Engagement
from ..selectors import engagements_for
from ..services import engagement_delete, engagement_save
from ..statistics import GROUPINGS as STAT_GROUPINGS
from ..statistics import engagement_counts, grouped_counts
from . import examples
from .serializers import (
    EngagementDetailSerializer,
    EngagementListSerializer,
    EngagementWriteSerializer,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other records depend on this one."
    default_code = "conflict"


HIDDEN_LINKS = (
    "This engagement is linked to agreements or provisions above your clearance; someone "
    "cleared for them must delete it."
)


def write_data(request, *, partial: bool) -> dict:
    serializer = EngagementWriteSerializer(
        data=request.data, partial=partial, context={"request": request}
    )
    if not serializer.is_valid():
        raise ValidationError(flatten_errors(serializer.errors))
    return serializer.service_kwargs()


def update_schema(summary: str, example):
    return etags.update_schema(
        summary,
        example,
        noun="engagement",
        request=EngagementWriteSerializer,
        response=EngagementDetailSerializer,
        detail_example=examples.ENGAGEMENT_DETAIL,
    )


@extend_schema(tags=["engagements"])
@extend_schema_view(
    list=extend_schema(summary="List engagements, filtered", examples=[examples.ENGAGEMENT_LIST]),
    retrieve=extend_schema(
        summary="Read an engagement",
        examples=[examples.ENGAGEMENT_DETAIL],
        parameters=[ETAG],
    ),
    create=extend_schema(
        summary="Record an engagement with its participants and links",
        request=EngagementWriteSerializer,
        responses={201: EngagementDetailSerializer},
        examples=[examples.ENGAGEMENT_CREATE, examples.ENGAGEMENT_DETAIL],
        parameters=[ETAG],
    ),
    update=update_schema("Replace an engagement", examples.ENGAGEMENT_PUT),
    partial_update=update_schema("Change some fields of an engagement", examples.ENGAGEMENT_PATCH),
)
class EngagementViewSet(VersionedDetailMixin, viewsets.ModelViewSet):
    """Engagements you may see (exercises, training, exchanges, visits…), with their
    participants and the agreements and provisions they implement that you may see. Writes
    take the participants and links in the same request, all or nothing."""

    filterset_class = EngagementFilterSet
    lookup_value_regex = r"\d+"
    pagination_class = CursorOrPagePagination
    noun = "engagement"
    save_service = staticmethod(engagement_save)
    write_data = staticmethod(write_data)
    detail_serializer_class = EngagementDetailSerializer

    def get_queryset(self):
        queryset = engagements_for(self.request.user)
        if self.action == "list":
            return queryset
        return queryset.prefetch_related("watchers")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        if self.action == "list":
            return EngagementListSerializer
        return EngagementDetailSerializer

    @extend_schema(
        summary="Delete an engagement",
        responses={
            204: None,
            409: error_response(
                "It is linked to an agreement or provision above your clearance: nothing was "
                "deleted.",
                {"detail": HIDDEN_LINKS},
            ),
        },
    )
    def destroy(self, request, *args, **kwargs):
        """Refused (409) when it is linked to an agreement or provision above your
        clearance: someone cleared for it must delete it."""
        engagement = self.get_object()
        try:
            engagement_delete(engagement=engagement, actor=request.user, source="api")
        except PermissionDenied as exc:
            raise Conflict(HIDDEN_LINKS) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["engagements"])
class EngagementExportView(APIView):
    """Every engagement you may see matching the filters (the same as the list's) as CSV."""

    permission_model = Engagement
    extra_permissions = ("engagements.export_engagement",)
    filter_backends = [FilterBackend]
    filterset_class = EngagementFilterSet
    queryset = Engagement.objects.none()
    schema = FilteredSchema()
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Export engagements, filtered, as CSV",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV with a header row."
            ),
        },
        examples=[examples.EXPORT],
    )
    def get(self, request):
        """Every engagement matching the filters (the same as the list's) as CSV, streamed
        with constant memory: ``participants`` as ``CODE:role`` pairs, the ``agreements``
        (references) and ``provision_categories`` you may see, ``;``-separated."""
        filterset = FilterBackend().valid_filterset(request, engagements_for(request.user), self)
        lines = export.export_lines(filterset.qs)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="engagements.csv"'
        return response


class EngagementCountSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class EngagementStatisticsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_year = EngagementCountSerializer(many=True)
    by_kind = EngagementCountSerializer(many=True)
    by_status = EngagementCountSerializer(many=True)
    by_partner = EngagementCountSerializer(many=True)


def _value(kind, help_text):
    return kind(allow_null=True, required=False, help_text=help_text)


class EngagementGroupSerializer(serializers.Serializer):
    """One combination: the value of each grouping asked for (null: none), the label of the
    coded ones, and how many engagements are in it."""

    year = _value(serializers.IntegerField, "The year it starts.")
    kind = _value(serializers.CharField, "Engagement kind.")
    kind_label = _value(serializers.CharField, "")
    status = _value(serializers.CharField, "Engagement status.")
    status_label = _value(serializers.CharField, "")
    domain = _value(serializers.CharField, "Domain (null: not recorded).")
    domain_label = _value(serializers.CharField, "")
    partner = _value(serializers.CharField, "A participant's code (nation or organization).")
    partner_label = _value(serializers.CharField, "")
    count = serializers.IntegerField()


class EngagementGroupedStatisticsSerializer(serializers.Serializer):
    group_by = serializers.ListField(child=serializers.ChoiceField(choices=STAT_GROUPINGS))
    total = serializers.IntegerField()
    results = EngagementGroupSerializer(many=True)


@extend_schema(tags=["engagements"])
class EngagementStatisticsView(APIView):
    """Counts of the engagements you may see that match the filters (the list's)."""

    permission_model = Engagement
    extra_permissions = ("agreements.view_statistics",)
    filter_backends = [FilterBackend]
    filterset_class = EngagementStatisticsFilterSet
    queryset = Engagement.objects.none()
    schema = FilteredSchema()

    @extend_schema(
        summary="Count engagements, filtered, by year, kind, status and partner, or by one or "
        "two groupings together",
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="EngagementStatisticsAnswer",
                    serializers=[
                        EngagementStatisticsSerializer,
                        EngagementGroupedStatisticsSerializer,
                    ],
                    resource_type_field_name=None,
                ),
                description="Without group_by, the counts by the year they start, kind, "
                "status and partner; with it, a count per combination.",
            ),
        },
        examples=[examples.STATISTICS, examples.STATISTICS_GROUPED],
    )
    def get(self, request):
        """Counts of the engagements matching the filters (the same as the list's), by the
        year they start, kind, status and partner (each participant, in any role); with
        ``group_by`` (one or two of year, kind, status, domain, partner), a count per
        combination, where an engagement counts once in every group it belongs to (one with
        three participants counts once for each). Engagements per partner per year since
        2015: ``group_by=partner,year&starts_after=2015-01-01``."""
        filterset = FilterBackend().valid_filterset(request, engagements_for(request.user), self)
        group_by = filterset.form.cleaned_data.get("group_by")
        if group_by:
            return Response(grouped_counts(filterset.qs, group_by=group_by).as_dict())
        return Response(engagement_counts(filterset.qs))
