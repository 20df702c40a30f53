"""AgreementFilterSet on its own (the API, browser list, export and statistics share it)."""

import datetime

import pytest
from django.test import RequestFactory

from accounts.choices import Classification
from agreements.choices import AgreementStatus, AgreementType, ProvisionCategory
from agreements.filtersets import AgreementFilterSet
from agreements.models import AgreementParty
from agreements.selectors import agreements_for

from .factories import AgreementFactory, MembershipFactory, ProvisionFactory

D = datetime.date


def run(user, **params):
    request = RequestFactory().get("/", params)
    request.user = user
    filterset = AgreementFilterSet(data=request.GET, queryset=agreements_for(user), request=request)
    return filterset


def refs(user, **params):
    filterset = run(user, **params)
    assert filterset.is_valid(), filterset.errors
    return sorted(a.reference for a in filterset.qs)


@pytest.fixture
def world(partners):
    p = partners
    a = AgreementFactory(
        reference="US-PH",
        title="Mutual Defense Treaty",
        parties=[p["USA"], p["PHL"]],
        type=AgreementType.ALLIANCE,
        signed_on=D(1951, 8, 30),
        entered_into_force_on=D(1952, 8, 27),
    )
    ProvisionFactory(agreement=a, category=ProvisionCategory.TRAINING)
    b = AgreementFactory(
        reference="US-CO",
        parties=[p["USA"], p["COL"]],
        type=AgreementType.DCA,
        signed_on=D(2009, 10, 30),
        entered_into_force_on=D(2009, 10, 30),
        expires_on=D(2026, 9, 1),
    )
    secret = AgreementFactory(
        reference="SECRET",
        parties=[p["GBR"], p["FRA"]],
        classification=Classification.SECRET,
        type=AgreementType.SOFA,
    )
    # A visible agreement with a hidden training annex only.
    c = AgreementFactory(
        reference="GB-JP",
        parties=[p["GBR"], p["JPN"]],
        signed_on=D(2017, 1, 1),
        entered_into_force_on=D(2017, 1, 1),
    )
    ProvisionFactory(
        agreement=c, category=ProvisionCategory.TRAINING, classification=Classification.SECRET
    )
    return {"a": a, "b": b, "secret": secret, "c": c}


def test_party_means_every_named_party(world, viewer):
    assert refs(viewer, party="USA") == ["US-CO", "US-PH"]
    assert refs(viewer, party="usa,phl") == ["US-PH"]
    assert refs(viewer, party_any="PHL,COL") == ["US-CO", "US-PH"]


def test_clearance_applies_to_everything(world, viewer, analyst):
    assert refs(viewer, party="GBR") == ["GB-JP"]
    assert refs(analyst, party="GBR") == ["GB-JP", "SECRET"]
    # category only looks at provisions the user may see
    assert refs(viewer, category="training") == ["US-PH"]
    assert refs(analyst, category="training") == ["GB-JP", "US-PH"]


def test_choice_lists_and_unknown_values(world, viewer):
    assert refs(viewer, type="alliance,sofa") == ["US-PH"]
    assert refs(viewer, type="dca") == ["GB-JP", "US-CO"]
    assert refs(viewer, status=AgreementStatus.DRAFT) == []
    for param, value in [
        ("type", "treaty"),
        ("status", "in_force,nope"),
        ("classification", "topsecret"),
        ("category", "cooking"),
        ("party", "USA,XYZ"),
        ("party_any", "ZZZ"),
        ("organization", "SEATO"),
        ("region", "Atlantis"),
        ("signed_after", "2020-13-01"),
        ("expiring_within", "-1"),
        ("expiring_within", "999999"),
        ("review_due_within", "soon"),
        ("in_force_on", "yesterday"),
        ("ordering", "reference"),
    ]:
        filterset = run(viewer, **{param: value})
        assert not filterset.is_valid(), (param, value)
        assert list(filterset.errors) == [param]


def test_dates_are_inclusive(world, viewer):
    assert refs(viewer, signed_after="2009-10-30") == ["GB-JP", "US-CO"]
    assert refs(viewer, signed_before="2009-10-30", signed_after="1951-08-30") == [
        "US-CO",
        "US-PH",
    ]
    assert refs(viewer, expires_after="2026-09-01", expires_before="2026-09-01") == ["US-CO"]


def test_windows_count_from_today(world, viewer, frozen_today):
    assert refs(viewer, expiring_within="78") == ["US-CO"]
    assert refs(viewer, expiring_within="77") == []
    world["a"].next_review_on = D(2026, 6, 20)
    world["a"].save()
    assert refs(viewer, review_due_within="5") == ["US-PH"]
    assert refs(viewer, review_due_within="4") == []


def test_region_and_organization(world, viewer, partners):
    assert refs(viewer, region="asia") == ["GB-JP", "US-PH"]
    MembershipFactory(nation=partners["COL"], organization=partners["NATO"])
    nato = AgreementFactory(reference="NATO-AU", parties=[partners["NATO"], partners["AU"]])
    assert refs(viewer, organization="NATO") == ["NATO-AU", "US-CO"]
    assert nato.reference in refs(viewer, organization="au")


def test_in_force_on_with_late_and_withdrawn_parties(world, viewer, partners):
    a = world["a"]
    assert refs(viewer, in_force_on="1952-08-27", party="USA") == ["US-PH"]
    assert refs(viewer, in_force_on="1952-08-26") == []
    # Japan joins late (its own entry into force), Colombia withdraws.
    AgreementParty.objects.create(
        agreement=a, nation=partners["JPN"], entered_into_force_on=D(2000, 1, 1)
    )
    AgreementParty.objects.create(agreement=a, nation=partners["COL"], withdrawn_on=D(1990, 1, 1))
    assert refs(viewer, in_force_on="1999-12-31", party="JPN") == []
    assert refs(viewer, in_force_on="2000-01-01", party="USA,JPN") == ["US-PH"]
    assert refs(viewer, in_force_on="1989-12-31", party="COL,PHL") == ["US-PH"]
    assert refs(viewer, in_force_on="2010-01-01", party="COL") == ["US-CO"]
    # Without in_force_on, party ignores the dates.
    assert refs(viewer, party="JPN,COL") == ["US-PH"]
    # expired before the day: not in force
    assert refs(viewer, in_force_on="2026-09-02", party="COL") == []


def test_q_and_ordering(world, viewer, analyst):
    assert refs(viewer, q="mutual defense") == ["US-PH"]
    world["c"].provisions.update(title="Submarine training annex")
    world["c"].provisions.get().save()
    assert refs(viewer, q="submarine") == []
    assert refs(analyst, q="submarine") == ["GB-JP"]
    filterset = run(viewer, ordering="-signed_on")
    assert filterset.is_valid()
    assert [a.reference for a in filterset.qs] == ["GB-JP", "US-CO", "US-PH"]
