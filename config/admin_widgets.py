"""Admin pieces that survive a tampered value.

Django's autocomplete widgets look the submitted value up to redisplay it; a value that is
not an id (``abc``) or too large for the database raises there, and the form error page
becomes a 500. These show the field empty instead, beside its "Select a valid choice" error.

The change list's date hierarchy (``?signed_on__year=…``) builds a ``datetime`` from the
query string and a year past 9998 or a 13th month raises outside Django's own check; here
such a value is a 400. JSON typed into a JSON field is bounded in depth (config/jsonlimits.py).
"""

import calendar

from django import forms
from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import BadRequest, ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput

from .jsonlimits import JSONTooDeep, check_depth, max_depth


class _SafeOptgroups:
    def optgroups(self, name, value, attr=None):
        try:
            return super().optgroups(name, value, attr)
        except (ValueError, TypeError, OverflowError):
            return super().optgroups(name, [], attr)


class SafeAutocompleteSelect(_SafeOptgroups, AutocompleteSelect):
    """``loaded``: the record the form's instance already holds for this field (set by
    ``SafeAutocompleteMixin``); while it is the value shown, it is shown without a query, so
    an inline of N rows does not look its values up N times."""

    loaded = None

    def optgroups(self, name, value, attr=None):
        obj = self.loaded
        remote = self.field.remote_field
        by_pk = getattr(remote, "field_name", None) in (None, remote.model._meta.pk.name)
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if obj is None or not by_pk or selected != [str(obj.pk)]:
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        label = self.choices.field.label_from_instance(obj)
        options.append(self.create_option(name, obj.pk, label, set(selected), len(options)))
        return [(None, options, 0)]


class SafeAutocompleteSelectMultiple(_SafeOptgroups, AutocompleteSelectMultiple):
    pass


class SafeAutocompleteMixin:
    """For a ModelAdmin or inline with ``autocomplete_fields``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        """(An inline.) Each row's autocomplete widgets show the record the row already holds
        (select it with the queryset: ``select_related``) instead of looking it up."""
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _showing_loaded(formset.form)
        return formset


def _showing_loaded(form_class):
    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)  # under the related wrapper
            if not isinstance(widget, SafeAutocompleteSelect) or not self.instance.pk:
                continue
            descriptor = getattr(type(self.instance), name, None)
            cached = getattr(descriptor, "is_cached", None)
            if cached is not None and cached(self.instance):
                widget.loaded = getattr(self.instance, name)

    return type(form_class.__name__, (form_class,), {"__init__": __init__})


class SafeDateHierarchyChangeList(ChangeList):
    """Refuses date-hierarchy values no calendar has (before Django turns them into dates)."""

    def get_filters(self, request):
        if self.date_hierarchy:
            self._check_date_hierarchy(request)
        return super().get_filters(request)

    def _check_date_hierarchy(self, request):
        field = self.date_hierarchy
        values = {}
        for part, low, high in (("year", 1, 9998), ("month", 1, 12), ("day", 1, 31)):
            raw = request.GET.getlist(f"{field}__{part}")
            if not raw:
                continue
            value = raw[-1].strip()
            if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
                raise BadRequest(f"{field}__{part} must be a whole number from {low} to {high}.")
            values[part] = int(value)
        if "day" in values and "year" in values:
            last = calendar.monthrange(values["year"], values.get("month", 1))[1]
            if values["day"] > last:
                raise BadRequest(f"{field}__day: that month has {last} days.")


class BoundedJSONFormField(forms.JSONField):
    """A JSON form field whose input nested too deep is a form error, not a 500."""

    default_error_messages = {"too_deep": "This JSON is nested deeper than %(limit)s levels."}

    def to_python(self, value):
        try:
            value = super().to_python(value)
            check_depth(value)
        except (RecursionError, JSONTooDeep):
            raise ValidationError(
                self.error_messages["too_deep"], code="too_deep", params={"limit": max_depth()}
            ) from None
        return value

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)


class SafeAdminMixin:
    """For every ModelAdmin: the safe date hierarchy and depth-bounded JSON fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.formfield_overrides.setdefault(models.JSONField, {}).setdefault(
            "form_class", BoundedJSONFormField
        )

    def get_changelist(self, request, **kwargs):
        return SafeDateHierarchyChangeList


class SafeAdminSite(AdminSite):
    """The admin site: every ModelAdmin registered on it, the project's and third parties'
    (django-axes' attempt logs), gets ``SafeAdminMixin``."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, SafeAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (SafeAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        return super().register(model_or_iterable, admin_class, **options)
