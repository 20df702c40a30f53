"""The API's JSON renderer (``config.renderers``, orjson) answers with the bytes of DRF's
own ``JSONRenderer`` for what the API serializes, and stays DRF's when indenting."""

import datetime
import decimal
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from config.renderers import JSONRenderer

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory


@dataclass
class Point:
    x: int
    label: str


SAMPLES = [
    {"a": 1, "b": [1, 2.5, None, True, False], "c": {"d": "e"}},
    ["Ελλάδα", "Côte d’Ivoire", "line\u2028separator\u2029paragraph", 'quote " \\ /', "\x00\x1f"],
    {
        "when": datetime.datetime(2026, 12, 1, 19, 47, 35, 123456, tzinfo=datetime.UTC),
        "local": timezone.make_aware(datetime.datetime(2026, 1, 5, 9, 30)),
        "naive": datetime.datetime(2026, 1, 5, 9, 30, 0, 5000),
        "day": datetime.date(2026, 2, 28),
        "time": datetime.time(9, 30, 15, 250000),
        "span": datetime.timedelta(days=2, seconds=5),
    },
    {"money": decimal.Decimal("12.50"), "id": uuid.UUID(int=7), "lazy": gettext_lazy("Name")},
    {"errors": [ErrorDetail("This field is required.", code="required")], 7: "int key"},
    {"big": 2**62, "negative": -0.0, "floats": [0.1, 2.5, 1234.5678, -3.75]},
    [],
    {},
    "text",
]


@pytest.mark.parametrize("data", SAMPLES)
def test_same_bytes_as_drf(data):
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)


def test_floats_in_exponent_form_have_the_same_value():
    """The one difference in spelling: Python writes 1e-07 where orjson writes 1e-7."""
    import json

    data = {"tiny": 1e-7, "huge": 1.5e300}
    assert json.loads(JSONRenderer().render(data)) == json.loads(DRFJSONRenderer().render(data))


def test_what_drf_cannot_render_fails_alike():
    for renderer in (JSONRenderer(), DRFJSONRenderer()):
        with pytest.raises(TypeError):
            renderer.render({"point": Point(1, "x")})


def test_indented_answers_are_drf_own():
    data = {"a": [1, {"b": "c"}]}
    accepted = "application/json; indent=4"
    assert JSONRenderer().render(data, accepted) == DRFJSONRenderer().render(data, accepted)
    assert b"\n    " in JSONRenderer().render(data, accepted)


def test_none_is_an_empty_body():
    assert JSONRenderer().render(None) == b""


@pytest.mark.django_db
def test_api_answers_are_drf_bytes(analyst):
    agreement = AgreementFactory(title="Accord “Ελλάδα”\u2028")
    ProvisionFactory(agreement=agreement, text="x\u2029y")
    api = client_for(analyst)
    for url in (f"/api/v1/agreements/{agreement.pk}/", "/api/v1/agreements/?page_size=5"):
        response = api.get(url)
        assert response.status_code == 200
        assert response.content == DRFJSONRenderer().render(response.data), url
        assert b"\\u2028" in response.content or b"\\u2029" in response.content
