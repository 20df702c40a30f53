"""The list's page of rows (``AgreementListRows``) is built as dicts straight from the
agreements; it must say exactly what DRF's field-by-field serialization of
``AgreementListSerializer`` says, key order included, and cost no query per row."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from agreements.api.serializers import AgreementListRows, AgreementListSerializer
from agreements.models import Agreement
from agreements.selectors import agreements_for

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(partners):
    AgreementFactory(parties=[partners["USA"], partners["NATO"]], expires_on=None)
    a = AgreementFactory(
        parties=[partners["PHL"], partners["USA"], partners["NATO"]],
        expires_on=datetime.date(2031, 2, 3),
        notice_period_days=30,
        next_review_on=datetime.date(2027, 1, 1),
    )
    ProvisionFactory(agreement=a, category="logistics")
    ProvisionFactory(agreement=a, category="training", classification="secret")  # above viewer
    AgreementFactory(parties=[], signed_on=None, entered_into_force_on=None, status="draft")


def both(user):
    request = APIRequestFactory().get("/api/v1/agreements/", secure=True)
    request.user = user
    from rest_framework.request import Request

    drf_request = Request(request)
    drf_request.user = user
    context = {"request": drf_request, "format": None}
    rows = list(agreements_for(user).order_by("pk"))
    fast = AgreementListSerializer(rows, many=True, context=context)
    assert isinstance(fast, AgreementListRows)
    slow = serializers.ListSerializer(child=AgreementListSerializer(), context=context)
    return fast.data, slow.to_representation(rows), rows


def test_rows_are_what_drf_serializes(mixed, viewer):
    fast, slow, rows = both(viewer)
    assert len(rows) == 3
    assert json.dumps(fast) == json.dumps(slow)  # the same keys, in the same order
    assert [r["provision_categories"] for r in fast] == [[], ["logistics"], []]


def test_two_flat_queries_per_page(mixed, viewer):
    """The page's parties and provision categories: one query each, whatever the number of
    rows, and no model instance for them."""
    from rest_framework.request import Request

    request = Request(APIRequestFactory().get("/api/v1/agreements/"))
    request.user = viewer

    def count(rows) -> int:
        with CaptureQueriesContext(connection) as ctx:
            data = AgreementListSerializer(rows, many=True, context={"request": request}).data
        assert len(data) == len(rows)
        return len(ctx)

    one = count(list(Agreement.objects.all()[:1]))
    assert one == 2
    AgreementFactory.create_batch(5)
    assert count(list(Agreement.objects.all())) == one


def test_a_format_suffix_keeps_drf_path(mixed, viewer):
    body = client_for(viewer).get("/api/v1/agreements/", {"format": "json"}).json()
    assert body["count"] == 3
    assert body["results"][0]["url"].endswith(f"/api/v1/agreements/{body['results'][0]['id']}/")


def provision_columns(sql: list[str]) -> set[str]:
    (query,) = [q for q in sql if re.match(r'SELECT (DISTINCT )?"agreements_provision"', q)]
    return set(re.findall(r'"agreements_provision"\."(\w+)"', query.split(" FROM ")[0]))


def test_the_list_reads_only_the_provisions_categories(mixed, viewer):
    """A list shows the categories of the provisions: their text and search vector stay in
    the database; the detail reads them."""
    api = client_for(viewer)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/v1/agreements/").status_code == 200
    assert provision_columns([q["sql"] for q in ctx]) == {"agreement_id", "category"}
    (pk,) = [
        r["id"]
        for r in api.get("/api/v1/agreements/").json()["results"]
        if r["provision_categories"]
    ]
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(f"/api/v1/agreements/{pk}/").status_code == 200
    assert {"text", "title", "article"} <= provision_columns([q["sql"] for q in ctx])


def test_the_list_reads_only_the_agreement_columns_it_shows(mixed, viewer):
    with CaptureQueriesContext(connection) as ctx:
        body = client_for(viewer).get("/api/v1/agreements/", {"ordering": "-expires_on"}).json()
    assert body["count"] == 3
    (page,) = [
        q["sql"]
        for q in ctx
        if q["sql"].startswith('SELECT "agreements_agreement"."id"') and "COUNT" not in q["sql"]
    ]
    columns = set(re.findall(r'"agreements_agreement"\."(\w+)"', page.split(" FROM ")[0]))
    assert columns == set(AgreementListRows.columns)
    assert "summary" not in columns and "search_vector" not in columns
