"""The three analyst questions of docs/api.md ("Three questions, three calls"), each one call,
asked of the demo set (loaded once for the module) as the demo analyst."""

import csv
import io

import pytest
from django.core.management import call_command

from accounts.models import User
from agreements.models import Agreement, Provision

from .api_helpers import client_for
from .module_data import module_transaction

DAY = "2026-12-01"


@pytest.fixture(scope="module")
def demo_load(request, django_db_setup, django_db_blocker):
    with module_transaction(request, django_db_blocker):
        with django_db_blocker.unblock():
            call_command("setup_demo", stdout=io.StringIO())
        yield


@pytest.fixture
def analyst(demo_load, db):
    return User.objects.get(username="analyst")


def test_what_agreements_in_force_with_the_philippines_commit_to(analyst):
    c = client_for(analyst)
    params = {"party": "PHL", "in_force_on": DAY, "page_size": 500}
    provisions = c.get("/api/v1/provisions/", params).json()["results"]
    agreements = c.get("/api/v1/agreements/", params).json()["results"]
    assert {p["agreement"]["reference"] for p in provisions} <= {a["reference"] for a in agreements}
    edca = {p["title"] for p in provisions if p["agreement"]["reference"] == "US-PH-2014-EDCA"}
    assert edca == {
        "Agreed locations",
        "Prepositioned materiel",
        "Interoperability and capacity building",
    }
    # The Military Bases Agreement lapsed in 1991: none of its provisions.
    assert "US-PH-1947-MBA" not in {p["agreement"]["reference"] for p in provisions}
    listed = {a["id"] for a in agreements}
    assert len(provisions) == Provision.objects.filter(agreement__in=listed).count()


def test_agreements_of_each_type_per_decade(analyst):
    body = client_for(analyst).get("/api/v1/stats/", {"group_by": "decade,type"}).json()
    assert body["total"] == Agreement.objects.count()
    assert sum(row["count"] for row in body["results"]) == body["total"]  # one value each
    cells = {(row["decade"], row["type"]): row["count"] for row in body["results"]}
    assert cells[(2010, "dca")] >= 1  # the EDCA, signed 28 April 2014
    edca = Agreement.objects.get(reference="US-PH-2014-EDCA")
    assert edca.signed_on.year // 10 * 10 == 2010
    table = client_for(analyst).get("/api/v1/stats/", {"group_by": "decade,type", "format": "csv"})
    lines = table.content.decode().splitlines()
    assert lines[0] == "decade,type,type_label,count"
    assert len(lines) == len(body["results"]) + 1


def test_export_with_nato_or_its_members_at_the_time_and_training(analyst):
    response = client_for(analyst).get(
        "/api/v1/agreements/export/", {"organization": "NATO", "category": "training"}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    # A member (the United States) at the time, and NATO itself a party.
    assert {"US-PH-2014-EDCA", "NATO-UA-1997-CHARTER"} <= {row["reference"] for row in rows}
    assert all("training" in row["provision_categories"].split(";") for row in rows)
