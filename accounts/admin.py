from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group

from config.admin_actions import SafeActionsMixin

from .models import User


@admin.register(User)
class UserAdmin(SafeActionsMixin, BaseUserAdmin):
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


# Django's own group admin, with the same guard on its change-list actions.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(SafeActionsMixin, BaseGroupAdmin):
    pass
