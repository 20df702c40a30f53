"""The partners admin. It writes only through ``partners/services.py``: each form hands its
cleaned data (and the organization's membership rows) to the record's service, which checks,
writes and records the change (``config/admin_services.py``); the change forms show the
history."""

from django.contrib import admin

from config.admin_access import RegistryAdminMixin
from config.admin_services import (
    ChangeHistoryAdminMixin,
    ServiceAdminMixin,
    ServiceForm,
    ServiceInlineFormSet,
)
from config.admin_widgets import SafeAutocompleteMixin

from .models import Membership, Nation, Organization, PointOfContact, Posting
from .services import (
    MEMBERSHIP_FIELDS,
    NATION_FIELDS,
    ORGANIZATION_FIELDS,
    POINT_OF_CONTACT_FIELDS,
    POSTING_FIELDS,
    nation_delete,
    nation_save,
    organization_delete,
    organization_save,
    point_of_contact_delete,
    point_of_contact_save,
)

# Forms --------------------------------------------------------------------------------------


class NationForm(ServiceForm):
    service = staticmethod(nation_save)

    class Meta:
        model = Nation
        fields = (*NATION_FIELDS, "successors")


class OrganizationForm(ServiceForm):
    """The organization with its memberships, in one ``organization_save`` call."""

    service = staticmethod(organization_save)
    checked_by_inlines = True
    row_labels = {"memberships": "Memberships"}

    class Meta:
        model = Organization
        fields = ORGANIZATION_FIELDS

    def service_kwargs(self, formsets) -> dict:
        kwargs = super().service_kwargs(formsets)
        for formset in formsets:
            if formset.model is Membership:
                kwargs["memberships"] = [
                    {"id": f.instance.pk} | formset.row_values(f, MEMBERSHIP_FIELDS)
                    for f in self.rows_of("memberships", formset)
                ]
        return kwargs


class PointOfContactForm(ServiceForm):
    """The contact with its postings, in one ``point_of_contact_save`` call."""

    service = staticmethod(point_of_contact_save)
    record_argument = "point_of_contact"
    checked_by_inlines = True
    row_labels = {"postings": "Postings"}

    class Meta:
        model = PointOfContact
        fields = POINT_OF_CONTACT_FIELDS

    def service_kwargs(self, formsets) -> dict:
        kwargs = super().service_kwargs(formsets)
        for formset in formsets:
            if formset.model is Posting:
                kwargs["postings"] = [
                    {"id": f.instance.pk} | formset.row_values(f, POSTING_FIELDS)
                    for f in self.rows_of("postings", formset)
                ]
        return kwargs


class PostingInline(SafeAutocompleteMixin, RegistryAdminMixin, admin.TabularInline):
    model = Posting
    formset = ServiceInlineFormSet
    extra = 0
    autocomplete_fields = ("nation", "organization")
    fields = POSTING_FIELDS
    ordering = ("-active_from", "id")


# Admins -------------------------------------------------------------------------------------


class MembershipInline(SafeAutocompleteMixin, RegistryAdminMixin, admin.TabularInline):
    model = Membership
    formset = ServiceInlineFormSet
    extra = 0
    autocomplete_fields = ("nation",)
    fields = MEMBERSHIP_FIELDS


@admin.register(Nation)
class NationAdmin(
    ServiceAdminMixin,
    ChangeHistoryAdminMixin,
    SafeAutocompleteMixin,
    RegistryAdminMixin,
    admin.ModelAdmin,
):
    form = NationForm
    list_display = ("iso3", "name", "region", "subregion", "is_historical", "valid_to")
    list_filter = ("region", "is_historical")
    search_fields = ("iso3", "iso2", "name", "official_name")
    ordering = ("name",)
    autocomplete_fields = ("successors",)

    def delete_record(self, request, obj):
        nation_delete(nation=obj, actor=request.user, source="admin")


@admin.register(Organization)
class OrganizationAdmin(
    ServiceAdminMixin, ChangeHistoryAdminMixin, RegistryAdminMixin, admin.ModelAdmin
):
    form = OrganizationForm
    list_display = ("acronym", "name", "kind")
    list_filter = ("kind",)
    search_fields = ("acronym", "name")
    inlines = [MembershipInline]

    def delete_record(self, request, obj):
        organization_delete(organization=obj, actor=request.user, source="admin")


@admin.register(PointOfContact)
class PointOfContactAdmin(
    ServiceAdminMixin,
    ChangeHistoryAdminMixin,
    SafeAutocompleteMixin,
    RegistryAdminMixin,
    admin.ModelAdmin,
):
    form = PointOfContactForm
    list_display = ("name", "rank", "role", "represents", "posted_to", "active_from", "active_to")
    list_filter = ("role",)
    list_select_related = ("represents", "posted_to")
    search_fields = ("name", "email", "represents__name", "posted_to__name")
    autocomplete_fields = ("represents",)
    readonly_fields = ("posted_to",)
    inlines = [PostingInline]

    def delete_record(self, request, obj):
        point_of_contact_delete(point_of_contact=obj, actor=request.user, source="admin")
