from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.urls import reverse

# Imported here, before the admin's autodiscovery would, so it can be registered again below.
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from config.admin_access import RegistryAdminMixin

from .models import User


@admin.register(User)
class UserAdmin(RegistryAdminMixin, BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "clearance", "is_staff")
    list_filter = ("clearance", "is_staff", "is_superuser", "is_active", "groups")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Clearance", {"fields": ("clearance",)}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Clearance", {"fields": ("email", "clearance")}),
    )

    def get_search_results(self, request, queryset, search_term):
        """Picking a person (owner, watcher, reviewer, token holder) offers active users
        only, as the forms' choices do."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.path == reverse("admin:autocomplete"):
            queryset = queryset.filter(is_active=True)
        return queryset, may_have_duplicates


# Django's and DRF's own admins, with the registry's rules for choices, lookups and deletes.

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(RegistryAdminMixin, BaseGroupAdmin):
    pass


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(RegistryAdminMixin, BaseTokenAdmin):
    pass
