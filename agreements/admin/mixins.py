"""The clearance rule in the agreements admin."""

from django.http import Http404

from accounts.choices import Classification
from config.admin_access import RegistryAdminMixin

from ..selectors import rows_visible_to


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
