"""Every list in an agreement write is bounded, so no request holds a worker for minutes:
a 400 beyond the bound, naming the field and the limit (docs/api.md lists them)."""

import time

import pytest
from rest_framework.test import APIRequestFactory

from agreements.api.serializers import AgreementWriteSerializer
from agreements.limits import MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS
from agreements.models import Agreement

from .api_helpers import client_for

BASE = {"title": "Bounded", "type": "dca"}


def _party(n):
    return {"code": f"C{n:05d}"}


def _provision(n):
    return {"category": "training", "title": f"Provision {n}"}


def _watcher(n):
    return f"user{n}"


LISTS = [
    ("parties", MAX_PARTIES, _party),
    ("provisions", MAX_PROVISIONS, _provision),
    ("watchers", MAX_WATCHERS, _watcher),
]


def test_the_limits_are_the_documented_ones():
    assert (MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS) == (500, 1000, 500)


@pytest.mark.parametrize(("field", "limit", "make"), LISTS, ids=[n for n, *_ in LISTS])
def test_a_list_one_past_its_limit_is_a_400_naming_field_and_limit(
    partners, editor, field, limit, make
):
    body = {**BASE, field: [make(n) for n in range(limit + 1)]}
    response = client_for(editor).post("/api/v1/agreements/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field], errors
    assert f"no more than {limit}" in errors[field][0]
    assert Agreement.objects.count() == 0


@pytest.mark.parametrize(("field", "limit", "make"), LISTS, ids=[n for n, *_ in LISTS])
def test_a_list_at_its_limit_passes_the_bound(editor, field, limit, make):
    """At the limit the length is no error (the rows themselves may still be wrong)."""
    request = APIRequestFactory().post("/api/v1/agreements/")
    request.user = editor
    serializer = AgreementWriteSerializer(
        data={**BASE, field: [make(n) for n in range(limit)]}, context={"request": request}
    )
    serializer.is_valid()
    assert not any("no more than" in str(m) for m in serializer.errors.get(field, [])), (
        serializer.errors
    )


def test_ten_thousand_parties_are_refused_at_once(partners, editor):
    body = {**BASE, "parties": [_party(n) for n in range(10_000)]}
    started = time.monotonic()
    response = client_for(editor).post("/api/v1/agreements/", body, format="json")
    assert response.status_code == 400
    assert "parties" in response.json()
    assert time.monotonic() - started < 5


def test_patch_is_bounded_too(world, editor):
    body = {"provisions": [_provision(n) for n in range(MAX_PROVISIONS + 1)]}
    response = client_for(editor).patch(
        f"/api/v1/agreements/{world['public'].pk}/", body, format="json"
    )
    assert response.status_code == 400
    assert "provisions" in response.json()


def test_the_schema_states_the_limits(analyst):
    schema = client_for(analyst).get("/api/v1/schema/?format=json").json()
    request = schema["components"]["schemas"]["AgreementWriteRequest"]["properties"]
    # drf-spectacular states maxItems for a ListField, a description for a nested list.
    assert request["watchers"]["maxItems"] == MAX_WATCHERS
    assert f"At most {MAX_PARTIES}" in request["parties"]["description"]
    assert f"At most {MAX_PROVISIONS}" in request["provisions"]["description"]
