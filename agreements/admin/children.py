"""Provisions, reviews and reminders on their own admin pages."""

import datetime

from django.contrib import admin

from config.admin_widgets import SafeAutocompleteMixin

from ..forms import ReviewAdminForm
from ..models import Provision, Reminder, Review
from ..services import (
    PROVISION_FIELDS,
    REVIEW_FIELDS,
    provision_delete,
    provision_save,
    review_delete,
    review_record,
    review_update,
)
from .mixins import ClearanceAdminMixin


@admin.register(Provision)
class ProvisionAdmin(SafeAutocompleteMixin, ClearanceAdminMixin, admin.ModelAdmin):
    list_display = ("title", "article", "category", "classification", "agreement")
    list_filter = ("category", "classification")
    list_select_related = ("agreement",)
    search_fields = ("title", "article", "text", "agreement__reference", "agreement__title")
    autocomplete_fields = ("agreement",)

    def get_readonly_fields(self, request, obj=None):
        # A provision stays with its agreement (provision_save refuses a move).
        extra = ("agreement",) if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *extra)

    def save_model(self, request, obj, form, change):
        values = {name: getattr(obj, name) for name in PROVISION_FIELDS}
        saved = provision_save(
            provision=obj if change else None,
            agreement=obj.agreement,
            actor=request.user,
            source="admin",
            **values,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        provision_delete(provision=obj, actor=request.user, source="admin")

    def delete_queryset(self, request, queryset):
        for provision in queryset:
            provision_delete(provision=provision, actor=request.user, source="admin")


@admin.register(Review)
class ReviewAdmin(SafeAutocompleteMixin, ClearanceAdminMixin, admin.ModelAdmin):
    list_display = ("agreement", "reviewed_on", "outcome", "reviewer")
    list_filter = ("outcome",)
    list_select_related = ("agreement", "reviewer")
    date_hierarchy = "reviewed_on"
    search_fields = ("agreement__reference", "agreement__title", "notes")
    autocomplete_fields = ("agreement", "reviewer")

    def get_readonly_fields(self, request, obj=None):
        # A review stays with the agreement it was recorded on (review_update keeps it).
        extra = ("agreement",) if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *extra)

    form = ReviewAdminForm

    def get_changeform_initial_data(self, request):
        return {"reviewed_on": datetime.date.today(), "reviewer": request.user.pk}

    def save_model(self, request, obj, form, change):
        if change:
            review_update(
                review=obj,
                actor=request.user,
                source="admin",
                **{name: getattr(obj, name) for name in REVIEW_FIELDS},
            )
            return
        saved = review_record(
            agreement=obj.agreement,
            reviewed_on=obj.reviewed_on,
            outcome=obj.outcome,
            notes=obj.notes,
            reviewer=obj.reviewer,
            actor=request.user,
            source="admin",
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        review_delete(review=obj, actor=request.user, source="admin")

    def delete_queryset(self, request, queryset):
        for review in queryset:
            review_delete(review=review, actor=request.user, source="admin")


@admin.register(Reminder)
class ReminderAdmin(ClearanceAdminMixin, admin.ModelAdmin):
    list_display = (
        "agreement",
        "posting",
        "engagement",
        "kind",
        "due_on",
        "days_before",
        "recipient",
        "status",
        "sent_at",
    )
    list_filter = ("kind", "status")
    list_select_related = (
        "agreement",
        "posting__contact",
        "posting__nation",
        "posting__organization",
        "engagement",
    )
    search_fields = (
        "agreement__reference",
        "posting__contact__name",
        "engagement__title",
        "recipient",
    )
    date_hierarchy = "due_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
