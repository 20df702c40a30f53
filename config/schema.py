"""The OpenAPI schema's shared parts (``DEFAULT_SCHEMA_CLASS``): every error an operation can
answer, each with its body and an example, added to what the view documents itself:

- 400, every operation: a bad parameter or body, an unknown parameter, a ``format`` the
  operation does not offer, a NUL byte;
- 401, every operation that needs a sign-in: no credentials, or a token that is not valid;
- 403, the operations behind the model permissions: signed in without the permission (on a
  record the user may not read at all, 404 instead);
- 404, the operations with a record in the path: no such record, or one above the reader's
  clearance (the same answer);
- 406, every operation: no format it offers is in ``Accept``;
- 415, the operations that take a body: one that is not JSON, a form or multipart;
- 429, every operation: throttled or locked out (``Retry-After`` says when to try again);
- 409 and 412 are documented by the operations that answer them (``error_response``).
405 (a method the address does not take) is not an operation of its own, so not listed.

Errors are always JSON. Operations state their own summary and examples
(``extend_schema(summary=..., examples=[...])``); tests/test_api_conventions.py checks that
every operation has both.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.permissions import AllowAny

from config.filters import UNKNOWN

ERROR_SCHEMA = {
    "type": "object",
    "description": "What went wrong, in words.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
BAD_INPUT_SCHEMA = {
    "type": "object",
    "description": "The errors by parameter or field name (a nested row as "
    "``parties[1].code``; ``non_field_errors`` for the whole body, ``detail`` for a body that "
    "cannot be read).",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    },
}
ERRORS = {
    "401": (
        "Not signed in: no credentials, or a token that is not valid "
        "(``WWW-Authenticate: Token``).",
        {"detail": "Authentication credentials were not provided."},
    ),
    "403": (
        "Signed in, but without the permission this needs.",
        {"detail": "You do not have permission to perform this action."},
    ),
    "404": (
        "No such record, or one above your clearance (answered the same).",
        {"detail": "Not found."},  # each operation names its model (_not_found_example)
    ),
    "406": (
        "None of the formats in ``Accept`` is offered here.",
        {"detail": "Could not satisfy the request Accept header."},
    ),
    "415": (
        "The body is not JSON, a form or multipart.",
        {"detail": 'Unsupported media type "text/plain" in request.'},
    ),
    "429": (
        "Too many requests (or sign-in attempts); ``Retry-After`` gives the seconds to wait.",
        {"detail": "Request was throttled. Expected available in 42 seconds."},
    ),
}


class RegistrySchema(AutoSchema):
    """drf-spectacular's AutoSchema, with the errors of this module's table."""

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref

    def error_statuses(self) -> list[str]:
        permissions = self.view.get_permissions()
        open_to_all = any(isinstance(p, AllowAny) for p in permissions)
        statuses = ["400"]
        if not open_to_all:
            statuses.append("401")
            if any(type(p).__name__ == "ModelPermissions" for p in permissions):
                statuses.append("403")
        if "{" in self.path:
            statuses.append("404")
        statuses.append("406")
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append("415")
        statuses.append("429")
        return statuses

    def _bad_input_example(self) -> dict:
        if self.method in ("POST", "PUT", "PATCH"):
            return {"title": ["This field is required."]}
        from config.api import other_parameters

        filterset = getattr(self.view, "filterset_class", None)
        known = [*(filterset.base_filters if filterset else ()), *other_parameters(self.view)]
        return {"partys": [UNKNOWN % ", ".join(dict.fromkeys(known))]}

    def _not_found_example(self) -> dict:
        """What the record's 404 says: the agreement's under an agreement's path."""
        if "{agreement_pk}" in self.path:
            return {"detail": "No Agreement matches the given query."}
        queryset = getattr(self.view, "queryset", None)
        model = getattr(queryset, "model", None)
        if model is None or "acronym" in self.path:  # organizations: looked up by hand
            return {"detail": "Not found."}
        return {"detail": f"No {model.__name__} matches the given query."}

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self.error_statuses():
            if status in responses:
                continue
            if status == "400":
                schema = self._component("BadInput", BAD_INPUT_SCHEMA)
                description = "Bad input: the errors by parameter or field name."
                example = self._bad_input_example()
            else:
                schema = self._component("Error", ERROR_SCHEMA)
                description, example = ERRORS[status]
                if status == "404":
                    example = self._not_found_example()
            responses[status] = self._get_response_for_code(
                OpenApiResponse(
                    schema,
                    description=description,
                    examples=[OpenApiExample(f"Error {status}", value=example)],
                ),
                status,
                media_types=["application/json"],
                direction=direction,
            )
        return responses


def error_response(description: str, example: dict) -> OpenApiResponse:
    """An error answer an operation documents itself (409, 412), in the shape of the rest."""
    return OpenApiResponse(
        {"$ref": "#/components/schemas/Error"},
        description=description,
        examples=[OpenApiExample("Error", value=example)],
    )
