"""Engagements API. Thin views: a queryset from ``engagements_for`` (the clearance rule), a
serializer, the shared FilterSet, a permission; writes call ``engagements.services``."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from agreements.api.views import FilteredSchema
from config.api import CSVRenderer, CursorOrPagePagination, FilterBackend, flatten_errors
from config.schema import error_response

from .. import export
from ..filtersets import EngagementFilterSet
from ..models import Engagement
from ..selectors import engagements_for
from ..services import StaleVersion, engagement_delete, engagement_save, version_seen_by
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


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The engagement changed since you read it; fetch it again."
    default_code = "precondition_failed"


def etag_of(engagement: Engagement, user) -> str:
    """The version as ``user`` sees it: it moves only when something they may see changed."""
    return f'"{version_seen_by(engagement, user)}"'


def expected_version(request) -> int | None:
    """The version named by ``If-Match`` (``"7"`` or ``W/"7"``); None without the header."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', header)
    if match is None:
        raise PreconditionFailed('If-Match must be the ETag of the engagement, e.g. "3".')
    return int(match.group(1))


def write_data(request, *, partial: bool) -> dict:
    serializer = EngagementWriteSerializer(
        data=request.data, partial=partial, context={"request": request}
    )
    if not serializer.is_valid():
        raise ValidationError(flatten_errors(serializer.errors))
    return serializer.service_kwargs()


ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description='The version you see, for If-Match (e.g. "3").',
)
STALE = error_response(
    "The engagement changed since the ETag sent in If-Match: nothing was written.",
    {"detail": "The engagement changed since you read it; fetch it again."},
)


def update_schema(summary: str, example):
    return extend_schema(
        summary=summary,
        request=EngagementWriteSerializer,
        responses={200: EngagementDetailSerializer, 412: STALE},
        examples=[example, examples.ENGAGEMENT_DETAIL],
        parameters=[
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description='The ETag from a GET (e.g. "3"); a stale one is a 412.',
            ),
            ETAG,
        ],
    )


@extend_schema(tags=["engagements"])
@extend_schema_view(
    list=extend_schema(summary="List engagements, filtered", examples=[examples.ENGAGEMENT_LIST]),
    retrieve=extend_schema(
        summary="Read an engagement",
        examples=[examples.ENGAGEMENT_DETAIL],
        parameters=[ETAG],
    ),
)
class EngagementViewSet(viewsets.ModelViewSet):
    """Engagements you may see (exercises, training, exchanges, visits…), with their
    participants and the agreements and provisions they implement that you may see. Writes
    take the participants and links in the same request, all or nothing."""

    filterset_class = EngagementFilterSet
    lookup_value_regex = r"\d+"
    pagination_class = CursorOrPagePagination

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

    def _detail(self, pk, status_code=status.HTTP_200_OK):
        engagement = self.get_queryset().get(pk=pk)
        serializer = EngagementDetailSerializer(engagement, context=self.get_serializer_context())
        response = Response(serializer.data, status=status_code)
        response["ETag"] = etag_of(engagement, self.request.user)
        return response

    def retrieve(self, request, *args, **kwargs):
        engagement = self.get_object()
        response = Response(self.get_serializer(engagement).data)
        response["ETag"] = etag_of(engagement, request.user)
        return response

    @extend_schema(
        summary="Record an engagement with its participants and links",
        request=EngagementWriteSerializer,
        responses={201: EngagementDetailSerializer},
        examples=[examples.ENGAGEMENT_CREATE, examples.ENGAGEMENT_DETAIL],
        parameters=[ETAG],
    )
    def create(self, request, *args, **kwargs):
        data = write_data(request, partial=False)
        engagement = engagement_save(actor=request.user, source="api", **data)
        return self._detail(engagement.pk, status.HTTP_201_CREATED)

    @update_schema("Replace an engagement", examples.ENGAGEMENT_PUT)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        engagement = self.get_object()
        version = expected_version(request)
        if version is not None and version != version_seen_by(engagement, request.user):
            raise PreconditionFailed()
        data = write_data(request, partial=partial)
        try:
            engagement_save(
                engagement=engagement,
                actor=request.user,
                expected_version=version,
                source="api",
                **data,
            )
        except StaleVersion as exc:
            raise PreconditionFailed() from exc
        return self._detail(engagement.pk)

    @update_schema("Change some fields of an engagement", examples.ENGAGEMENT_PATCH)
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

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
