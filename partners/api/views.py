"""Partners API: nations, organizations and points of contact (read only)."""

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from ..filtersets import NationFilterSet, OrganizationFilterSet, PointOfContactFilterSet
from ..models import Membership, Nation, Organization, PointOfContact
from ..selectors import nations_with_lineage
from . import examples
from .serializers import (
    NationDetailSerializer,
    NationSerializer,
    OrganizationDetailSerializer,
    OrganizationSerializer,
    PointOfContactSerializer,
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


@extend_schema(tags=["partners"])
@extend_schema_view(
    list=extend_schema(summary="List points of contact", examples=[examples.CONTACT_LIST]),
    retrieve=extend_schema(summary="Read a point of contact", examples=[examples.CONTACT_DETAIL]),
)
class PointOfContactViewSet(viewsets.ReadOnlyModelViewSet):
    """Attachés, liaison and desk officers."""

    queryset = PointOfContact.objects.select_related("represents", "posted_to")
    serializer_class = PointOfContactSerializer
    filterset_class = PointOfContactFilterSet
