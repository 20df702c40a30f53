"""Admin pages that write through the services, never through ``form.save()`` or
``formset.save()``.

- ``ServiceForm``: a ModelForm that hands its cleaned data, and its inlines' (``service_kwargs``),
  to one service call (``service``). Before anything is written the service checks the whole
  record with ``validate_only=True`` and its errors become form errors: on the field they name;
  for a nested row (``memberships[1].left_on``) on that field of the inline's row when the form
  noted which row it sent (``inline_rows``), otherwise above the inline as "Memberships, row 2,
  left_on: ...". A form whose rules need its inlines (``checked_by_inlines``) is checked by the
  last of its ``ServiceInlineFormSet``s; any other form checks itself once the model form's
  own validation has passed.
- ``ServiceInlineFormSet``: an inline that never saves.
- ``ServiceAdminMixin``: ``save_related`` makes the one service call; deleting goes through
  ``delete_record``, which the admin defines with the aggregate's delete service.
- ``ChangeHistoryAdminMixin``: the change form shows what the services recorded
  (``templates/includes/change_history.html`` in the ``after_related_objects`` block).
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from history.models import ChangeRecord

CORRECT_ABOVE = "Please correct the errors above."


class ServiceInlineFormSet(forms.BaseInlineFormSet):
    """An inline of a ``ServiceForm``. Nothing here saves: the admin hands every inline's
    cleaned data to the form's service, and the last of these formsets to be validated asks
    that service to check the whole record, so its rules are written once, in the service."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.__dict__.setdefault("_admin_formsets", []).append(self)

    def clean(self):
        super().clean()
        registry = self.instance.__dict__.get("_admin_formsets", [])
        form = self.instance.__dict__.get("_admin_form")
        if form is None or not registry or registry[-1] is not self:
            return
        if not form.is_valid() or any(fs.total_error_count() for fs in registry[:-1]):
            return
        if any(not f.is_valid() for f in self.forms):
            return
        rest = form.service_errors(registry)
        if rest is not None:
            # Always an error here: the form itself was already judged valid.
            raise ValidationError(rest or CORRECT_ABOVE)

    def save(self, commit=True):
        raise NotImplementedError("Inlines are written by the form's service, not by formsets.")

    def rows(self) -> list[forms.Form]:
        """The forms that stand for a row after the save: kept, and either existing or
        filled in."""
        kept = [f for f in self.forms if f not in self.deleted_forms]
        return [f for f in kept if f.instance.pk or f.has_changed()]

    @staticmethod
    def row_values(form: forms.ModelForm, names) -> dict:
        """A row's values as its form built them: what was entered, or, for a row the user
        may only view (its form is not validated), what is stored."""
        return {name: getattr(form.instance, name, None) for name in names}


