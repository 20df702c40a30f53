from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
