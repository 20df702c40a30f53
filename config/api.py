"""What every endpoint of /api/v1/ shares: permissions, pagination, the query parameters a
list takes, content negotiation and error shape."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import InvalidPage
from django.template import loader
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings

from config.filters import merged_query

from .renderers import JSONRenderer

MAX_PAGE_SIZE = 500
# URL keyword arguments that name one record: without the read permission, a 404.
DETAIL_KWARGS = ("pk", "iso3", "acronym", "agreement_pk")
# The largest id a cursor may name (a bigint).
MAX_ID = 2**63 - 1


class ModelPermissions(DjangoModelPermissions):
    """Reads need the model's ``view`` permission, writes ``add``/``change``/``delete``.

    A view may name the model with ``permission_model`` (when its queryset depends on the
    URL) and ask for more with ``extra_permissions``. A user who may not read the model gets
    404 on a single record (nothing is revealed) and 403 on a list."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def _model(self, view):
        model = getattr(view, "permission_model", None)
        return model if model is not None else self._queryset(view).model

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        model = self._model(view)
        perms = self.get_required_permissions(request.method, model)
        perms += list(getattr(view, "extra_permissions", ()))
        if user.has_perms(perms):
            return True
        read = self.get_required_permissions("GET", model)
        if any(name in view.kwargs for name in DETAIL_KWARGS) and not user.has_perms(read):
            raise exceptions.NotFound()
        return False


class Pagination(PageNumberPagination):
    """``page`` and ``page_size`` (default 50, at most 500); a bad value is a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = f"Rows per page, 1 to {MAX_PAGE_SIZE} (default 50)."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw != "last" and not (raw.isdigit() and int(raw) >= 1):
            raise exceptions.ValidationError({"page": ["Must be a whole number from 1."]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({"page": [str(exc.detail)]}) from exc

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            else:
                parameter["schema"].update(minimum=1)
        return parameters


def _is_id(text: str) -> bool:
    return re.fullmatch(r"[0-9]{1,19}", text) is not None and int(text) <= MAX_ID


class KeysetPagination(CursorPagination):
    """``?cursor=`` (empty to start): pages in id order, each found by the last id of the one
    before, so a page deep in the registry costs what the first one does. No count."""

    ordering = ("id",)
    page_size = Pagination.page_size
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    get_page_size = Pagination.get_page_size
    cursor_query_description = (
        "Walk every row in id order: send an empty cursor to start, then follow `next`. "
        "Its cost per page does not grow with depth (no count, no ordering, no page)."
    )

    def decode_cursor(self, request):
        if request.query_params.get(self.cursor_query_param) == "":
            return None
        cursor = super().decode_cursor(request)
        # The position goes into ``id__gt``: anything but a whole number in range is a bad
        # cursor (404 like the others), never a 500 from the queryset.
        if cursor is not None and cursor.position is not None and not _is_id(cursor.position):
            raise exceptions.NotFound(self.invalid_cursor_message)
        return cursor


class CursorOrPagePagination(Pagination):
    """Page numbers (``page``) by default; with ``cursor`` present, keyset pages
    (``KeysetPagination``)."""

    def __init__(self):
        self.keyset = KeysetPagination()

    def _uses_cursor(self, request) -> bool:
        return self.keyset.cursor_query_param in request.query_params

    def paginate_queryset(self, queryset, request, view=None):
        self.cursor_mode = self._uses_cursor(request)
        if not self.cursor_mode:
            return super().paginate_queryset(queryset, request, view)
        clashes = [name for name in ("page", "ordering") if name in request.query_params]
        if clashes:
            raise exceptions.ValidationError(
                {
                    name: ["Leave this out with cursor: a cursor walks in id order."]
                    for name in clashes
                }
            )
        return self.keyset.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self.cursor_mode:
            return self.keyset.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema):
        """Either shape: with ``cursor`` there is no ``count``."""
        described = super().get_paginated_response_schema(schema)
        described["required"] = [name for name in described.get("required", []) if name != "count"]
        described["properties"]["count"]["description"] = "Not sent with cursor."
        return described

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.keyset.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.keyset.cursor_query_description,
                "schema": {"type": "string"},
            }
        )
        return parameters


# Query parameters -----------------------------------------------------------------------------


def other_parameters(view) -> list[str]:
    """What a view takes besides its filters: its own ``query_parameters`` (e.g. ``within``),
    its paginator's (``page``, ``page_size``; a cursor or offset where a view has one) and
    ``format``."""
    names = list(getattr(view, "query_parameters", ()))
    paginator = getattr(view, "paginator", None)
    if paginator is not None:  # the parameters it documents
        names += [p["name"] for p in paginator.get_schema_operation_parameters(view)]
    names.append(api_settings.URL_FORMAT_OVERRIDE)
    return names


def check_parameters(request, view) -> None:
    """For a view without filters: a parameter it does not take, or a single one given
    twice, is a 400 naming it."""
    _data, errors, _ignored = merged_query(request.query_params, known=other_parameters(view))
    if errors:
        raise exceptions.ValidationError(errors)


def _is_detail(view) -> bool:
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    return lookup in getattr(view, "kwargs", {})


class FilterBackend(DjangoFilterBackend):
    """django-filter with the registry's rules (``config.filters``): a repeated comma-list
    parameter adds to the list, and on a list any parameter that is not one of its filters or
    ``other_parameters`` is a 400 naming it and listing those it knows. A view without a
    filter set still refuses what it does not take. Details (one record) are not filtered."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {
            **super().get_filterset_kwargs(request, queryset, view),
            "known": other_parameters(view),
            "strict": True,
            "given_only": True,
        }

    def to_html(self, request, queryset, view):
        """The browsable API's filter dialog: the form with every field (``given_only`` is
        for cleaning what was sent)."""
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        kwargs = {**self.get_filterset_kwargs(request, queryset, view), "given_only": False}
        context = {"filter": filterset_class(**kwargs)}
        return loader.get_template(self.template).render(context, request)

    def valid_filterset(self, request, queryset, view, *, errors: dict | None = None):
        """The view's filter set over ``queryset``, or a 400 with every parameter's errors
        (``errors``: those the view found in its own parameters); None (after checking the
        parameters) for a view without one."""
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            check_parameters(request, view)
            return None
        if errors or not filterset.is_valid():
            problems = {**(errors or {}), **translate_validation(filterset.errors).detail}
            raise exceptions.ValidationError(problems)
        return filterset

    def filter_queryset(self, request, queryset, view):
        if _is_detail(view):
            return queryset
        filterset = self.valid_filterset(request, queryset, view)
        return queryset if filterset is None else filterset.qs


