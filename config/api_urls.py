"""/api/v1/: the agreements and partners APIs, token login, the OpenAPI schema and docs."""

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated

import agreements.api.urls
import partners.api.urls


@extend_schema_view(post=extend_schema(tags=["auth"], auth=[]))
class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (``Authorization: Token <key>``)."""

    permission_classes = [AllowAny]


class SchemaView(SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file, so the CSP needs no inline code.

    GET only: DRF would answer OPTIONS with its metadata rendered through the page's
    template, which fails (a 500)."""

    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "head"]


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, path=""):
    """Anything else under /api/v1/ is a JSON 404, like every other API error."""
    raise NotFound()


urlpatterns = [
    *agreements.api.urls.urlpatterns,
    *partners.api.urls.urlpatterns,
    path("auth/token/", TokenView.as_view(), name="token"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^(?P<path>.*)$", not_found),
]
