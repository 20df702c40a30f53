"""Partners by name as well as by code in ``party``, ``party_any`` and ``organization`` (the
filter set that the API and the browser list share), and the orderings by reference, status
and type."""

import datetime

import pytest

from agreements.choices import AgreementStatus, AgreementType
from agreements.filtersets import resolve_partners

from .api_helpers import client_for
from .factories import AgreementFactory, NationFactory
from .test_agreement_filterset import refs, run

D = datetime.date


def test_a_name_is_as_good_as_its_code(world, viewer):
    assert refs(viewer, party="Philippines") == refs(viewer, party="PHL") == ["US-PH-TRG"]
    assert refs(viewer, party="  philippines ,UNITED   states") == ["US-PH-TRG"]
    assert refs(viewer, party_any="Colombia,PHL") == ["US-CO-DCA", "US-PH-TRG"]
    assert refs(viewer, organization="north atlantic treaty organization") == refs(
        viewer, organization="NATO"
    )


def test_a_name_with_commas_in_it(world, viewer, partners):
    congo = NationFactory(iso3="COD", name="Congo, The Democratic Republic of the")
    AgreementFactory(reference="US-CD-MOU", parties=[partners["USA"], congo])
    resolved, unknown, ambiguous = resolve_partners("Congo, The Democratic Republic of the,USA")
    assert [code for _kind, _pk, code in resolved] == ["COD", "USA"]
    assert unknown == ambiguous == []
    assert refs(viewer, party="USA, Congo, the Democratic Republic of the") == ["US-CD-MOU"]


def test_a_code_wins_over_a_name(world, viewer, partners):
    NationFactory(iso3="ZZP", name="PHL")  # a partner whose name is another's code
    assert refs(viewer, party="PHL") == ["US-PH-TRG"]


@pytest.mark.parametrize(
    "param, value, message",
    [
        ("party", "Narnia", "No nation or organization has the code or name: Narnia."),
        ("party_any", "USA,Atlantis", "No nation or organization has the code or name: Atlantis."),
        ("organization", "France", "No organization has the code or name: France."),
        (
            "party",
            "france",
            "france is the name of more than one partner (FRA, FXX): give the code.",
        ),
    ],
)
def test_unknown_and_ambiguous_names_are_errors_of_the_parameter(
    world, viewer, param, value, message
):
    NationFactory(iso3="FXX", name="France")  # as ISO 3166 has it: "France, Metropolitan"
    filterset = run(viewer, **{param: value})
    assert not filterset.is_valid()
    assert filterset.errors == {param: [message]}
    assert run(viewer, party="FRA,FXX").is_valid()  # a code is never ambiguous


def test_the_api_takes_names_and_names_the_parameter_in_errors(world, analyst):
    NationFactory(iso3="FXX", name="France")
    client = client_for(analyst)
    response = client.get("/api/v1/agreements/", {"party": "Philippines,United States"})
    assert response.status_code == 200
    assert sorted(a["reference"] for a in response.json()["results"]) == ["SEC-0001", "US-PH-TRG"]
    response = client.get("/api/v1/agreements/", {"party": "France"})
    assert response.status_code == 400
    assert response.json() == {
        "party": ["France is the name of more than one partner (FRA, FXX): give the code."]
    }


# Ordering -----------------------------------------------------------------------------------


@pytest.fixture
def mixed(partners):
    for reference, status, type_ in [
        ("C-1", AgreementStatus.EXPIRED, AgreementType.TRAINING),
        ("A-1", AgreementStatus.DRAFT, AgreementType.SOFA),
        ("B-1", AgreementStatus.IN_FORCE, AgreementType.ACCESS),
        ("D-1", AgreementStatus.IN_FORCE, AgreementType.DCA),
    ]:
        AgreementFactory(reference=reference, status=status, type=type_, signed_on=D(2010, 1, 1))


def ordered(user, ordering):
    filterset = run(user, ordering=ordering)
    assert filterset.is_valid(), filterset.errors
    return [a.reference for a in filterset.qs]


def test_ordering_by_reference_status_and_type(mixed, analyst):
    assert ordered(analyst, "reference") == ["A-1", "B-1", "C-1", "D-1"]
    assert ordered(analyst, "-reference") == ["D-1", "C-1", "B-1", "A-1"]
    # status in lifecycle order (draft ... in force ... expired), ties by reference
    assert ordered(analyst, "status") == ["A-1", "B-1", "D-1", "C-1"]
    assert ordered(analyst, "-status") == ["C-1", "B-1", "D-1", "A-1"]
    # type by its label: Access, Defense cooperation agreement, Status of forces, Training
    assert ordered(analyst, "type") == ["B-1", "D-1", "A-1", "C-1"]
    # ties of any other ordering are in reference order
    assert ordered(analyst, "signed_on") == ["A-1", "B-1", "C-1", "D-1"]


def test_the_api_orders_by_status(mixed, analyst):
    response = client_for(analyst).get("/api/v1/agreements/", {"ordering": "-status"})
    assert response.status_code == 200
    assert [a["reference"] for a in response.json()["results"]] == ["C-1", "B-1", "D-1", "A-1"]
    response = client_for(analyst).get("/api/v1/agreements/", {"ordering": "parties"})
    assert response.status_code == 400 and "ordering" in response.json()
