"""A nation's existence dates and successor states: validation (model, database, service),
the write path's history, whether a state existed on a day, the member_of / member_on
filter's edges, and query counts that do not grow with the rows."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from history.models import ChangeRecord
from partners.models import Nation
from partners.selectors import existence_error
from partners.services import nation_delete, nation_save, nation_upsert

from .api_helpers import client_for
from .factories import MembershipFactory, NationFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def nation_records(nation):
    return ChangeRecord.objects.filter(
        changed_object_type__model="nation", changed_object_id=nation.pk
    ).order_by("pk")


# Validation --------------------------------------------------------------------------------


def test_a_state_cannot_cease_before_it_began():
    nation = Nation(iso3="XAA", name="Nowhere", valid_from=D(1990, 1, 2), valid_to=D(1990, 1, 1))
    with pytest.raises(ValidationError) as caught:
        nation.full_clean()
    assert "valid_to" in caught.value.message_dict
    Nation(
        iso3="XAB", name="One day", valid_from=D(1990, 1, 1), valid_to=D(1990, 1, 1)
    ).full_clean()


def test_the_database_refuses_dates_out_of_order():
    nation = NationFactory(valid_from=D(1990, 1, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        Nation.objects.filter(pk=nation.pk).update(valid_to=D(1990, 1, 1))


def test_the_service_refuses_bad_dates_keyed_by_field_and_writes_nothing():
    with pytest.raises(ValidationError) as caught:
        nation_save(iso3="XAC", name="Backwards", valid_from="1990-05-01", valid_to="1989-01-01")
    assert list(caught.value.message_dict) == ["valid_to"]
    with pytest.raises(ValidationError) as caught:
        nation_save(iso3="XAC", name="Bad date", valid_to="1990-13-01")
    assert "valid_to" in caught.value.message_dict
    assert not Nation.objects.filter(iso3="XAC").exists()


# Successors through the service -------------------------------------------------------------


def test_successors_by_code_or_record_are_recorded_in_the_nation_history(editor):
    czechia, slovakia = NationFactory(iso3="CZE"), NationFactory(iso3="SVK")
    former = nation_save(
        iso3="CSK",
        name="Czechoslovakia",
        is_historical=True,
        valid_from="1918-10-28",
        valid_to="1992-12-31",
        successors=["cze", slovakia],
        actor=editor,
    )
    assert set(former.successors.all()) == {czechia, slovakia}
    assert list(czechia.predecessors.all()) == [former]
    created = nation_records(former).get()
    assert created.changes["successors"] == [None, ["CZE", "SVK"]]
    assert created.changes["valid_to"] == [None, "1992-12-31"]

    # the same again changes and records nothing
    _, outcome = nation_upsert(iso3="CSK", successors=["SVK", "CZE"], valid_to="1992-12-31")
    assert outcome == "unchanged" and nation_records(former).count() == 1

    # replacing them is one update record
    _, outcome = nation_upsert(iso3="CSK", successors=["CZE"])
    assert outcome == "updated"
    assert nation_records(former).last().changes == {"successors": [["CZE", "SVK"], ["CZE"]]}
    # None leaves them as they are
    nation_save(nation=former, official_name="Czechoslovak Socialist Republic")
    assert [n.iso3 for n in former.successors.all()] == ["CZE"]
    assert "successors" not in nation_records(former).last().changes


@pytest.mark.parametrize(
    ("successors", "message"),
    [
        (["QQQ"], "No nation has the code 'QQQ'"),
        (["XSS"], "cannot be its own successor"),
        ("CZE", "Expected a list"),
        ([42], "Expected a nation or its ISO alpha-3 code"),
    ],
)
def test_bad_successors_are_refused_keyed_by_field(successors, message):
    NationFactory(iso3="CZE")
    state = NationFactory(iso3="XSS")
    with pytest.raises(ValidationError) as caught:
        nation_save(nation=state, successors=successors)
    assert message in " ".join(caught.value.message_dict["successors"])
    assert not state.successors.exists()


def test_a_successor_cannot_be_deleted_while_its_predecessor_names_it():
    russia = NationFactory(iso3="RUS")
    ussr = nation_save(iso3="SUN", name="USSR", successors=["RUS"])
    with pytest.raises(ValidationError, match="successor of SUN"):
        nation_delete(nation=russia)
    nation_delete(nation=ussr)  # the predecessor goes, and its links with it
    assert not russia.predecessors.exists()
    deleted = ChangeRecord.objects.get(action="delete", changed_object_type__model="nation")
    assert deleted.changes["successors"] == [["RUS"], None]


# Whether a state existed on a day -----------------------------------------------------------


def test_existed_on_counts_both_ends_and_empty_dates_as_open():
    state = Nation(name="Republic", valid_from=D(1950, 1, 1), valid_to=D(1960, 6, 30))
    assert not state.existed_on(D(1949, 12, 31))
    assert state.existed_on(D(1950, 1, 1)) and state.existed_on(D(1960, 6, 30))
    assert not state.existed_on(D(1960, 7, 1))
    assert Nation(name="Always").existed_on(D(1066, 10, 14))
    assert Nation(name="Old", valid_to=D(1900, 1, 1)).existed_on(D(1066, 10, 14))
    assert not Nation(name="New", valid_from=D(2011, 7, 9)).existed_on(D(2011, 7, 8))


def test_existence_error_names_the_state_and_the_day():
    state = Nation(name="Republic", valid_from=D(1950, 1, 1), valid_to=D(1960, 6, 30))
    assert existence_error(state, D(1955, 1, 1)) is None
    assert existence_error(state, None) is None
    assert existence_error(state, D(1961, 1, 1)) == "Republic ceased to exist on 1960-06-30."
    assert existence_error(state, D(1949, 1, 1)) == "Republic came into being only on 1950-01-01."


# member_of / member_on ----------------------------------------------------------------------


def test_a_membership_without_a_joining_day_counts_since_ever(viewer):
    club = OrganizationFactory(acronym="CLUB")
    MembershipFactory(organization=club, nation=NationFactory(iso3="XOL"), joined_on=None)
    MembershipFactory(organization=club, nation=NationFactory(iso3="XLT"), joined_on=D(2000, 1, 1))
    MembershipFactory(
        organization=club,
        nation=NationFactory(iso3="XGN"),
        joined_on=None,
        left_on=D(1990, 1, 1),
    )
    NationFactory(iso3="XNO")
    client = client_for(viewer)

    def members(**params):
        response = client.get("/api/v1/nations/", params)
        assert response.status_code == 200
        return {n["iso3"] for n in response.json()["results"]}

    assert members(member_of="CLUB", member_on="1900-01-01") == {"XOL", "XGN"}
    assert members(member_of="club", member_on="2001-01-01") == {"XOL", "XLT"}
    assert members(member_of="CLUB") == {"XOL", "XLT", "XGN"}


def test_a_member_twice_is_listed_once(viewer):
    club = OrganizationFactory(acronym="CLUB")
    nation = NationFactory(iso3="XTW")
    MembershipFactory(
        organization=club, nation=nation, joined_on=D(1990, 1, 1), left_on=D(1995, 1, 1)
    )
    MembershipFactory(organization=club, nation=nation, joined_on=D(2000, 1, 1))
    body = client_for(viewer).get("/api/v1/nations/", {"member_of": "CLUB"}).json()
    assert [n["iso3"] for n in body["results"]] == ["XTW"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"member_on": "2020-01-01"}, "member_on"),
        ({"member_of": "NOPE"}, "member_of"),
        ({"member_of": "CLUB,NOPE", "member_on": "2020-01-01"}, "member_of"),
        ({"member_of": "CLUB", "member_on": "2020-02-30"}, "member_on"),
    ],
)
def test_bad_member_parameters_are_400_naming_them(viewer, params, named):
    OrganizationFactory(acronym="CLUB")
    response = client_for(viewer).get("/api/v1/nations/", params)
    assert response.status_code == 400
    assert list(response.json()) == [named]
    if named == "member_of":
        assert "NOPE" in response.json()[named][0]


# Query counts -------------------------------------------------------------------------------


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:300]
    return len(ctx)


def lineage(n, club):
    """``n`` former states, each with two successors (one in ``club`` since 2000)."""
    for _ in range(n):
        first, second = NationFactory(), NationFactory()
        MembershipFactory(organization=club, nation=first, joined_on=D(2000, 1, 1))
        state = NationFactory(valid_from=D(1900, 1, 1), valid_to=D(1990, 1, 1))
        nation_save(nation=state, successors=[first, second])


@pytest.mark.parametrize(
    "params", [{}, {"member_of": "CLUB"}, {"member_of": "CLUB", "member_on": "2010-01-01"}]
)
def test_nation_list_query_count_does_not_grow(viewer, params):
    client = client_for(viewer)
    club = OrganizationFactory(acronym="CLUB")
    lineage(1, club)
    small = count_queries(client, "/api/v1/nations/", {"page_size": 500, **params})
    lineage(99, club)
    large = count_queries(client, "/api/v1/nations/", {"page_size": 500, **params})
    assert small == large


def test_nation_page_and_detail_query_counts_do_not_grow_with_successors(client, viewer):
    state = NationFactory(iso3="XFS", valid_from=D(1900, 1, 1), valid_to=D(1990, 1, 1))
    successor = NationFactory(iso3="XSU")
    nation_save(nation=successor, successors=[])  # a recorded write, like the others
    nation_save(nation=state, successors=[NationFactory()])
    nation_save(nation=NationFactory(), successors=[successor])
    client.force_login(viewer)
    api = client_for(viewer)
    urls = ["/nations/XFS/", "/nations/XSU/"]
    small = [count_queries(client, url) for url in urls]
    small_api = count_queries(api, "/api/v1/nations/XFS/")
    nation_save(nation=state, successors=[NationFactory() for _ in range(30)])
    for _ in range(30):
        nation_save(nation=NationFactory(), successors=[successor])
    assert [count_queries(client, url) for url in urls] == small
    assert count_queries(api, "/api/v1/nations/XFS/") == small_api
    html = client.get("/nations/XFS/").content.decode()
    assert html.split("Succeeded by:")[1].split("</p>")[0].count("<a href=") == 30
    assert (
        client.get("/nations/XSU/")
        .content.decode()
        .split("Successor of:")[1]
        .split("</p>")[0]
        .count("<a href=")
        == 31
    )


# The admin ----------------------------------------------------------------------------------


def test_the_admin_sets_dates_and_successors_through_the_service(client, editor):
    from .formscrape import form_data

    czechia, slovakia = NationFactory(iso3="CZE"), NationFactory(iso3="SVK")
    former = NationFactory(iso3="CSK", name="Czechoslovakia")
    client.force_login(editor)
    url = f"/admin/partners/nation/{former.pk}/change/"
    data = form_data(client.get(url).content.decode(), "nation_form")
    data.update(valid_from="1993-01-01", valid_to="1992-12-31")
    data["successors"] = [str(czechia.pk), str(slovakia.pk)]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "valid_to" in response.context["adminform"].form.errors
    assert not former.successors.exists() and not ChangeRecord.objects.exists()

    data.update(valid_from="1918-10-28")
    assert client.post(url, data).status_code == 302
    assert set(former.successors.all()) == {czechia, slovakia}
    record = ChangeRecord.objects.get()
    assert (record.actor, record.source) == (editor, "admin")
    assert record.changes == {
        "valid_from": [None, "1918-10-28"],
        "valid_to": [None, "1992-12-31"],
        "successors": [[], ["CZE", "SVK"]],
    }
