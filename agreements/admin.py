import datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from accounts.choices import Classification
from config.admin_access import RegistryAdminMixin
from config.admin_services import (
    ChangeHistoryAdminMixin,
    ServiceAdminMixin,
    ServiceForm,
    ServiceInlineFormSet,
)
from config.admin_widgets import SafeAutocompleteMixin
from partners.models import Nation

from .choices import ProvisionCategory
from .forms import ReviewAdminForm
from .models import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Provision,
    Reminder,
    Review,
)
from .selectors import rows_visible_to
from .services import (
    AGREEMENT_FIELDS,
    EVENT_FIELDS,
    PARTY_FIELDS,
    PROVISION_FIELDS,
    REVIEW_FIELDS,
    StaleVersion,
    agreement_delete,
    agreement_save,
    provision_delete,
    provision_save,
    review_delete,
    review_record,
    review_update,
    version_seen_by,
)


def _allowed_classifications(user) -> list[tuple[str, str]]:
    if user.is_superuser:
        return list(Classification.choices)
    allowed = Classification.up_to(user.clearance)
    return [(value, label) for value, label in Classification.choices if value in allowed]


class ClearanceAdminMixin(RegistryAdminMixin):
    """Applies the clearance rule to lists, search, autocomplete and object URLs: an object
    out of reach is a 404, exactly like one that does not exist. (Choices, lookups and
    delete pages: ``RegistryAdminMixin``.)"""

    def visible(self, request, queryset):
        return rows_visible_to(queryset, request.user)

    def get_queryset(self, request):
        return self.visible(request, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such record.")
        return obj

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "classification":
            kwargs["choices"] = _allowed_classifications(request.user)
        return super().formfield_for_choice_field(db_field, request, **kwargs)


# Change-list filters ----------------------------------------------------------------------


class RegionFilter(admin.SimpleListFilter):
    title = "party region"
    parameter_name = "region"

    def lookups(self, request, model_admin):
        regions = (
            Nation.objects.exclude(region="").order_by("region").values_list("region", flat=True)
        )
        return [(r, r) for r in dict.fromkeys(regions)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(parties__nation__region=self.value()).distinct()
        return queryset


class ProvisionCategoryFilter(admin.SimpleListFilter):
    title = "provision category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return ProvisionCategory.choices

    def queryset(self, request, queryset):
        if self.value():
            # Only provisions the user may see count, so a hidden annex reveals nothing.
            provisions = Provision.objects.visible_to(request.user).filter(category=self.value())
            return queryset.filter(pk__in=provisions.values("agreement_id"))
        return queryset


class ExpiringFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("90", "Expiring within 90 days"), ("30", "Expiring within 30 days")]

    def queryset(self, request, queryset):
        if self.value() in ("90", "30"):
            return queryset.expiring_within(int(self.value()))
        return queryset


# Inlines ------------------------------------------------------------------------------------


class PartyInline(SafeAutocompleteMixin, RegistryAdminMixin, admin.TabularInline):
    model = AgreementParty
    formset = ServiceInlineFormSet
    extra = 0
    autocomplete_fields = ("nation", "organization")
    fields = (
        "nation",
        "organization",
        "signed_on",
        "ratified_on",
        "entered_into_force_on",
        "withdrawn_on",
    )


class ProvisionInline(RegistryAdminMixin, admin.StackedInline):
    model = Provision
    formset = ServiceInlineFormSet
    extra = 0
    fields = (("category", "classification"), ("article", "title"), "text")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "classification":
            kwargs["choices"] = _allowed_classifications(request.user)
        return super().formfield_for_choice_field(db_field, request, **kwargs)


class EventInline(RegistryAdminMixin, admin.TabularInline):
    model = AgreementEvent
    formset = ServiceInlineFormSet
    extra = 0
    fields = ("date", "kind", "note", "created_by")
    readonly_fields = ("created_by",)


class ReadOnlyInline(RegistryAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = ("reviewed_on", "outcome", "reviewer", "notes")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewer")


class ReminderInline(ReadOnlyInline):
    model = Reminder
    fields = ("kind", "due_on", "days_before", "recipient", "status", "sent_at", "error")
    readonly_fields = fields


# Agreements --------------------------------------------------------------------------------


class AgreementForm(ServiceForm):
    """The agreement form: it collects itself and its inlines into one ``agreement_save``
    call. ``version_seen`` is the version the editor opened, so a save over someone else's
    change is refused like a stale ``If-Match``."""

    service = staticmethod(agreement_save)
    checked_by_inlines = True
    row_labels = {"parties": "Parties", "provisions": "Provisions", "events": "Events"}
    version_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Agreement
        fields = (*AGREEMENT_FIELDS, "watchers")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version_seen"] = version_seen_by(self.instance, self.request.user)

    def service_kwargs(self, formsets) -> dict:
        data = self.cleaned_data
        kwargs = {name: data[name] for name in AGREEMENT_FIELDS if name in data}
        if "watchers" in data:
            kwargs["watchers"] = list(data["watchers"])
        for formset in formsets:
            rows = [f for f in formset.forms if f not in formset.deleted_forms]
            rows = [f for f in rows if f.instance.pk or f.has_changed()]
            if formset.model is AgreementParty:
                kwargs["parties"] = [
                    AgreementParty(
                        nation=f.cleaned_data.get("nation"),
                        organization=f.cleaned_data.get("organization"),
                        **{name: f.cleaned_data.get(name) for name in PARTY_FIELDS},
                    )
                    for f in rows
                ]
            elif formset.model is Provision:
                kwargs["provisions"] = [
                    {"id": f.instance.pk}
                    | {name: f.cleaned_data.get(name) for name in PROVISION_FIELDS}
                    for f in rows
                ]
            elif formset.model is AgreementEvent:
                kwargs["events"] = [
                    {"id": f.instance.pk}
                    | {name: f.cleaned_data.get(name) for name in EVENT_FIELDS}
                    for f in rows
                ]
        return {
            "agreement": self.instance if self.instance.pk else None,
            "actor": self.request.user,
            "source": self.source,
            "expected_version": data.get("version_seen"),
            **kwargs,
        }

    def service_errors(self, formsets) -> list[str] | None:
        try:
            return super().service_errors(formsets)
        except StaleVersion:
            return [
                "Someone changed this agreement after you opened it; nothing was saved. "
                "Open it again to see their change, then make yours."
            ]


@admin.register(Agreement)
class AgreementAdmin(
    ServiceAdminMixin,
    ChangeHistoryAdminMixin,
    SafeAutocompleteMixin,
    ClearanceAdminMixin,
    admin.ModelAdmin,
):
    form = AgreementForm
    list_display = (
        "reference",
        "short_title_or_title",
        "type",
        "status",
        "classification",
        "party_codes",
        "signed_on",
        "expires_on",
        "notice_deadline",
    )
    list_filter = (
        "type",
        "status",
        "classification",
        RegionFilter,
        ProvisionCategoryFilter,
        ExpiringFilter,
        "auto_renews",
    )
    search_fields = (
        "reference",
        "title",
        "short_title",
        "parties__nation__name",
        "parties__nation__iso3",
        "parties__organization__acronym",
        "parties__organization__name",
    )
    date_hierarchy = "signed_on"
    list_per_page = 50
    autocomplete_fields = ("supersedes", "parent", "owner", "watchers")
    readonly_fields = ("notice_deadline", "created_at", "updated_at")
    inlines = [
        PartyInline,
        ProvisionInline,
        EventInline,
        ReviewInline,
        ReminderInline,
    ]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "title",
                    "short_title",
                    ("type", "status", "classification"),
                    "summary",
                    "source_url",
                )
            },
        ),
        (
            "Dates",
            {
                "fields": (
                    ("signed_on", "entered_into_force_on"),
                    ("expires_on", "terminated_on"),
                )
            },
        ),
        (
            "Renewal and notice",
            {
                "fields": (
                    ("auto_renews", "renewal_period_months"),
                    ("notice_period_days", "notice_given_on", "notice_deadline"),
                )
            },
        ),
        ("Review", {"fields": (("next_review_on", "review_interval_months"),)}),
        ("Links", {"fields": ("supersedes", "parent")}),
        ("People", {"fields": ("owner", "watchers", "office_email")}),
        ("Reminders", {"fields": ("reminder_offsets",), "classes": ("collapse",)}),
        (
            "Record",
            {
                "fields": ("version_seen", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )

    def get_queryset(self, request):
        parties = AgreementParty.objects.select_related("nation", "organization")
        return super().get_queryset(request).prefetch_related(Prefetch("parties", queryset=parties))

    LINKS = ("supersedes", "parent")

    def _hidden_links(self, request, obj) -> list[str]:
        """The links of ``obj`` that point at an agreement above the user's clearance: shown
        as such (never named) and left out of the form, so saving keeps them."""
        if obj is None:
            return []
        ids = {name: getattr(obj, f"{name}_id") for name in self.LINKS}
        ids = {name: pk for name, pk in ids.items() if pk}
        if not ids:
            return []
        seen = set(
            Agreement.objects.visible_to(request.user)
            .filter(pk__in=ids.values())
            .values_list("pk", flat=True)
        )
        return [name for name, pk in ids.items() if pk not in seen]

    def get_fieldsets(self, request, obj=None):
        hidden = self._hidden_links(request, obj)
        fieldsets = super().get_fieldsets(request, obj)
        if not hidden:
            return fieldsets
        swap = {name: f"{name}_out_of_reach" for name in hidden}
        return [
            (title, {**options, "fields": tuple(swap.get(f, f) for f in options["fields"])})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        hidden = self._hidden_links(request, obj)
        return (*super().get_readonly_fields(request, obj), *(f"{n}_out_of_reach" for n in hidden))

    @admin.display(description="supersedes")
    def supersedes_out_of_reach(self, obj):
        return "An agreement above your clearance"

    @admin.display(description="parent")
    def parent_out_of_reach(self, obj):
        return "An agreement above your clearance"

    def get_inline_instances(self, request, obj=None):
        instances = super().get_inline_instances(request, obj)
        if obj is None:  # nothing to show yet on a new agreement
            instances = [i for i in instances if isinstance(i, PartyInline | ProvisionInline)]
        return instances

    @admin.display(description="title", ordering="title")
    def short_title_or_title(self, obj):
        return obj.short_title or obj.title

    @admin.display(description="parties")
    def party_codes(self, obj):
        return ", ".join(party.code for party in obj.parties.all())

    # Saving: ServiceAdminMixin (one agreement_save call for the form and its inlines). Its
    # change message names only the agreement's own fields: the records of its inlines may be
    # classified above whoever reads the admin log. The change history has the details.

    def delete_record(self, request, obj):
        agreement_delete(agreement=obj, actor=request.user, source="admin")

    change_form_template = "admin/agreements/agreement/change_form.html"  # with the history

    def history_view(self, request, object_id, extra_context=None):
        """Django's admin log names the inline records a change touched, whatever their
        classification: send readers to the change history on the agreement instead, which
        applies the clearance rule (and also records what tasks and imports changed)."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        url = reverse("admin:agreements_agreement_change", args=[obj.pk])
        return redirect(f"{url}#change-history")


@admin.register(Provision)
class ProvisionAdmin(SafeAutocompleteMixin, ClearanceAdminMixin, admin.ModelAdmin):
    list_display = ("title", "article", "category", "classification", "agreement")
    list_filter = ("category", "classification")
    list_select_related = ("agreement",)
    search_fields = ("title", "article", "text", "agreement__reference", "agreement__title")
    autocomplete_fields = ("agreement",)

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
    list_display = ("agreement", "kind", "due_on", "days_before", "recipient", "status", "sent_at")
    list_filter = ("kind", "status")
    list_select_related = ("agreement",)
    search_fields = ("agreement__reference", "recipient")
    date_hierarchy = "due_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
