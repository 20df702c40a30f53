import datetime
import json

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import NestedObjects, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from accounts.choices import Classification
from config.admin_actions import SafeActionsMixin
from config.admin_widgets import SafeAutocompleteMixin
from partners.models import Nation

from .choices import ProvisionCategory
from .models import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    ChangeRecord,
    Provision,
    Reminder,
    Review,
)
from .services import (
    agreement_bump_version,
    agreement_delete,
    agreement_save,
    party_set_errors,
    review_record,
)


def _allowed_classifications(user) -> list[tuple[str, str]]:
    if user.is_superuser:
        return list(Classification.choices)
    allowed = Classification.up_to(user.clearance)
    return [(value, label) for value, label in Classification.choices if value in allowed]


class ClearanceAdminMixin(SafeActionsMixin):
    """Applies the clearance rule to lists, search, autocomplete and object URLs: an object
    out of reach is a 404, exactly like one that does not exist."""

    def visible(self, request, queryset):
        return queryset.visible_to(request.user)

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

    def get_deleted_objects(self, objs, request):
        """Django's delete confirmation names every record the delete takes with it (an
        agreement's provisions) or that stops it (agreements under it): one above the user's
        clearance is shown as such, never named."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        hidden = _out_of_reach_dependents(objs, request.user)
        if hidden:
            deleted, protected = _masked(deleted, hidden), _masked(protected, hidden)
        return deleted, counts, perms_needed, protected


def _out_of_reach_dependents(objs, user) -> dict[str, str]:
    """For each record that deleting ``objs`` reaches and ``user`` may not see: the link to
    it in Django's confirmation list, and the label to show instead."""
    objs = list(objs)
    if not objs:
        return {}
    collector = NestedObjects(using=router.db_for_write(type(objs[0])))
    collector.collect(objs)
    reached: dict = {}
    taken = (obj for found in collector.model_objs.values() for obj in found)
    for obj in [*taken, *collector.protected]:
        reached.setdefault(type(obj), set()).add(obj.pk)
    hidden = {}
    for model, pks in reached.items():
        queryset = model._default_manager.all()
        if not hasattr(queryset, "visible_to"):
            continue
        seen = set(queryset.visible_to(user).filter(pk__in=pks).values_list("pk", flat=True))
        opts = model._meta
        for pk in pks - seen:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            hidden[f'href="{url}"'] = f"{capfirst(opts.verbose_name)} above your clearance"
    return hidden


def _masked(entries: list, hidden: dict[str, str]) -> list:
    """Django's nested list of formatted records, each hidden one replaced by its label
    (and what it would take with it left out)."""
    out, skip_children = [], False
    for entry in entries:
        if isinstance(entry, list):
            if not skip_children:
                out.append(_masked(entry, hidden))
            skip_children = False
            continue
        label = next((text for link, text in hidden.items() if link in str(entry)), None)
        out.append(entry if label is None else label)
        skip_children = label is not None
    return out


class ThroughAgreementMixin(ClearanceAdminMixin):
    """For records whose visibility is their agreement's."""

    def visible(self, request, queryset):
        return queryset.filter(agreement__in=Agreement.objects.visible_to(request.user))


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


class PartyInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        codes = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            partner = data.get("nation") or data.get("organization")
            if partner is not None:
                codes.append(partner.code)
        messages = party_set_errors(self.instance.status, codes)
        if messages:
            raise ValidationError(messages)


class PartyInline(SafeAutocompleteMixin, admin.TabularInline):
    model = AgreementParty
    formset = PartyInlineFormSet
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


class ProvisionInline(admin.StackedInline):
    model = Provision
    extra = 0
    fields = (("category", "classification"), ("article", "title"), "text")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "classification":
            kwargs["choices"] = _allowed_classifications(request.user)
        return super().formfield_for_choice_field(db_field, request, **kwargs)


class EventInline(admin.TabularInline):
    model = AgreementEvent
    extra = 0
    fields = ("date", "kind", "note", "created_by")
    readonly_fields = ("created_by",)


class ReadOnlyInline(admin.TabularInline):
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


