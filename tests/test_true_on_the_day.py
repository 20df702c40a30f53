"""The wrong answers about a day that the demo data used to give, each asked as an analyst
would, through the API, on the demo set (loaded once for the module)."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from agreements.choices import PartyStatus
from agreements.models import Agreement, PartyPeriod

from .api_helpers import client_for
from .module_data import module_transaction


@pytest.fixture(scope="module")
def demo_load(request, django_db_setup, django_db_blocker):
    with module_transaction(request, django_db_blocker):
        with django_db_blocker.unblock():
            call_command("setup_demo", stdout=io.StringIO())
        yield


@pytest.fixture
def analyst(demo_load, db):
    return User.objects.get(username="analyst")


def refs(user, **params):
    params.setdefault("page_size", 500)
    response = client_for(user).get("/api/v1/agreements/", params)
    assert response.status_code == 200, response.json()
    return {row["reference"] for row in response.json()["results"]}


def test_nato_agreements_are_not_those_of_its_members_before_they_joined(analyst):
    nato = refs(analyst, organization="NATO")
    assert "WARSAW-1955" not in nato  # Poland, Czechia... joined NATO after 1991
    assert "DE-SU-1939-NAP" not in nato  # Germany joined in 1955
    assert {"NATO-1949-NAT", "NATO-RU-1997-FA", "US-JP-1960-TMCS"} <= nato
    # The same rule in the export.
    response = client_for(analyst).get(
        "/api/v1/agreements/export/", {"organization": "NATO", "category": "training"}
    )
    body = b"".join(response.streaming_content).decode()
    assert "WARSAW-1955" not in body and "DE-SU-1939-NAP" not in body


@pytest.mark.parametrize(
    ("code", "before", "on"),
    [
        ("SWE", "2024-03-06", "2024-03-07"),
        ("MKD", "2020-03-26", "2020-03-27"),
        ("MNE", "2017-06-04", "2017-06-05"),
    ],
)
def test_late_members_are_parties_to_the_north_atlantic_treaty_from_their_accession(
    analyst, code, before, on
):
    assert "NATO-1949-NAT" not in refs(analyst, party=code, in_force_on="2010-01-01")
    assert "NATO-1949-NAT" not in refs(analyst, party=code, in_force_on=before)
    assert "NATO-1949-NAT" in refs(analyst, party=code, in_force_on=on)


def test_a_suspended_agreement_is_not_in_force_during_its_suspension(analyst):
    assert "NATO-RU-1997-FA" in refs(analyst, in_force_on="2010-01-01")
    assert "NATO-RU-1997-FA" not in refs(analyst, in_force_on="2015-01-01")


def test_withdrawals_take_effect_on_their_day(analyst):
    # Albania left the Warsaw Pact on 13 September 1968; the Pact went on until 1991.
    assert "WARSAW-1955" in refs(analyst, party="ALB", in_force_on="1968-09-12")
    assert "WARSAW-1955" not in refs(analyst, party="ALB", in_force_on="1968-09-13")
    assert "WARSAW-1955" in refs(analyst, party="POL", in_force_on="1970-01-01")


def test_every_multilateral_demo_party_has_acts_with_sources(demo_load, db):
    for agreement in Agreement.objects.prefetch_related("parties__acts"):
        parties = list(agreement.parties.all())
        if len(parties) <= 2:
            continue
        for party in parties:
            acts = list(party.acts.all())
            assert acts, f"{agreement.reference}: {party.code} has no acts"
            assert all(act.source_url for act in acts), f"{agreement.reference}: {party.code}"
    assert PartyPeriod.objects.filter(status=PartyStatus.WITHDRAWN).exists()
