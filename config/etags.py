"""The API's optimistic concurrency for a versioned aggregate (``history.versioning``): a
detail answer carries the version the reader sees as its ``ETag``; a write may send it back
in ``If-Match``, and a stale one is a 412 with nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from history.versioning import StaleVersion, version_seen_by

from .schema import error_response

ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description='The version you see, for If-Match (e.g. "3").',
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag from a GET (e.g. "3"); a stale one is a 412.',
)


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since you read it; fetch it again."
    default_code = "precondition_failed"


def stale_message(noun: str) -> str:
    return f"The {noun} changed since you read it; fetch it again."


def etag_of(obj, user) -> str:
    """The version as ``user`` sees it: it moves only when something they may see changed."""
    return f'"{version_seen_by(obj, user)}"'


def expected_version(request, noun: str) -> int | None:
    """The version named by ``If-Match`` (``"7"`` or ``W/"7"``); None without the header."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', header)
    if match is None:
        raise PreconditionFailed(f'If-Match must be the ETag of the {noun}, e.g. "3".')
    return int(match.group(1))


def update_schema(summary: str, example, *, noun: str, request, response, detail_example):
    """The schema of an update (PUT or PATCH) of a ``noun``: ``request`` in, ``response``
    (the detail serializer) out with its ETag, a 412 when If-Match is stale."""
    stale = error_response(
        f"The {noun} changed since the ETag sent in If-Match: nothing was written.",
        {"detail": stale_message(noun)},
    )
    return extend_schema(
        summary=summary,
        request=request,
        responses={200: response, 412: stale},
        examples=[example, detail_example],
        parameters=[IF_MATCH, ETAG],
    )


class VersionedDetailMixin:
    """The detail actions of a viewset of a versioned aggregate: a read with its ETag, and
    a create or an update through the aggregate's service, answering the detail with its
    ETag; a stale ``If-Match`` is a 412 and writes nothing.

    A viewset names its ``noun`` ("agreement"), its ``detail_serializer_class``, its service
    as ``save_service`` (a staticmethod, taking the record as ``<noun>=`` on an update,
    ``actor``, ``source``, ``expected_version`` and the fields) and ``write_data(request,
    partial=...)`` (a staticmethod: those fields from the request)."""

    noun: str
    save_service: Callable
    write_data: Callable
    detail_serializer_class: type

    def _detail(self, pk, status_code=status.HTTP_200_OK):
        obj = self.get_queryset().get(pk=pk)
        serializer = self.detail_serializer_class(obj, context=self.get_serializer_context())
        response = Response(serializer.data, status=status_code)
        response["ETag"] = etag_of(obj, self.request.user)
        return response

    # The actions carry no docstring: the schema takes an action's description from it.

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        response = Response(self.get_serializer(obj).data)
        response["ETag"] = etag_of(obj, request.user)
        return response

    def create(self, request, *args, **kwargs):
        data = self.write_data(request, partial=False)
        obj = self.save_service(actor=request.user, source="api", **data)
        return self._detail(obj.pk, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        obj = self.get_object()
        version = expected_version(request, self.noun)
        if version is not None and version != version_seen_by(obj, request.user):
            raise PreconditionFailed(stale_message(self.noun))
        data = self.write_data(request, partial=partial)
        try:
            self.save_service(
                **{self.noun: obj},
                actor=request.user,
                expected_version=version,
                source="api",
                **data,
            )
        except StaleVersion as exc:
            raise PreconditionFailed(stale_message(self.noun)) from exc
        return self._detail(obj.pk)

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)
