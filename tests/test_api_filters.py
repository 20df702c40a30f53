"""The agreement filters through the real URL, bad parameters, pagination, full-text search."""

import datetime

import pytest

from agreements.choices import ProvisionCategory
from agreements.services import agreement_save

from .api_helpers import client_for
from .factories import MembershipFactory

D = datetime.date

# The world of tests/world.py: US-PH-TRG and US-CO-DCA are public, UK-FR-BASING confidential,
# SEC-0001 secret.


def refs(client, **params):
    response = client.get("/api/v1/agreements/", params)
    assert response.status_code == 200, response.json()
    return sorted(a["reference"] for a in response.json()["results"])


def test_each_filter_alone(world, analyst, partners):
    c = client_for(analyst)
    assert refs(c, party="USA") == ["SEC-0001", "US-CO-DCA", "US-PH-TRG"]
    assert refs(c, party_any="COL,FRA") == ["UK-FR-BASING", "US-CO-DCA"]
    assert refs(c, region="Europe") == ["UK-FR-BASING"]
    # NATO is a party of two; the USA, a member, of a third.
    assert refs(c, organization="NATO") == ["SEC-0001", "US-CO-DCA", "US-PH-TRG"]
    MembershipFactory(nation=partners["FRA"], organization=partners["AU"])
    assert refs(c, organization="AU") == ["UK-FR-BASING"]
    assert refs(c, type="sofa,dca") == ["UK-FR-BASING", "US-CO-DCA"]
    assert refs(c, status="in_force") == ["UK-FR-BASING", "US-CO-DCA", "US-PH-TRG"]
    assert refs(c, classification="secret") == ["SEC-0001"]
    assert refs(c, classification="confidential,restricted") == ["UK-FR-BASING"]
    assert refs(c, category="basing,training") == ["UK-FR-BASING", "US-CO-DCA", "US-PH-TRG"]
    assert refs(c, signed_after="2009-10-30") == ["UK-FR-BASING", "US-CO-DCA", "US-PH-TRG"]
    assert refs(c, signed_before="2009-10-30") == ["SEC-0001", "US-CO-DCA"]
    assert refs(c, expires_after="2026-07-15") == ["UK-FR-BASING", "US-CO-DCA", "US-PH-TRG"]
    assert refs(c, expires_before="2026-07-15") == ["SEC-0001", "US-PH-TRG"]
    assert refs(c, expiring_within="30") == ["SEC-0001", "US-PH-TRG"]
    assert refs(c, review_due_within="16") == ["US-PH-TRG"]
    assert refs(c, review_due_within="15") == []
    assert refs(c, in_force_on="2010-01-01") == ["SEC-0001", "US-CO-DCA"]
    assert refs(c, q="supplemental") == ["US-CO-DCA"]


def test_filters_combine_with_and(world, analyst):
    c = client_for(analyst)
    assert refs(c, party="USA", type="dca", signed_after="2000-01-01") == ["US-CO-DCA"]
    assert refs(c, party="USA", category="training", in_force_on="2015-01-01") == ["US-CO-DCA"]
    assert refs(c, party="USA", category="basing") == []


def test_party_with_in_force_on_late_joiner_and_withdrawn(world, viewer, partners):
    c = client_for(viewer)
    public = world["public"]  # in force since 2015-06-01
    agreement_save(
        agreement=public,
        parties=[
            *(p.code for p in public.parties.all()),
            {"code": "JPN", "entered_into_force_on": D(2016, 1, 1)},
            {"code": "GBR", "withdrawn_on": D(2020, 5, 1)},
        ],
    )
    assert refs(c, party="PHL,JPN", in_force_on="2015-12-31") == []
    assert refs(c, party="PHL,JPN", in_force_on="2016-01-01") == ["US-PH-TRG"]
    assert refs(c, party="GBR", in_force_on="2020-04-30") == ["US-PH-TRG"]
    assert refs(c, party="GBR", in_force_on="2020-05-01") == []
    assert refs(c, party="PHL,JPN,GBR") == ["US-PH-TRG"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("type", "treaty"),
        ("status", "in_force,bogus"),
        ("classification", "cosmic"),
        ("category", "cooking"),
        ("party", "USA,QQQ"),
        ("party_any", "QQQ"),
        ("region", "Atlantis"),
        ("organization", "WARSAW"),
        ("signed_after", "2014-02-30"),
        ("signed_before", "soon"),
        ("expires_after", "20140101x"),
        ("expires_before", "2014/01/01"),
        ("expiring_within", "-5"),
        ("expiring_within", "100000"),
        ("review_due_within", "1.5"),
        ("in_force_on", "1999-99-99"),
        ("ordering", "parties"),
        ("page_size", "501"),
        ("page_size", "0"),
        ("page", "0"),
        ("page", "99"),
    ],
)
def test_bad_parameter_is_400_naming_it(world, analyst, param, value):
    for url in ["/api/v1/agreements/", "/api/v1/stats/", "/api/v1/agreements/export/"]:
        if param.startswith("page") and url != "/api/v1/agreements/":
            continue
        response = client_for(analyst).get(url, {param: value})
        assert response.status_code == 400, (url, param, value)
        assert param in response.json()


