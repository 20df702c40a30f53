"""Partners API: nations, organizations and points of contact (read only)."""

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.api import check_parameters, flatten_errors

from ..filtersets import NationFilterSet, OrganizationFilterSet, PointOfContactFilterSet
from ..models import Membership, Nation, Organization, PointOfContact
from ..selectors import contacts_for, nations_with_lineage
from ..services import point_of_contact_save
from . import examples
from .serializers import (
    NationDetailSerializer,
    NationSerializer,
    OrganizationDetailSerializer,
    OrganizationSerializer,
    PointOfContactDetailSerializer,
    PointOfContactSerializer,
    PointOfContactWriteSerializer,
    PostingSerializer,
    ordered_postings,
)


@extend_schema(tags=["partners"])
@extend_schema_view(
    list=extend_schema(summary="List nations", examples=[examples.NATION_LIST]),
    retrieve=extend_schema(
        summary="Read a nation and its memberships", examples=[examples.NATION_DETAIL]
    ),
)
class NationViewSet(viewsets.ReadOnlyModelViewSet):
    """Nations (ISO 3166-1 and former states), looked up by ISO alpha-3."""

    queryset = Nation.objects.all()
    lookup_field = "iso3"
    lookup_value_regex = "[A-Za-z]{3}"
    filterset_class = NationFilterSet

    def get_object(self):
        self.kwargs["iso3"] = self.kwargs["iso3"].upper()
        return super().get_object()

    def get_queryset(self):
        queryset = nations_with_lineage()
        if self.action == "retrieve":
            return queryset.prefetch_related(
                Prefetch("memberships", queryset=Membership.objects.select_related("organization"))
            )
        return queryset

    def get_serializer_class(self):
        return NationDetailSerializer if self.action == "retrieve" else NationSerializer


@extend_schema(tags=["partners"])
@extend_schema_view(
    list=extend_schema(summary="List organizations", examples=[examples.ORGANIZATION_LIST]),
    retrieve=extend_schema(
        summary="Read an organization and its members", examples=[examples.ORGANIZATION_DETAIL]
    ),
)
class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    """International organizations and alliances, looked up by acronym (any case)."""

    queryset = Organization.objects.all()
    lookup_field = "acronym"
    lookup_url_kwarg = "acronym"
    lookup_value_regex = "[^/]+"
    filterset_class = OrganizationFilterSet

    def get_queryset(self):
        if self.action == "retrieve":
            return Organization.objects.prefetch_related(
                Prefetch("memberships", queryset=Membership.objects.select_related("nation"))
            )
        return Organization.objects.all()

    def get_object(self):
        queryset = self.get_queryset()
        match = queryset.filter(acronym__iexact=self.kwargs["acronym"]).first()
        if match is None:
            raise Http404
        return match

    def get_serializer_class(self):
        if self.action == "retrieve":
            return OrganizationDetailSerializer
        return OrganizationSerializer


def contact_write_data(request, *, partial: bool) -> dict:
    serializer = PointOfContactWriteSerializer(data=request.data, partial=partial)
    if not serializer.is_valid():
        raise ValidationError(flatten_errors(serializer.errors))
    data = dict(serializer.validated_data)
    if "postings" in data:
        data["postings"] = [dict(row) for row in data["postings"]]
    return data


@extend_schema(tags=["partners"])
@extend_schema_view(
    list=extend_schema(summary="List points of contact", examples=[examples.CONTACT_LIST]),
    retrieve=extend_schema(
        summary="Read a point of contact, its postings and agreements",
        examples=[examples.CONTACT_DETAIL],
    ),
    create=extend_schema(
        summary="Create a point of contact with its postings",
        request=PointOfContactWriteSerializer,
        responses={201: PointOfContactDetailSerializer},
        examples=[examples.CONTACT_WRITE, examples.CONTACT_DETAIL],
    ),
    update=extend_schema(
        summary="Replace a point of contact",
        request=PointOfContactWriteSerializer,
        responses={200: PointOfContactDetailSerializer},
        examples=[examples.CONTACT_WRITE, examples.CONTACT_DETAIL],
    ),
    partial_update=extend_schema(
        summary="Change some fields or the postings of a point of contact",
        request=PointOfContactWriteSerializer,
        responses={200: PointOfContactDetailSerializer},
        examples=[examples.CONTACT_PATCH, examples.CONTACT_DETAIL],
    ),
    postings=extend_schema(
        summary="List the postings of a point of contact, the current first",
        responses={200: PostingSerializer(many=True)},
        examples=[examples.CONTACT_POSTINGS],
        filters=False,
    ),
)
class PointOfContactViewSet(viewsets.ModelViewSet):
    """Attachés, liaison and desk officers with their postings (each to a nation or an
    organization, over dates; the current one first). Writes go through
    ``point_of_contact_save``; ``postings``, when given, replace the contact's postings.
    Contacts are deleted in the admin only."""

    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    queryset = PointOfContact.objects.all()
    filterset_class = PointOfContactFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return contacts_for(self.request.user, with_agreements=self.action != "list")

    def get_serializer_class(self):
        if self.action == "list":
            return PointOfContactSerializer
        if self.action == "postings":
            return PostingSerializer
        return PointOfContactDetailSerializer

    def _detail(self, pk, status_code=status.HTTP_200_OK):
        contact = self.get_queryset().get(pk=pk)
        serializer = PointOfContactDetailSerializer(contact, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def create(self, request, *args, **kwargs):
        data = contact_write_data(request, partial=False)
        contact = point_of_contact_save(actor=request.user, source="api", **data)
        return self._detail(contact.pk, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        contact = self.get_object()
        data = contact_write_data(request, partial=partial)
        point_of_contact_save(point_of_contact=contact, actor=request.user, source="api", **data)
        return self._detail(contact.pk)

    @action(detail=True, methods=["get"], pagination_class=None)
    def postings(self, request, pk=None):
        check_parameters(request, self)
        return Response(ordered_postings(self.get_object()))
