"""Bad input is a 400 or a 404, never a 500: NUL bytes in the address, JSON nested without end,
admin date-hierarchy values no calendar has. Run on PostgreSQL too, where a NUL byte reaching
the database is an error of its own (``DATABASE_URL=postgres://... pytest``)."""

import json

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from .api_helpers import client_for
from .factories import UserFactory

DEEP = "[" * 100_000 + "]" * 100_000


def _client(user=None) -> Client:
    """A client that answers like the server (a 500 page), instead of raising."""
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


# NUL bytes -----------------------------------------------------------------------------------

NUL_PAGES = ["/calendar/%00.ics", "/nations/%00SA/", "/organizations/%00SA/", "/agreements/?q=%00"]


@pytest.mark.parametrize("url", NUL_PAGES)
def test_nul_byte_in_a_page_address_is_400(world, analyst, url):
    response = _client(analyst).get(url)
    assert response.status_code == 400


NUL_API = [
    "/api/v1/organizations/%00SA/",
    "/api/v1/nations/%00SA/",
    "/api/v1/agreements/?q=%00",
    "/api/v1/agreements/?party=US%00A",
    "/api/v1/provisions/?q=a%00b",
]


@pytest.mark.parametrize("url", NUL_API)
def test_nul_byte_in_an_api_address_is_a_json_400(world, analyst, url):
    client = client_for(analyst)
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_nul_byte_in_a_query_key_is_400(world, analyst):
    assert _client(analyst).get("/agreements/?a%00b=1").status_code == 400


def test_nul_byte_refused_before_login(db):
    """The login page and the calendar feed need no session: they refuse it too."""
    assert _client().get("/accounts/login/?next=/%00").status_code == 400


# JSON nested without end ---------------------------------------------------------------------


def test_deep_json_on_the_token_endpoint_is_400(db):
    client = APIClient(raise_request_exception=False)
    response = client.post("/api/v1/auth/token/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_deep_json_on_agreement_create_and_update_is_400(world, registrar):
    client = client_for(registrar)
    client.raise_request_exception = False
    response = client.post("/api/v1/agreements/", DEEP, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "nested" in response.json()["detail"]
    url = f"/api/v1/agreements/{world['public'].pk}/"
    body = '{"title": ' + DEEP + "}"
    for method in (client.patch, client.put):
        response = method(url, body, content_type="application/json")
        assert response.status_code == 400
        assert "nested" in response.json()["detail"]


def test_json_deeper_than_the_bound_is_400_even_when_python_could_parse_it(world, registrar):
    client = client_for(registrar)
    body = '{"title": ' + "[" * 200 + "]" * 200 + "}"
    response = client.patch(
        f"/api/v1/agreements/{world['public'].pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_ordinary_json_still_parses(world, registrar):
    response = client_for(registrar).patch(
        f"/api/v1/agreements/{world['public'].pk}/",
        json.dumps({"parties": [{"code": "USA"}, {"code": "PHL"}], "short_title": "MDT"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def test_deep_json_in_the_admin_reminder_offsets_is_a_form_error(world, registrar):
    from .formscrape import form_data

    client = _client(registrar)
    url = reverse("admin:agreements_agreement_change", args=[world["public"].pk])
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["reminder_offsets"] = DEEP
    response = client.post(url, data)
    assert response.status_code == 200
    assert "nested" in response.content.decode()


# Admin date hierarchy ------------------------------------------------------------------------

DATE_HIERARCHY_ADMINS = [
    model_admin for model_admin in admin.site._registry.values() if model_admin.date_hierarchy
]


def _changelist(model_admin) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


@pytest.mark.parametrize(
    "params",
    [
        {"__year": "99999999999"},
        {"__year": "9999"},
        {"__year": "9999", "__month": "12", "__day": "31"},
        {"__year": "0"},
        {"__year": "2020", "__month": "13"},
        {"__year": "2020", "__month": "2", "__day": "30"},
        {"__year": "2020", "__month": "99999999999999999999"},
        {"__year": "abc"},
    ],
)
@pytest.mark.parametrize("model_admin", DATE_HIERARCHY_ADMINS, ids=lambda a: a.model.__name__)
def test_admin_date_hierarchy_value_out_of_any_calendar_is_400(world, model_admin, params):
    """Every admin with a date hierarchy, the project's and third parties' (django-axes)."""
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    field = model_admin.date_hierarchy
    query = {f"{field}{suffix}": value for suffix, value in params.items()}
    response = _client(superuser).get(_changelist(model_admin), query)
    assert response.status_code == 400


def test_admin_date_hierarchy_good_values_still_filter(world, registrar):
    client = _client(registrar)
    url = reverse("admin:agreements_agreement_changelist")
    html = client.get(url, {"signed_on__year": "2015"}).content.decode()
    assert "Combined Training Accord" in html
    assert "Supplemental Agreement" not in html
    assert client.get(url, {"signed_on__year": "2009", "signed_on__month": "10"}).status_code == 200


def test_there_are_date_hierarchy_admins_to_check():
    assert len(DATE_HIERARCHY_ADMINS) >= 7  # four of ours, three of django-axes


# The API's own errors ------------------------------------------------------------------------


def test_an_api_500_is_json(world, analyst, monkeypatch):
    from agreements.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.AgreementViewSet, "list", boom)
    client = client_for(analyst)
    client.raise_request_exception = False
    response = client.get("/api/v1/agreements/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error."}
    assert "boom" not in response.content.decode()


def test_a_page_500_is_still_the_registry_page(world, analyst, monkeypatch):
    from agreements import views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "render", boom)
    response = _client(analyst).get("/agreements/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "url", ["/api/v1/nothing-here/", "/api/v1/agreements/1/nothing/", "/api/v1/x"]
)
def test_anonymous_request_to_an_unknown_api_path_is_401(db, url):
    response = client_for().get(url)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_signed_in_request_to_an_unknown_api_path_is_a_json_404(analyst):
    response = client_for(analyst).get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["detail"]