@pytest.mark.parametrize(
    ("url", "param", "value"),
    [
        ("/api/v1/deadlines/", "within", "-1"),
        ("/api/v1/deadlines/", "within", "36501"),
        ("/api/v1/provisions/", "category", "cooking"),
        ("/api/v1/provisions/", "agreement", "999999"),
        ("/api/v1/provisions/", "party", "QQQ"),
        ("/api/v1/organizations/", "kind", "club"),
        ("/api/v1/points-of-contact/", "role", "spy"),
    ],
)
def test_bad_parameter_on_other_lists(world, analyst, url, param, value):
    response = client_for(analyst).get(url, {param: value})
    assert response.status_code == 400
    assert param in response.json()


def test_hidden_agreement_is_not_a_provision_filter_choice(world, viewer):
    response = client_for(viewer).get("/api/v1/provisions/", {"agreement": world["secret"].pk})
    assert response.status_code == 400
    ok = client_for(viewer).get("/api/v1/provisions/", {"agreement": world["public"].pk})
    assert ok.json()["count"] == 1


def test_pagination_and_ordering(world, analyst):
    c = client_for(analyst)
    page = c.get("/api/v1/agreements/", {"page_size": 2, "ordering": "signed_on"}).json()
    assert page["count"] == 4
    assert [a["reference"] for a in page["results"]] == ["SEC-0001", "US-CO-DCA"]
    assert page["next"] is not None
    second = c.get("/api/v1/agreements/", {"page_size": 2, "page": 2, "ordering": "signed_on"})
    assert [a["reference"] for a in second.json()["results"]] == ["UK-FR-BASING", "US-PH-TRG"]
    assert second.json()["next"] is None
    desc = c.get("/api/v1/agreements/", {"ordering": "-title"}).json()["results"]
    assert [a["title"] for a in desc] == sorted((a["title"] for a in desc), reverse=True)


def test_provision_filters(world, analyst):
    c = client_for(analyst)
    body = c.get("/api/v1/provisions/", {"category": "training,basing"}).json()
    assert sorted(p["title"] for p in body["results"]) == [
        "Basing",
        "Combined training",
        "Riverine training annex",
    ]
    body = c.get("/api/v1/provisions/", {"party": "USA,PHL", "q": "zanzibar"}).json()
    assert [p["title"] for p in body["results"]] == ["Zanzibar signals annex"]


def test_search_through_the_url(world, analyst):
    # What q means (one document per reader, syntax, ranking): tests/test_search.py.
    c = client_for(analyst)
    assert refs(c, q="zanzibar") == ["US-PH-TRG"]
    assert refs(c, q="Accord Philippine") == ["US-PH-TRG"]  # title and summary
    assert refs(c, q="nothing-like-this") == []
    assert (
        ProvisionCategory.TRAINING
        in c.get("/api/v1/agreements/", {"q": "combined training"}).json()["results"][0][
            "provision_categories"
        ]
    )


def test_the_api_cleans_only_the_parameters_given(world, analyst):
    """The API's filter set builds the form fields of the parameters sent only (a filter not
    sent filters nothing); a page's keeps every field, as it shows the form. A bad value of
    one given is still a 400 naming it, and the answer is the same as with every field."""
    from django.http import QueryDict

    from agreements.filtersets import AgreementFilterSet
    from agreements.models import Agreement

    data = QueryDict("q=training&signed_after=2000-01-01")
    api = AgreementFilterSet(data, Agreement.objects.all(), given_only=True)
    page = AgreementFilterSet(data, Agreement.objects.all())
    assert set(api.form.fields) == {"q", "signed_after"}
    assert set(page.form.fields) == set(AgreementFilterSet.base_filters)
    assert api.is_valid() and page.is_valid()
    assert list(api.qs.values_list("pk", flat=True)) == list(page.qs.values_list("pk", flat=True))
    c = client_for(analyst)
    response = c.get("/api/v1/agreements/", {"signed_after": "soon", "q": "x"})
    assert response.status_code == 400 and "signed_after" in response.json()


def test_the_browsable_apis_filter_dialog_shows_every_filter(world, analyst):
    """The browsable API draws the filter dialog through the same backend: every field,
    whichever parameters were sent."""
    c = client_for(analyst)
    page = c.get("/api/v1/agreements/?q=training", HTTP_ACCEPT="text/html").content.decode()
    assert 'name="signed_after"' in page and 'name="party"' in page
