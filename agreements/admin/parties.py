"""A party's own admin page: its acts, as a small ledger, written through the services.
Parties themselves are added and removed on the agreement's page."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from config.admin_access import RegistryAdminMixin
from config.admin_services import ServiceAdminMixin, ServiceInlineFormSet

from .. import party_acts
from ..choices import PartyStatus
from ..forms import PartyActsForm
from ..models import AgreementParty, PartyAct
from ..services.acts import ACT_FIELDS
from .mixins import ClearanceAdminMixin


class PartyActInline(RegistryAdminMixin, admin.TabularInline):
    model = PartyAct
    formset = ServiceInlineFormSet
    fields = ACT_FIELDS
    extra = 1


@admin.register(AgreementParty)
class AgreementPartyAdmin(ServiceAdminMixin, ClearanceAdminMixin, admin.ModelAdmin):
    form = PartyActsForm
    inlines = [PartyActInline]
    list_display = ("__str__", "agreement", "signed_on", "ratified_on", "withdrawn_on")
    list_select_related = ("agreement", "nation", "organization")
    search_fields = (
        "agreement__reference",
        "nation__iso3",
        "nation__name",
        "organization__acronym",
    )
    readonly_fields = ("agreement_link", "partner", "status_today", "periods")
    fields = ("version_seen", *readonly_fields)  # version_seen: hidden (PartyActsForm)

    def has_module_permission(self, request):
        return False  # reached from the agreement's page

    def has_add_permission(self, request):
        return False

    # A party goes with its agreement (the agreement's delete page asks this admin for the
    # permission) or is removed on the agreement's page; never deleted here.
    def delete_view(self, request, object_id, extra_context=None):
        self.get_object(request, unquote(object_id))  # out of reach: a 404, as everywhere
        raise PermissionDenied("Remove a party on its agreement's page.")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_record(self, request, obj):
        raise PermissionDenied("Remove a party on its agreement's page.")

    @admin.display(description="agreement")
    def agreement_link(self, obj):
        url = reverse("admin:agreements_agreement_change", args=[obj.agreement_id])
        return format_html('<a href="{}">{}</a>', url, obj.agreement)

    @admin.display(description="partner")
    def partner(self, obj):
        return f"{obj.partner} ({obj.code})"

    @admin.display(description="status today")
    def status_today(self, obj):
        from django.utils import timezone

        status = party_acts.status_on(obj.periods.all(), timezone.localdate())
        return dict(PartyStatus.choices).get(status, "—")

    @admin.display(description="periods (from the acts)")
    def periods(self, obj):
        labels = dict(PartyStatus.choices)
        rows = [
            f"{labels.get(p.status, p.status)}: {p.starts_on} – {p.ends_on or 'today'}"
            for p in obj.periods.all()
        ]
        return "; ".join(rows) or "—"
