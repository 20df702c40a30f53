from django.contrib import admin
from django.http import Http404
from django.utils.html import format_html, format_html_join

from config.admin_access import RegistryAdminMixin

from .models import ChangeRecord


@admin.register(ChangeRecord)
class ChangeRecordAdmin(RegistryAdminMixin, admin.ModelAdmin):
    """Read-only; the clearance rule of history is one filter, applied to every list,
    search and object URL here (a record out of reach is a 404)."""

    list_display = ("at", "related_repr", "summary", "who")
    list_filter = ("action", "changed_object_type")
    list_select_related = ("actor", "changed_object_type", "related_object_type")
    search_fields = ("related_repr", "object_repr")
    date_hierarchy = "at"
    # What the change was, as the pages show it (``ChangeRecord.display``), above the raw
    # fields the services wrote.
    fields = (
        "summary",
        "what_changed",
        "at",
        "actor",
        "source",
        "classification",
        "changed_object_type",
        "changed_object_id",
        "object_repr",
        "related_object_type",
        "related_object_id",
        "related_repr",
        "action",
        "changes",
    )
    readonly_fields = ("summary", "what_changed")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such record.")
        return obj

    @admin.display(description="by")
    def who(self, obj):
        return obj.actor_label

    @admin.display(description="record type", ordering="changed_object_type")
    def record_type(self, obj):
        return obj.record_type

    @admin.display(description="what")
    def summary(self, obj):
        return obj.display.summary

    @admin.display(description="changes")
    def what_changed(self, obj):
        rows = [(line.label, line.text) for line in obj.display.lines]
        if not rows:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
