"""The engagement admin: the form and its participants, written through ``engagement_save``;
lists, choices, lookups and deletes within clearance."""

from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import Prefetch

from agreements.admin.mixins import ClearanceAdminMixin
from config.admin_access import RegistryAdminMixin
from config.admin_services import (
    ChangeHistoryAdminMixin,
    ServiceAdminMixin,
    ServiceInlineFormSet,
)
from config.admin_widgets import SafeAutocompleteMixin

from .forms import EngagementForm
from .models import Engagement, Participation
from .services import engagement_delete


class ParticipationInline(SafeAutocompleteMixin, RegistryAdminMixin, admin.TabularInline):
    model = Participation
    formset = ServiceInlineFormSet
    extra = 0
    extra_on_add = 2  # a new engagement starts with a host row and a participant row
    autocomplete_fields = ("nation", "organization")
    fields = ("nation", "organization", "role", "personnel")

    def get_extra(self, request, obj=None, **kwargs):
        return self.extra_on_add if obj is None else self.extra

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("nation", "organization")


@admin.register(Engagement)
class EngagementAdmin(
    ServiceAdminMixin,
    ChangeHistoryAdminMixin,
    SafeAutocompleteMixin,
    ClearanceAdminMixin,
    admin.ModelAdmin,
):
    form = EngagementForm
    list_display = (
        "title",
        "kind",
        "status",
        "classification",
        "starts_on",
        "ends_on",
        "participant_codes",
        "outcome",
    )
    list_filter = ("kind", "status", "domain", "classification", "outcome")
    show_facets = ShowFacets.NEVER
    search_fields = ("title", "location", "summary")
    date_hierarchy = "starts_on"
    list_per_page = 50
    autocomplete_fields = (
        "location_nation",
        "owner",
        "watchers",
        "agreements",
        "provisions",
        "contacts",
    )
    readonly_fields = ("created_at", "updated_at")
    inlines = [ParticipationInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    ("kind", "status", "classification"),
                    ("starts_on", "ends_on"),
                    "domain",
                    "summary",
                    "objectives",
                    "source_url",
                )
            },
        ),
        ("Where", {"fields": ("location", "location_nation", ("latitude", "longitude"))}),
        (
            "Under which agreements",
            {
                "fields": ("agreements", "provisions"),
                "description": "Only the agreements and provisions you may see are shown; "
                "links above your clearance stay as they are when you save.",
            },
        ),
        ("People", {"fields": ("owner", "watchers", "contacts")}),
        (
            "After action",
            {"fields": ("after_action_due_on", "outcome", "outcome_notes", "lessons")},
        ),
        (
            "Record",
            {"fields": ("version_seen", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )

    def get_queryset(self, request):
        participants = Participation.objects.select_related("nation", "organization")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("participants", queryset=participants))
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # a new engagement has no record times yet
            fieldsets = [
                (title, {**options, "fields": ("version_seen",)})
                if title == "Record"
                else (title, options)
                for title, options in fieldsets
            ]
        return fieldsets

    @admin.display(description="participants")
    def participant_codes(self, obj):
        return ", ".join(p.code for p in obj.participants.all())

    def delete_record(self, request, obj):
        engagement_delete(engagement=obj, actor=request.user, source="admin")
