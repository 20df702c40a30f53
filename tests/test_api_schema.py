"""The OpenAPI schema and docs, and a bounded schemathesis run over every operation."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from .api_helpers import client_for

OPERATIONS = {
    ("GET", "/api/v1/agreements/"),
    ("POST", "/api/v1/agreements/"),
    ("GET", "/api/v1/agreements/{id}/"),
    ("PUT", "/api/v1/agreements/{id}/"),
    ("PATCH", "/api/v1/agreements/{id}/"),
    ("DELETE", "/api/v1/agreements/{id}/"),
    ("GET", "/api/v1/agreements/export/"),
    ("GET", "/api/v1/agreements/dyad-years/"),
    ("GET", "/api/v1/agreements/{agreement_pk}/provisions/"),
    ("GET", "/api/v1/agreements/{agreement_pk}/reviews/"),
    ("POST", "/api/v1/agreements/{agreement_pk}/reviews/"),
    ("GET", "/api/v1/agreements/{agreement_pk}/history/"),
    ("GET", "/api/v1/provisions/"),
    ("GET", "/api/v1/nations/"),
    ("GET", "/api/v1/nations/{iso3}/"),
    ("GET", "/api/v1/organizations/"),
    ("GET", "/api/v1/organizations/{acronym}/"),
    ("GET", "/api/v1/points-of-contact/"),
    ("GET", "/api/v1/reminders/"),
    ("GET", "/api/v1/deadlines/"),
    ("GET", "/api/v1/stats/"),
    ("POST", "/api/v1/auth/token/"),
    ("GET", "/api/v1/engagements/"),
    ("POST", "/api/v1/engagements/"),
    ("GET", "/api/v1/engagements/{id}/"),
    ("PUT", "/api/v1/engagements/{id}/"),
    ("PATCH", "/api/v1/engagements/{id}/"),
    ("DELETE", "/api/v1/engagements/{id}/"),
    ("GET", "/api/v1/engagements/export/"),
}
ENGAGEMENT_FILTERS = {
    "kind",
    "status",
    "domain",
    "classification",
    "partner",
    "organization",
    "agreement",
    "provision_category",
    "starts_after",
    "starts_before",
    "ends_after",
    "ends_before",
    "q",
    "ordering",
}
AGREEMENT_FILTERS = {
    "party",
    "party_any",
    "region",
    "organization",
    "type",
    "status",
    "classification",
    "category",
    "signed_after",
    "signed_before",
    "expires_after",
    "expires_before",
    "expiring_within",
    "review_due_within",
    "in_force_on",
    "q",
    "ordering",
}


def test_schema_describes_every_endpoint_and_filter(viewer):
    response = client_for(viewer).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations >= OPERATIONS
    filtered = ("agreements/", "stats/", "agreements/export/", "agreements/dyad-years/")
    for path in filtered:
        names = {p["name"] for p in schema["paths"][f"/api/v1/{path}"]["get"]["parameters"]}
        assert names >= AGREEMENT_FILTERS, path
    years = {
        p["name"]: p
        for p in schema["paths"]["/api/v1/agreements/dyad-years/"]["get"]["parameters"]
        if p["name"] in ("from", "to")
    }
    assert set(years) == {"from", "to"}
    for parameter in years.values():
        assert parameter["required"] is True
        assert parameter["schema"] == {"type": "integer", "minimum": 1700, "maximum": 2300}
    for path in ("engagements/", "engagements/export/"):
        names = {p["name"] for p in schema["paths"][f"/api/v1/{path}"]["get"]["parameters"]}
        assert names >= ENGAGEMENT_FILTERS, path
    names = {p["name"] for p in schema["paths"]["/api/v1/agreements/"]["get"]["parameters"]}
    assert {"page", "page_size"} <= names
    assert {"category", "agreement", "party", "q"} <= {
        p["name"] for p in schema["paths"]["/api/v1/provisions/"]["get"]["parameters"]
    }


def test_docs_are_served_without_a_cdn(viewer):
    response = client_for(viewer).get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


def test_docs_refuse_options_instead_of_failing(viewer):
    """DRF answered OPTIONS with its metadata rendered through the docs page template: a 500."""
    response = client_for(viewer).options("/api/v1/docs/")
    assert response.status_code == 405


def load_schema():
    """The schema as the app generates it (no request needed), served by the app in-process."""
    from drf_spectacular.generators import SchemaGenerator

    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = get_wsgi_application()
    loaded.location = "/api/v1/schema/"
    return loaded


schema = load_schema()


@pytest.fixture
def auth_header(registrar, world):
    """A registry admin's token, in the shared world. Like Django's test client, keep the
    test's database connection open across the in-process WSGI requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield client_for(registrar)._credentials["HTTP_AUTHORIZATION"]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, auth_header):
    """As a registry admin (every permission): no 500 and every answer as documented."""
    case.call_and_validate(
        # Identity: the WSGI transport hands over bytes as sent, and pages are gzipped on request.
        headers={"Authorization": auth_header, "Accept-Encoding": "identity"},
        checks=[
            checks.not_a_server_error,
            checks.response_schema_conformance,
            checks.content_type_conformance,
        ],
    )