# Formats ------------------------------------------------------------------------------------


class CSVRenderer(BaseRenderer):
    """``text/csv``, chosen by ``format=csv`` or ``Accept: text/csv`` on the views that offer
    it. Those views write their CSV themselves (the export streams it); errors are answered
    in JSON whatever the format (``exception_handler``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    renders_errors = False

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode(self.charset) if isinstance(data, str) else data


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's, but a ``format`` the view does not offer is a 400 naming the ones it does
    (DRF answers 404)."""

    def filter_renderers(self, renderers, format):
        offered = [renderer for renderer in renderers if renderer.format == format]
        if not offered:
            known = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            raise exceptions.ValidationError(
                {api_settings.URL_FORMAT_OVERRIDE: [f"Unknown format. Known: {known}."]}
            )
        return offered


def django_errors(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if key == "__all__" else key): messages
            for key, messages in exc.message_dict.items()
        }
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    """DRF's handler, plus: a model ``ValidationError`` from a service is a 400 keyed by
    field (``parties[1].code`` for a nested row)."""
    # Imported here: rest_framework.views reads the permission setting, which imports us.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_errors(exc))
    if isinstance(exc, InvalidPage):
        exc = exceptions.ValidationError({"page": [str(exc)]})
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is not None and not getattr(renderer, "renders_errors", True):
        # Errors are JSON, also when a CSV was asked for.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    return drf_exception_handler(exc, context)


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as the flat keys the services use: ``parties[1].code``."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = key if not prefix else f"{prefix}.{key}"
            if key == "non_field_errors" and prefix:
                name = prefix
            flat.update(flatten_errors(value, name))
    elif isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        for index, value in enumerate(errors):
            if value:
                flat.update(flatten_errors(value, f"{prefix}[{index}]"))
    else:
        messages = errors if isinstance(errors, list) else [errors]
        flat[prefix or "non_field_errors"] = [str(m) for m in messages]
    return flat