class ServiceForm(forms.ModelForm):
    """A model form written by ``service`` (a keyword-only function taking the record's
    fields, ``actor``, ``source`` and ``validate_only``)."""

    service = None  # set by each form: staticmethod(<thing>_save)
    record_argument = ""  # the service's argument for the record; the model's name if blank
    request = None  # set by ServiceAdminMixin.get_form
    checked_by_inlines = False  # True: the inlines check (ServiceAdminMixin.get_form)
    # The names of the nested rows in the service's error keys, as the page calls them.
    row_labels: dict[str, str] = {}
    source = "admin"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.__dict__["_admin_form"] = self
        # The inline forms of the rows sent to the service, by the service's name for them.
        self.inline_rows: dict[str, list[forms.Form]] = {}

    # What the service is given ---------------------------------------------------------------

    def service_kwargs(self, formsets) -> dict:
        """The service's arguments: the record (None when it is new), who and where, and the
        form's model fields; a form with inlines adds their rows."""
        model = self._meta.model
        names = {f.name for f in model._meta.get_fields()}
        return {
            self.record_argument or model._meta.model_name: (
                self.instance if self.instance.pk else None
            ),
            "actor": self.request.user if self.request else None,
            "source": self.source,
            **{
                n: self.cleaned_data[n]
                for n in self.fields
                if n in names and n in self.cleaned_data
            },
        }

    def rows_of(self, name: str, formset: ServiceInlineFormSet) -> list[forms.Form]:
        """The row forms of ``formset`` that the service gets as ``name``, noted so that its
        errors about a row go on that row."""
        self.inline_rows[name] = rows = formset.rows()
        return rows

    def run_service(self, formsets, *, validate_only: bool = False):
        return type(self).service(validate_only=validate_only, **self.service_kwargs(formsets))

    # Validation ------------------------------------------------------------------------------

    def _post_clean(self):
        super()._post_clean()
        if self.checked_by_inlines or self._errors:
            return
        rest = self.service_errors([])
        if rest:
            self.add_error(None, rest)

    def service_errors(self, formsets) -> list[str] | None:
        """None when the service accepts the record; otherwise its errors are put on the
        fields they name and the rest returned."""
        try:
            self.run_service(formsets, validate_only=True)
        except ValidationError as exc:
            return self.place_errors(exc)
        return None

    def place_errors(self, exc: ValidationError) -> list[str]:
        """Put the service's errors on the fields they name; return the rest."""
        if not hasattr(exc, "error_dict"):
            return list(exc.messages)
        rest = []
        for key, messages in exc.message_dict.items():
            if key in self.fields:
                self.add_error(key, messages)
                continue
            name = key.split("[", 1)[0].split(".", 1)[0]
            where = self.row_labels.get(name)
            if where and "[" in key:
                index = int(key.split("[", 1)[1].split("]", 1)[0])
                field = key.split(".", 1)[1] if "." in key else ""
                rows = self.inline_rows.get(name, [])
                if index < len(rows) and (not field or field in rows[index].fields):
                    rows[index].add_error(field or None, messages)
                    continue
                number = index + 1
                label = f"{where}, row {number}" + (f", {field}" if field else "")
                rest += [f"{label}: {m}" for m in messages]
            elif where:
                rest += [f"{where}: {m}" for m in messages]
            elif key == NON_FIELD_ERRORS:
                rest += list(messages)
            else:  # a field this form does not show
                rest += [f"{key}: {m}" for m in messages]
        return rest


class ServiceAdminMixin:
    """A ModelAdmin whose ``form`` is a ``ServiceForm``: the record and its inlines are
    written by one service call in ``save_related``; deletes by ``delete_record``."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request  # a new class per call (modelform_factory)
        if form.checked_by_inlines:
            # Without an inline of its own on this page, the form checks itself.
            form.checked_by_inlines = any(
                issubclass(inline.formset, ServiceInlineFormSet)
                for inline in self.get_inline_instances(request, obj)
            )
        return form

    def save_model(self, request, obj, form, change):
        """Nothing is saved here: ``save_related`` writes the record with its inlines."""

    def save_formset(self, request, form, formset, change):
        raise NotImplementedError("Inlines are written by the form's service, not by formsets.")

    def save_related(self, request, form, formsets, change):
        editable = [fs for fs in formsets if isinstance(fs, ServiceInlineFormSet)]
        saved = form.run_service(editable)
        form.instance.pk = saved.pk
        form.instance.refresh_from_db()
        form.instance._state.adding = False

    def construct_change_message(self, request, form, formsets, add=False):
        # The formsets saved nothing, so they have no lists of saved rows to name; the
        # change history names every change.
        return [{"added": {}}] if add else [{"changed": {"fields": form.changed_data}}]

    def delete_record(self, request, obj) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.delete_record(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_record(request, obj)


class ChangeHistoryAdminMixin:
    """The change form lists the record's change history: its own change records and those
    of the records belonging to it, within the reader's clearance (the newest
    ``change_history_limit``)."""

    change_history_limit = 200

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:  # a missing one is Django's to answer
            records = ChangeRecord.objects.about(obj).visible_to(request.user).for_display()
            extra_context = {
                **(extra_context or {}),
                "change_history": records[: self.change_history_limit],
            }
        return super().change_view(request, object_id, form_url, extra_context)
