"""Filter building blocks shared by the filter sets of every app, and the rules every filter
set of the registry follows (``FilterSet``):

- a comma-list parameter may also be repeated: ``type=sofa&type=acsa`` is ``type=sofa,acsa``;
  any other parameter given twice is an error ("Given more than once");
- a choice that does not exist is an error that lists the valid values;
- with ``strict=True`` (every list of the API), a parameter that is neither a filter nor one
  of the ``known`` others the caller takes (the page, the page size, ``format``...) is an
  error naming it, with the list of those it knows; otherwise (pages: a link may carry
  ``utm_source``) it is left alone and listed in ``ignored``.

Errors come out of ``errors`` keyed by the parameter's name, like any other filter error.
"""

from __future__ import annotations

from collections.abc import Iterable

import django_filters
from django import forms
from django.http import QueryDict
from django_filters.filters import BaseCSVFilter, QuerySetRequestMixin

REPEATED = "Given more than once; give it once."
UNKNOWN = "Unknown parameter. Known: %s."


def split_list(value: str) -> list[str]:
    """``"a, b,,c"`` as ``["a", "b", "c"]``."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class CommaListFilter:
    """Marks a filter whose value is a comma list (repeating the parameter adds to it)."""

    comma_list = True


def is_comma_list(filter_) -> bool:
    return isinstance(filter_, BaseCSVFilter) or getattr(filter_, "comma_list", False)


def merged_query(
    query: QueryDict,
    *,
    comma_lists: Iterable[str] = (),
    known: list[str] | None = None,
    strict: bool = True,
) -> tuple[QueryDict, dict[str, list[str]], list[str]]:
    """``query`` with the repeats of each comma-list parameter joined into one comma list;
    the errors by parameter (a single value given twice; with ``known``, every parameter the
    caller takes, and ``strict``, a parameter it does not take); and the parameters it does not
    take when not ``strict`` (kept in the data as they came, unchecked)."""
    comma_lists = set(comma_lists)
    data = QueryDict(mutable=True)
    errors: dict[str, list[str]] = {}
    ignored: list[str] = []
    for name, values in query.lists():
        if known is not None and name not in known:
            if strict:
                errors[name] = [UNKNOWN % ", ".join(known)]
            else:
                ignored.append(name)
                data.setlist(name, values)
        elif len(values) > 1 and name not in comma_lists:
            errors[name] = [REPEATED]
        else:
            data[name] = ",".join(v.strip() for v in values if v.strip())
    data._mutable = False
    return data, errors, ignored


class QueryForm(forms.Form):
    """A filter set's form: ``parameter_errors`` (unknown or repeated parameters) are errors
    of their own names, beside the fields' errors."""

    parameter_errors: dict[str, list[str]] = {}

    def full_clean(self):
        super().full_clean()
        if self.is_bound:
            for name, messages in self.parameter_errors.items():
                self._errors[name] = self.error_class(
                    [forms.ValidationError(message, code="bad_parameter") for message in messages]
                )


def _choice_values(field) -> list[str]:
    values = []
    for value, label in field.choices:
        if isinstance(label, list | tuple):  # an option group
            values += [str(v) for v, _ in label]
        elif value not in ("", None):
            values.append(str(value))
    return values


class FilterSet(django_filters.FilterSet):
    """The registry's filter sets (the rules are in this module's docstring).

    ``known``: the parameters the caller takes besides the filters; ``strict``: whether any
    other parameter is an error (the API's lists, through ``config.api.FilterBackend``) or is
    left alone and listed in ``ignored`` (pages, and other callers in code). ``given_only``:
    the form has the fields of the parameters given only (a filter not given filters
    nothing): for a caller that cleans the parameters without showing the form (the API's
    lists; the browsable API's filter dialog asks for every field), as building every
    filter's field on each request cost more than most of its queries."""

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        request=None,
        prefix=None,
        known=(),
        strict=False,
        given_only=False,
    ):
        self.given_only = given_only
        self.parameter_errors: dict[str, list[str]] = {}
        self.ignored: list[str] = []
        if data is not None:
            if not isinstance(data, QueryDict):
                query = QueryDict(mutable=True)
                for name, value in data.items():
                    query.setlist(name, value if isinstance(value, list) else [value])
                data = query
            data, self.parameter_errors, self.ignored = merged_query(
                data,
                comma_lists=[name for name, f in self.base_filters.items() if is_comma_list(f)],
                known=list(dict.fromkeys([*self.base_filters, *known])),
                strict=strict,
            )
        super().__init__(data, queryset, request=request, prefix=prefix)

    def get_form_class(self):
        fields = {
            name: filter_.field
            for name, filter_ in self.filters.items()
            if not (self.given_only and self.data is not None) or name in self.data
        }
        for field in fields.values():
            if "invalid_choice" in field.error_messages and hasattr(field, "choices"):
                field.error_messages["invalid_choice"] = (
                    "Select a valid choice. %(value)s is not one of the available choices: "
                    + ", ".join(_choice_values(field))
                    + "."
                )
        own = self._meta.form  # a filter set's own form (``Meta.form``) keeps its clean()
        bases = (QueryForm,) if own is forms.Form else (QueryForm, own)
        return type(
            f"{type(self).__name__}Form",
            bases,
            {**fields, "parameter_errors": self.parameter_errors},
        )


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """``a,b,c``: any of; each value must be one of the choices."""


class ModelIdsField(forms.CharField):
    """A comma list of ids of records in ``queryset``; an id that is not there (missing, or
    out of the reader's reach) is an error naming it."""

    def __init__(self, *args, queryset=None, noun="record", **kwargs):
        self.queryset = queryset
        self.noun = noun
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        parts = split_list(value)
        if not parts:
            return []
        malformed = [part for part in parts if not part.isdigit() or len(part) > 18]
        if malformed:
            raise forms.ValidationError(
                "Not an id: %(values)s.",
                code="invalid",
                params={"values": ", ".join(malformed)},
            )
        ids = list(dict.fromkeys(int(part) for part in parts))
        found = set(self.queryset.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise forms.ValidationError(
                "No %(noun)s you may see has the id(s): %(ids)s.",
                code="invalid_choice",
                params={"noun": self.noun, "ids": ", ".join(missing)},
            )
        return ids


class ModelIdsFilter(CommaListFilter, QuerySetRequestMixin, django_filters.Filter):
    """``agreement=3,7``: any of these records, each of which must be in the queryset (which
    may be a callable taking the request, as for ``ModelChoiceFilter``)."""

    field_class = ModelIdsField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)


class TrueFalseField(forms.Field):
    """``true`` or ``false`` (any case; ``1``/``0`` too); anything else is an error, never
    "no filter" (django's NullBooleanField reads an unknown word as empty)."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError("Enter true or false.", code="invalid") from None


class TrueFalseFilter(django_filters.BooleanFilter):
    field_class = TrueFalseField
