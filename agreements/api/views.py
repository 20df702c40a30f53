"""Agreements API. Thin views: a queryset built on ``visible_to``, a serializer, the shared
FilterSet, a permission; writes call ``agreements.services``."""

from __future__ import annotations

from django.db.models import Prefetch, ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config import etags
from config.api import MAX_ID, CursorOrPagePagination, check_parameters, flatten_errors
from config.etags import ETAG, VersionedDetailMixin
from config.schema import RegistrySchema, error_response
from engagements.activity import with_activity
from engagements.selectors import engagements_in_short
from history.models import ChangeRecord
from partners.models import PointOfContact

from ..filtersets import AgreementFilterSet, ProvisionFilterSet
from ..models import (
    Agreement,
    AgreementEvent,
    Provision,
    Reminder,
    Review,
)
from ..selectors import (
    Later,
    agreement_prefetches,
    deadlines_for,
    one_with_related,
    reminders_for,
)
from ..services import agreement_delete, agreement_save
from ..services import review_record as record_review
from . import examples
from .detail import agreement_detail
from .serializers import (
    AgreementDetailSerializer,
    AgreementListRows,
    AgreementListSerializer,
    AgreementRefSerializer,
    AgreementWriteSerializer,
    ChangeRecordSerializer,
    ProvisionListSerializer,
    ProvisionSerializer,
    ReminderSerializer,
    ReviewInputSerializer,
    ReviewSerializer,
)

MAX_WITHIN_DAYS = 36500


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other records depend on this one."
    default_code = "conflict"


class FilteredSchema(RegistrySchema):
    """Document the FilterSet's parameters on views that are not plain lists."""

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])


def write_data(request, *, partial: bool) -> dict:
    serializer = AgreementWriteSerializer(
        data=request.data, partial=partial, context={"request": request}
    )
    if not serializer.is_valid():
        raise ValidationError(flatten_errors(serializer.errors))
    return dict(serializer.validated_data)


def update_schema(summary: str, example):
    return etags.update_schema(
        summary,
        example,
        noun="agreement",
        request=AgreementWriteSerializer,
        response=AgreementDetailSerializer,
        detail_example=examples.AGREEMENT_DETAIL,
    )


