"""Change-list filters of the agreements admin."""

from django.contrib import admin

from partners.models import Nation

from ..choices import ProvisionCategory
from ..models import Provision


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
