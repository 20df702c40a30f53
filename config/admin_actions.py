"""Admin change-list actions that survive a tampered selection.

Django filters the change list by the submitted ``_selected_action`` values as they come: one
that is not an id (``abc``, a NUL byte, a number too large for the database) raises there,
and the POST becomes a 500. These answer like an empty selection instead.
"""

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect


class SafeActionsMixin:
    """For a ModelAdmin with actions."""

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.clean(value, None)
        except ValidationError:
            self.message_user(
                request,
                "Items must be selected in order to perform actions on them. "
                "No items have been changed.",
                messages.WARNING,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)