@extend_schema(tags=["agreements"])
@extend_schema_view(
    list=extend_schema(summary="List agreements, filtered", examples=[examples.AGREEMENT_LIST]),
    retrieve=extend_schema(
        summary="Read an agreement",
        examples=[examples.AGREEMENT_DETAIL],
        parameters=[ETAG],
    ),
    update=update_schema("Replace an agreement", examples.AGREEMENT_PUT),
    partial_update=update_schema("Change some fields of an agreement", examples.AGREEMENT_PATCH),
)
class AgreementViewSet(VersionedDetailMixin, viewsets.ModelViewSet):
    """Agreements you may see. Writes take parties and provisions in the same request, all
    or nothing."""

    filterset_class = AgreementFilterSet
    lookup_value_regex = r"\d+"
    pagination_class = CursorOrPagePagination
    # The permission check needs the model only, not the queryset (which asks whether the
    # user sees every reminder).
    permission_model = Agreement
    noun = "agreement"
    save_service = staticmethod(agreement_save)
    write_data = staticmethod(write_data)
    detail_serializer_class = AgreementDetailSerializer

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            # Only the columns a list item shows (not the summary or the search vector), as
            # rows, not model instances; the page's parties and provision categories are
            # read by ``AgreementListRows``. A format suffix takes DRF's own path (instances).
            rows = Agreement.objects.visible_to(user)
            if self.format_kwarg:
                return rows.only(*AgreementListRows.columns)
            return rows.values(*AgreementListRows.columns)
        return Agreement.objects.visible_to(user).select_related("supersedes", "parent", "owner")

    def detail_related(self) -> list:
        """What the detail shows besides the agreement (``one_with_related``)."""
        user = self.request.user
        return [
            *agreement_prefetches(user, provision_text=True),
            "parties__acts",
            "parties__periods",
            Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
            Prefetch("events", queryset=AgreementEvent.objects.all()),
            Later(
                "reminders",
                lambda: reminders_for(user).order_by("-due_on", "kind", "recipient"),
                to_attr="visible_reminders",
            ),
            "watchers",
            Prefetch("contacts", queryset=PointOfContact.objects.select_related("represents")),
            Later(
                "engagements",
                lambda: engagements_in_short(user),
                to_attr="visible_engagements",
            ),
        ]

    def get_object(self, pk=None):
        """The agreement of the URL (or ``pk``) with what the detail shows, in one query
        per relation that has rows; out of reach is a 404."""
        try:
            agreement = one_with_related(
                self.get_queryset(), self.detail_related(), pk=pk or self.kwargs["pk"]
            )
        except (Agreement.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404("No agreement matches the given query.") from exc
        self.check_object_permissions(self.request, agreement)
        return agreement

    def retrieve(self, request, *args, **kwargs):
        # Built from flat rows (``detail.agreement_detail``): the serializer's document.
        pk = int(kwargs["pk"])  # digits (lookup_value_regex)
        found = agreement_detail(request, pk) if pk <= MAX_ID else None
        if found is None:
            raise Http404("No agreement matches the given query.")
        document, etag = found
        response = Response(document)
        response["ETag"] = etag
        return response

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        if self.action == "list":
            return AgreementListSerializer
        return AgreementDetailSerializer

    def _detail(self, pk, status_code=status.HTTP_200_OK):
        """The agreement's detail with its ETag, as a read returns it (the flat-rows reader,
        ``detail.agreement_detail``), in the writer's transaction."""
        found = agreement_detail(self.request, pk)
        if found is None:  # a write cannot take a record out of its writer's reach
            raise Http404("No agreement matches the given query.")
        document, etag = found
        response = Response(document, status=status_code)
        response["ETag"] = etag
        return response

    @extend_schema(
        summary="Create an agreement with its parties and provisions",
        request=AgreementWriteSerializer,
        responses={201: AgreementDetailSerializer},
        examples=[examples.AGREEMENT_CREATE, examples.AGREEMENT_DETAIL],
        parameters=[ETAG],
    )
    def create(self, request, *args, **kwargs):
        data = write_data(request, partial=False)
        agreement = agreement_save(actor=request.user, source="api", **data)
        return self._detail(agreement.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete an agreement",
        responses={
            204: None,
            409: error_response(
                "Other agreements sit under it (parent): nothing was deleted.",
                {
                    "detail": "Other agreements sit under this one (parent); move or delete "
                    "them first."
                },
            ),
        },
    )
    def destroy(self, request, *args, **kwargs):
        agreement = self.get_object()
        try:
            agreement_delete(agreement=agreement, actor=request.user, source="api")
        except ProtectedError as exc:
            raise Conflict(
                "Other agreements sit under this one (parent); move or delete them first."
            ) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgreementChildMixin:
    """Lists under one agreement: the agreement must be visible, or it is a 404."""

    def agreement(self) -> Agreement:
        if not hasattr(self, "_agreement"):
            self._agreement = get_object_or_404(
                Agreement.objects.visible_to(self.request.user), pk=self.kwargs["agreement_pk"]
            )
        return self._agreement


@extend_schema(tags=["agreements"])
@extend_schema_view(
    get=extend_schema(
        summary="List the provisions of an agreement",
        examples=[examples.AGREEMENT_PROVISIONS],
    )
)
class AgreementProvisionsView(AgreementChildMixin, generics.ListAPIView):
    """The provisions of one agreement that you may see."""

    permission_model = Provision
    queryset = Provision.objects.none()  # the model, for the schema
    serializer_class = ProvisionSerializer

    def get_queryset(self):
        return Provision.objects.visible_to(self.request.user).filter(agreement=self.agreement())


@extend_schema(tags=["agreements"])
@extend_schema_view(
    get=extend_schema(summary="List the reviews of an agreement", examples=[examples.REVIEW_LIST])
)
class AgreementReviewsView(AgreementChildMixin, generics.ListCreateAPIView):
    """The reviews of one agreement; POST records one (the next review moves forward)."""

    permission_model = Review
    queryset = Review.objects.none()  # the model, for the schema
    serializer_class = ReviewSerializer

    def get_queryset(self):
        return Review.objects.filter(agreement=self.agreement()).select_related("reviewer")

    @extend_schema(
        summary="Record a review of an agreement",
        request=ReviewInputSerializer,
        responses={201: ReviewSerializer},
        examples=[examples.REVIEW_INPUT, examples.REVIEW_RECORDED],
    )
    def post(self, request, *args, **kwargs):
        agreement = self.agreement()
        serializer = ReviewInputSerializer(data=request.data)
        if not serializer.is_valid():
            raise ValidationError(flatten_errors(serializer.errors))
        review = record_review(
            agreement=agreement, actor=request.user, source="api", **serializer.validated_data
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["agreements"])
@extend_schema_view(
    get=extend_schema(summary="List the changes to an agreement", examples=[examples.HISTORY])
)
class AgreementHistoryView(AgreementChildMixin, generics.ListAPIView):
    """Who changed what on one agreement, newest first (changes you may see)."""

    permission_model = ChangeRecord
    queryset = ChangeRecord.objects.none()  # the model, for the schema
    serializer_class = ChangeRecordSerializer

    def get_queryset(self):
        return (
            ChangeRecord.objects.about(self.agreement()).visible_to(self.request.user).for_display()
        )


@extend_schema(tags=["provisions"])
@extend_schema_view(
    get=extend_schema(
        summary="List provisions, filtered by them or by their agreements",
        examples=[examples.PROVISION_LIST],
    )
)
class ProvisionListView(generics.ListAPIView):
    """Every provision you may see (both it and its agreement within your clearance)."""

    serializer_class = ProvisionListSerializer
    filterset_class = ProvisionFilterSet

    def get_queryset(self):
        user = self.request.user
        return with_activity(
            Provision.objects.visible_to(user)
            .select_related("agreement")
            .order_by("agreement__reference", "category", "article", "id"),
            user,
        )


@extend_schema(tags=["reminders"])
@extend_schema_view(
    get=extend_schema(summary="List the reminders sent to you", examples=[examples.REMINDER_LIST])
)
class ReminderListView(generics.ListAPIView):
    """The reminders sent to you (every reminder, for registry admins), only for agreements
    and engagements you may see."""

    permission_model = Reminder
    queryset = Reminder.objects.none()  # the model, for the schema
    serializer_class = ReminderSerializer

    def get_queryset(self):
        return reminders_for(self.request.user).select_related(
            "agreement", "posting__nation", "posting__organization", "engagement"
        )


class WithinSerializer(serializers.Serializer):
    within = serializers.IntegerField(
        min_value=0, max_value=MAX_WITHIN_DAYS, required=False, default=90
    )


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    due_on = serializers.DateField()
    days_left = serializers.IntegerField()
    agreement = AgreementRefSerializer()


@extend_schema(tags=["deadlines"])
class DeadlineListView(APIView):
    permission_model = Agreement
    query_parameters = ("within",)

    @extend_schema(
        summary="List upcoming deadlines",
        examples=[examples.DEADLINES],
        parameters=[WithinSerializer],
        responses={
            200: inline_serializer(
                "DeadlineList",
                {
                    "within": serializers.IntegerField(),
                    "count": serializers.IntegerField(),
                    "results": DeadlineSerializer(many=True),
                },
            ),
        },
    )
    def get(self, request):
        """Upcoming expiries, notice deadlines and reviews (today to ``within`` days ahead,
        default 90) across the agreements you may see, soonest first."""
        check_parameters(request, self)
        params = WithinSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        within = params.validated_data["within"]
        deadlines = deadlines_for(request.user, within=within)
        return Response(
            {
                "within": within,
                "count": len(deadlines),
                "results": deadline_rows(deadlines, request),
            }
        )


def deadline_rows(deadlines, request) -> list[dict]:
    """What ``DeadlineSerializer(deadlines, many=True)`` says, built as dicts (the same keys
    in the same order: ``tests/test_due_dates.py``) with the detail address reversed once,
    not once per row."""
    if request.parser_context.get("kwargs", {}).get("format"):
        return DeadlineSerializer(deadlines, many=True, context={"request": request}).data
    sentinel = 999_999_999
    head, tail = request.build_absolute_uri(
        reverse("api:agreement-detail", args=[sentinel])
    ).rsplit(str(sentinel), 1)
    today = timezone.localdate()
    return [
        {
            "kind": d.kind,
            "label": str(d.label),
            "due_on": d.due_on.isoformat(),
            "days_left": (d.due_on - today).days,
            "agreement": {
                "id": d.agreement.pk,
                "reference": d.agreement.reference,
                "title": d.agreement.title,
                "url": f"{head}{d.agreement.pk}{tail}",
            },
        }
        for d in deadlines
    ]
