from django.contrib import admin

from config.admin_actions import SafeActionsMixin
from config.admin_widgets import SafeAutocompleteMixin

from .models import Membership, Nation, Organization, PointOfContact


class MembershipInline(SafeAutocompleteMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("nation",)
    fields = ("nation", "joined_on", "left_on")


@admin.register(Nation)
class NationAdmin(SafeActionsMixin, admin.ModelAdmin):
    list_display = ("iso3", "name", "region", "subregion", "is_historical")
    list_filter = ("region", "is_historical")
    search_fields = ("iso3", "iso2", "name", "official_name")
    ordering = ("name",)


@admin.register(Organization)
class OrganizationAdmin(SafeActionsMixin, admin.ModelAdmin):
    list_display = ("acronym", "name", "kind")
    list_filter = ("kind",)
    search_fields = ("acronym", "name")
    inlines = [MembershipInline]


@admin.register(PointOfContact)
class PointOfContactAdmin(SafeActionsMixin, SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ("name", "rank", "role", "represents", "posted_to", "active_from", "active_to")
    list_filter = ("role",)
    list_select_related = ("represents", "posted_to")
    search_fields = ("name", "email", "represents__name", "posted_to__name")
    autocomplete_fields = ("represents", "posted_to")