class ChangeRecordInline(ReadOnlyInline):
    model = ChangeRecord
    verbose_name_plural = "change history"
    classes = ("collapse",)
    fields = ("at", "who", "action", "record_type", "object_repr", "changes_table")
    readonly_fields = fields
    ordering = ("-at", "-id")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("actor")

    @admin.display(description="by")
    def who(self, obj):
        return obj.actor_label

    @admin.display(description="record type")
    def record_type(self, obj):
        return obj.record_type

    @admin.display(description="what changed")
    def changes_table(self, obj):
        if not obj.changes:
            return "—"
        return format_html(
            "<table class='history-diff'>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td><td>→</td><td>{}</td></tr>",
                (
                    (field, _show(values[0]), _show(values[1]))
                    for field, values in sorted(obj.changes.items())
                ),
            ),
        )


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value if len(value) < 120 else value[:117] + "…"
    return json.dumps(value)


# Agreements --------------------------------------------------------------------------------


@admin.register(Agreement)
class AgreementAdmin(SafeAutocompleteMixin, ClearanceAdminMixin, admin.ModelAdmin):
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
    readonly_fields = ("notice_deadline", "version", "created_at", "updated_at")
    inlines = [
        PartyInline,
        ProvisionInline,
        EventInline,
        ReviewInline,
        ReminderInline,
        ChangeRecordInline,
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
        ("Record", {"fields": ("version", "created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        parties = AgreementParty.objects.select_related("nation", "organization")
        return super().get_queryset(request).prefetch_related(Prefetch("parties", queryset=parties))

    LINKS = ("supersedes", "parent")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.LINKS:
            kwargs["queryset"] = Agreement.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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

    def save_model(self, request, obj, form, change):
        agreement_save(agreement=obj, actor=request.user, bump_version=False)

    def save_formset(self, request, form, formset, change):
        if formset.model is AgreementEvent:
            for event_form in formset.forms:
                if event_form.has_changed() and not event_form.instance.created_by_id:
                    event_form.instance.created_by = request.user
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(fs.has_changed() for fs in formsets)):
            agreement_bump_version(agreement=form.instance)

    def delete_model(self, request, obj):
        agreement_delete(agreement=obj, actor=request.user)

    def history_view(self, request, object_id, extra_context=None):
        """Django's admin log names the inline records a change touched, whatever their
        classification: send readers to the change history on the agreement instead, which
        applies the clearance rule (and also records what tasks and imports changed)."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        url = reverse("admin:agreements_agreement_change", args=[obj.pk])
        return redirect(f"{url}#changes-group")


@admin.register(Provision)
class ProvisionAdmin(SafeAutocompleteMixin, ClearanceAdminMixin, admin.ModelAdmin):
    list_display = ("title", "article", "category", "classification", "agreement")
    list_filter = ("category", "classification")
    list_select_related = ("agreement",)
    search_fields = ("title", "article", "text", "agreement__reference", "agreement__title")
    autocomplete_fields = ("agreement",)


@admin.register(Review)
class ReviewAdmin(SafeAutocompleteMixin, ThroughAgreementMixin, admin.ModelAdmin):
    list_display = ("agreement", "reviewed_on", "outcome", "reviewer")
    list_filter = ("outcome",)
    list_select_related = ("agreement", "reviewer")
    date_hierarchy = "reviewed_on"
    search_fields = ("agreement__reference", "agreement__title", "notes")
    autocomplete_fields = ("agreement", "reviewer")

    def get_changeform_initial_data(self, request):
        return {"reviewed_on": datetime.date.today(), "reviewer": request.user.pk}

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = review_record(
            agreement=obj.agreement,
            reviewed_on=obj.reviewed_on,
            outcome=obj.outcome,
            notes=obj.notes,
            reviewer=obj.reviewer,
            actor=request.user,
        )
        obj.pk = saved.pk


@admin.register(Reminder)
class ReminderAdmin(ThroughAgreementMixin, admin.ModelAdmin):
    list_display = ("agreement", "kind", "due_on", "days_before", "recipient", "status", "sent_at")
    list_filter = ("kind", "status")
    list_select_related = ("agreement",)
    search_fields = ("agreement__reference", "recipient")
    date_hierarchy = "due_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ClearanceAdminMixin, admin.ModelAdmin):
    list_display = ("at", "agreement_reference", "record_type", "object_repr", "action", "who")
    list_filter = ("action", "model")
    list_select_related = ("actor",)
    search_fields = ("agreement_reference", "object_repr")
    date_hierarchy = "at"

    @admin.display(description="by")
    def who(self, obj):
        return obj.actor_label

    @admin.display(description="record type", ordering="model")
    def record_type(self, obj):
        return obj.record_type

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
