"""AgreementFilterSet on its own (the API, browser list, export and statistics share it)."""

import datetime

from django.test import RequestFactory

from agreements.choices import AgreementStatus
from agreements.filtersets import AgreementFilterSet
from agreements.selectors import agreements_for
from agreements.services import agreement_save, provision_save

from .factories import AgreementFactory, MembershipFactory

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


# The world of tests/world.py: US-PH-TRG and US-CO-DCA are public, UK-FR-BASING confidential,
# SEC-0001 secret; US-CO-DCA has only a secret training annex.


def test_party_means_every_named_party(world, viewer):
    assert refs(viewer, party="USA") == ["US-CO-DCA", "US-PH-TRG"]
    assert refs(viewer, party="usa,phl") == ["US-PH-TRG"]
    assert refs(viewer, party_any="PHL,COL") == ["US-CO-DCA", "US-PH-TRG"]


def test_clearance_applies_to_everything(world, viewer, editor, analyst):
    assert refs(viewer, party="USA") == ["US-CO-DCA", "US-PH-TRG"]
    assert refs(analyst, party="USA") == ["SEC-0001", "US-CO-DCA", "US-PH-TRG"]
    assert refs(viewer, party="GBR") == []
    assert refs(editor, party="GBR") == ["UK-FR-BASING"]
    # category only looks at provisions the user may see
    assert refs(viewer, category="training") == ["US-PH-TRG"]
    assert refs(analyst, category="training") == ["US-CO-DCA", "US-PH-TRG"]


def test_choice_lists_and_unknown_values(world, viewer):
    assert refs(viewer, type="training,sofa") == ["US-PH-TRG"]
    assert refs(viewer, type="dca") == ["US-CO-DCA"]
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
        ("ordering", "parties"),
    ]:
        filterset = run(viewer, **{param: value})
        assert not filterset.is_valid(), (param, value)
        assert list(filterset.errors) == [param]


def test_dates_are_inclusive(world, viewer):
    assert refs(viewer, signed_after="2015-03-01") == ["US-PH-TRG"]
    assert refs(viewer, signed_before="2015-03-01", signed_after="2009-10-30") == [
        "US-CO-DCA",
        "US-PH-TRG",
    ]
    assert refs(viewer, expires_after="2026-09-01", expires_before="2026-09-01") == ["US-CO-DCA"]


def test_windows_count_from_today(world, viewer):
    assert refs(viewer, expiring_within="78") == ["US-CO-DCA", "US-PH-TRG"]
    assert refs(viewer, expiring_within="77") == ["US-PH-TRG"]
    assert refs(viewer, review_due_within="16") == ["US-PH-TRG"]
    assert refs(viewer, review_due_within="15") == []


def test_region_and_organization(world, viewer, partners):
    assert refs(viewer, region="asia") == ["US-PH-TRG"]
    # The USA is a NATO member and NATO itself a party of US-PH-TRG.
    assert refs(viewer, organization="NATO") == ["US-CO-DCA", "US-PH-TRG"]
    MembershipFactory(nation=partners["COL"], organization=partners["AU"])
    au = AgreementFactory(reference="NATO-AU", parties=[partners["NATO"], partners["AU"]])
    assert refs(viewer, organization="au") == ["NATO-AU", "US-CO-DCA"]
    assert au.reference in refs(viewer, organization="NATO")


def test_in_force_on_with_late_and_withdrawn_parties(world, viewer, partners):
    public = world["public"]  # in force since 2015-06-01, expires 2026-07-15
    assert refs(viewer, in_force_on="2015-06-01", party="PHL") == ["US-PH-TRG"]
    assert refs(viewer, in_force_on="2015-05-31", party="PHL") == []
    # Japan joins late (its own entry into force), Colombia withdraws.
    agreement_save(
        agreement=public,
        parties=[
            "USA",
            "PHL",
            "NATO",
            {"code": "JPN", "entered_into_force_on": D(2020, 1, 1)},
            {"code": "COL", "withdrawn_on": D(2018, 1, 1)},
        ],
    )
    assert refs(viewer, in_force_on="2019-12-31", party="JPN") == []
    assert refs(viewer, in_force_on="2020-01-01", party="USA,JPN") == ["US-PH-TRG"]
    assert refs(viewer, in_force_on="2017-12-31", party="COL,PHL") == ["US-PH-TRG"]
    assert refs(viewer, in_force_on="2019-01-01", party="COL") == ["US-CO-DCA"]
    # Without in_force_on, party ignores the dates.
    assert refs(viewer, party="JPN,COL") == ["US-PH-TRG"]
    # expired before the day: not in force
    assert refs(viewer, in_force_on="2026-09-02", party="COL") == []


def test_q_and_ordering(world, viewer, analyst):
    assert refs(viewer, q="supplemental agreement") == ["US-CO-DCA"]
    annex = world["colombia"].provisions.get()
    provision_save(provision=annex, agreement=world["colombia"], title="Submarine training annex")
    assert refs(viewer, q="submarine") == []
    assert refs(analyst, q="submarine") == ["US-CO-DCA"]
    filterset = run(viewer, ordering="-signed_on")
    assert filterset.is_valid()
    assert [a.reference for a in filterset.qs] == ["US-PH-TRG", "US-CO-DCA"]
    filterset = run(analyst, ordering="-signed_on")
    assert filterset.is_valid()
    assert [a.reference for a in filterset.qs] == [
        "US-PH-TRG",
        "UK-FR-BASING",
        "US-CO-DCA",
        "SEC-0001",
    ]
