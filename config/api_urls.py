"""/api/v1/: the root listing the endpoints, the agreements, partners and engagements APIs,
token login, the OpenAPI schema and docs."""

import re

from django.urls import URLPattern, path, re_path, reverse
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import APIException, NotFound, Throttled, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

import agreements.api.urls
import engagements.api.urls
import partners.api.urls
from accounts.views import lockout_message, lockout_seconds
from config.parsers import BoundedJSONParser
from config.throttling import first_refusal


class LockedOut(APIException):
    status_code = 429
    default_code = "locked_out"

    def __init__(self, detail, wait):
        super().__init__(detail)
        self.wait = wait  # the exception handler sends it as Retry-After


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        auth=[],
        summary="Get an API token for a username and password",
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
        examples=[
            OpenApiExample(
                "Sign in", value={"username": "analyst", "password": "…"}, request_only=True
            ),
            OpenApiExample(
                "The token",
                value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"},
                response_only=True,
            ),
        ],
    )
)
class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (``Authorization: Token <key>``).

    Throttled per address and per username; a username+address with too many failures is
    locked out for the cool-off (429 with ``detail`` and ``Retry-After``)."""

    permission_classes = [AllowAny]
    # ObtainAuthToken names its own parsers; the JSON one bounds the depth like the rest.
    parser_classes = [FormParser, MultiPartParser, BoundedJSONParser]

    def check_throttles(self, request):
        """The sign-in throttles (config/throttling.py), each with its own message."""
        refused = first_refusal(request, self)
        if refused is not None:
            raise Throttled(wait=refused.wait(), detail=refused.message)

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes marks the request it was handed (this DRF request) when it refused.
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(lockout_message(request), lockout_seconds(request)) from None
            raise


class SchemaView(SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script and its page style served as files, so the CSP
    needs no inline script or style (templates/api/docs.html).

    GET only: DRF would answer OPTIONS with its metadata rendered through the page's
    template, which fails (a 500)."""

    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "head"]
    template_name = "api/docs.html"


ENDPOINT_PATTERNS = [
    *agreements.api.urls.urlpatterns,
    *partners.api.urls.urlpatterns,
    *engagements.api.urls.urlpatterns,
]


def _route(pattern: URLPattern) -> str:
    """A pattern's route with its arguments as ``{name}``: ``agreements/{pk}/``."""
    route = str(pattern.pattern)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # routers: (?P<pk>[^/.]+)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)  # path(): <int:agreement_pk>
    return route.lstrip("^").rstrip("$")


@extend_schema(exclude=True)
class ApiRootView(APIView):
    """The API's endpoints by name, with their absolute URLs (``{name}`` marks an argument,
    e.g. an agreement's id), and the links to the OpenAPI schema and its docs."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        base = request.build_absolute_uri(reverse("api:root"))
        endpoints = {
            pattern.name: base + _route(pattern) for pattern in ENDPOINT_PATTERNS if pattern.name
        }
        endpoints["token"] = request.build_absolute_uri(reverse("api:token"))
        return Response(
            {
                "endpoints": endpoints,
                "schema": request.build_absolute_uri(reverse("api:schema")),
                "docs": request.build_absolute_uri(reverse("api:docs")),
            }
        )


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([IsAuthenticated])
@schema(None)
def not_found(request, path=""):
    """Anything else under /api/v1/ is a JSON 404 (401 without credentials, like every
    other address of the API)."""
    raise NotFound()


urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    *ENDPOINT_PATTERNS,
    path("auth/token/", TokenView.as_view(), name="token"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    # Any character, line breaks included: an address with an encoded newline is a JSON 404
    # too, never Django's HTML page.
    re_path(r"^(?P<path>[\s\S]*)$", not_found),
]
