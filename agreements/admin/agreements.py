"""The agreement admin: the form and its inlines, written through ``agreement_save``."""

from django.contrib import admin, messages
from django.contrib.admin import ShowFacets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from accounts.choices import Classification
from config.admin_access import RegistryAdminMixin
from config.admin_services import (
    ChangeHistoryAdminMixin,
    ServiceAdminMixin,
    ServiceInlineFormSet,
)
from config.admin_widgets import SafeAutocompleteMixin

from ..choices import AgreementStatus
from ..forms import AgreementForm
from ..models import Agreement, AgreementEvent, AgreementParty, Provision, Reminder, Review
from ..reminders import recipients_for
from ..selectors import readers_among
from ..services import agreement_delete
from .actions import AgreementActionsMixin
from .filters import ExpiringFilter, PartnerFilter, ProvisionCategoryFilter, RegionFilter
from .mixins import ClearanceAdminMixin, _allowed_classifications


class PartyInline(SafeAutocompleteMixin, RegistryAdminMixin, admin.TabularInline):
    model = AgreementParty
    formset = ServiceInlineFormSet
    extra = 0
    # A new agreement starts with two empty party rows (a bilateral agreement needs no
    # click on "Add another"); rows left untouched are not parties (``rows()`` skips them).
    extra_on_add = 2
    autocomplete_fields = ("nation", "organization")
    fields = (
        "nation",
        "organization",
        "signed_on",
        "ratified_on",
        "entered_into_force_on",
        "withdrawn_on",
        "acts_link",
    )
    readonly_fields = ("acts_link",)

    def get_queryset(self, request):
        # The partners are selected with the rows: their autocomplete widgets show them
        # without a query each (SafeAutocompleteMixin).
        return (
            super()
            .get_queryset(request)
            .select_related("nation", "organization")
            .annotate(act_count=Count("acts"))
        )

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:  # a new agreement: no party to record acts on yet
            fields = [name for name in fields if name != "acts_link"]
        return fields

    @admin.display(description="acts")
    def acts_link(self, obj):
        if obj is None or not obj.pk:
            return "Save first, then record the acts."
        url = reverse("admin:agreements_agreementparty_change", args=[obj.pk])
        count = getattr(obj, "act_count", 0)
        return format_html(
            '<a href="{}">{} act{} – edit</a>', url, count, "" if count == 1 else "s"
        )

    def get_extra(self, request, obj=None, **kwargs):
        return self.extra_on_add if obj is None else self.extra


class ProvisionInline(RegistryAdminMixin, admin.StackedInline):
    model = Provision
    formset = ServiceInlineFormSet
    extra = 0
    extra_on_add = 1  # a new agreement starts with one provision row
    fields = (("category", "classification"), ("article", "title"), "text")

    def get_extra(self, request, obj=None, **kwargs):
        return self.extra_on_add if obj is None else self.extra

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


@admin.register(Agreement)
class AgreementAdmin(
    AgreementActionsMixin,
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
        PartnerFilter,  # first: the question asked most ("every agreement with ...")
        "type",
        "status",
        "classification",
        RegionFilter,
        ProvisionCategoryFilter,
        ExpiringFilter,
        "auto_renews",
    )
    # No counts beside the filters' choices (Django's "Show counts"): the filters narrow the
    # list, they never count what is behind a choice.
    show_facets = ShowFacets.NEVER
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
    autocomplete_fields = ("supersedes", "parent", "owner", "watchers", "contacts")
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
        ("People", {"fields": ("owner", "watchers", "office_email", "contacts")}),
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
        if obj is None:  # a new agreement has no record times yet
            fieldsets = [
                (title, {**options, "fields": ("version_seen",)})
                if title == "Record"
                else (title, options)
                for title, options in fieldsets
            ]
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

    # The list (nine columns beside the filters) and the form (the parties' table) need the
    # page's whole width on a laptop screen (1366 px): no navigation sidebar on these pages
    # (the breadcrumbs lead back to the other lists).
    WIDE_PAGE = {"is_nav_sidebar_enabled": False}

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**self.WIDE_PAGE, **(extra_context or {})})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**self.WIDE_PAGE, **(extra_context or {})}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_changeform_initial_data(self, request):
        """A new agreement is owned by whoever enters it, when they may own one (a reader:
        ``agreement_save`` checks the owner again against the classification chosen)."""
        initial = super().get_changeform_initial_data(request)
        if "owner" not in initial and readers_among([request.user], Classification.UNCLASSIFIED):
            initial["owner"] = request.user.pk
        return initial

    NOBODY_REMINDED = (
        "Nobody will get reminders of this agreement's dates: {why} Add an owner, a watcher "
        "or the office mailbox (people need an e-mail address, the read permission and "
        "clearance for the agreement)."
    )

    def warn_if_nobody_reminded(self, request, obj) -> None:
        """A warning (not an error: the agreement is saved) when the reminders of a
        not-yet-finished agreement would reach nobody (``recipients_for``, the reminders'
        own rule)."""
        if obj.status in AgreementStatus.final() or recipients_for(obj):
            return
        if obj.owner_id or obj.office_email or obj.watchers.exists():
            why = "none of its owner, watchers and office mailbox can receive them."
        else:
            why = "it has no owner, no watchers and no office mailbox."
        self.message_user(request, self.NOBODY_REMINDED.format(why=why), messages.WARNING)

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        self.warn_if_nobody_reminded(request, obj)
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        self.warn_if_nobody_reminded(request, obj)
        return response

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
