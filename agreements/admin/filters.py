"""Change-list filters of the agreements admin. None of them shows counts (the admin has
``show_facets = NEVER``), and the partner filter offers only partners of agreements the user
may see, so no filter tells of a record above the user's clearance."""

import datetime

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from partners.models import Nation, Organization

from ..choices import ProvisionCategory, ReminderKind
from ..models import Agreement, AgreementParty, Provision


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
    """Agreements whose expiry is due within N days by the deadlines' rule
    (``DUE_DATE_RULES``): live agreements only, as on the deadlines page and in the
    reminders, so a terminated agreement whose old expiry date is near is not "expiring"."""

    title = "expiry"
    parameter_name = "expiring"
    WINDOWS = (180, 90, 30)

    def lookups(self, request, model_admin):
        return [(str(days), f"Expiring within {days} days") for days in self.WINDOWS]

    def queryset(self, request, queryset):
        if self.value() in {str(days) for days in self.WINDOWS}:
            today = timezone.localdate()
            end = today + datetime.timedelta(days=int(self.value()))
            return queryset.due_in_windows({ReminderKind.EXPIRY: (today, end)})
        return queryset


class PartnerFilter(admin.SimpleListFilter):
    """Agreements with a partner (a nation or an organization) as a party. There are some
    250 nations, too many for a list of links: the filter is a text box that suggests the
    partners (a datalist: type a few letters of the name or the code), offering only the
    partners of agreements the user may see. A nation or organization code, or a name,
    case aside."""

    title = "partner"
    parameter_name = "partner"
    template = "admin/agreements/partner_filter.html"

    def lookups(self, request, model_admin):
        parties = AgreementParty.objects.filter(
            agreement__in=Agreement.objects.visible_to(request.user)
        )
        nations = (
            Nation.objects.filter(pk__in=parties.values("nation_id"))
            .order_by("name")
            .values_list("iso3", "name")
        )
        organizations = (
            Organization.objects.filter(pk__in=parties.values("organization_id"))
            .order_by("acronym")
            .values_list("acronym", "name")
        )
        return [(code, f"{name} ({code})") for code, name in [*nations, *organizations]]

    def value(self):
        value = super().value()
        return value.strip() if value is not None else None

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        parties = AgreementParty.objects.filter(
            Q(nation__iso3__iexact=value)
            | Q(nation__name__iexact=value)
            | Q(organization__acronym__iexact=value)
            | Q(organization__name__iexact=value)
        )
        return queryset.filter(pk__in=parties.values("agreement_id"))

    def choices(self, changelist):
        """ "All", then the text box (the template's ``form`` choice) with the list's other
        parameters as hidden fields, so filtering by partner keeps the other filters."""
        yield {
            "selected": not self.value(),
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }
        kept = [(k, v) for k, v in changelist.params.items() if k != self.parameter_name]
        selected = self.value() or ""
        label = next(
            (name for code, name in self.lookup_choices if code.lower() == selected.lower()),
            selected,
        )
        yield {
            "form": True,
            "kept": kept,
            "value": selected,
            "label": label,
            "query_string": changelist.get_query_string({self.parameter_name: selected}),
        }
