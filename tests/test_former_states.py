"""The former states in the reference data (partners/data/former_states.json): the days each
existed, its successors, how the API and the nation page show them, and the nations list's
member_of / member_on filter on the real membership dates. The seed is loaded once for the
module (``tests/module_data.py``)."""

import datetime
import json

import pycountry
import pytest
from django.core.management import call_command

from history.models import ChangeRecord
from partners.models import Nation
from partners.reference_data import FORMER_STATES_FILE
from partners.selectors import existence_error

from .api_helpers import client_for
from .module_data import module_transaction

SOVIET_REPUBLICS = {
    "ARM", "AZE", "BLR", "EST", "GEO", "KAZ", "KGZ", "LTU",
    "LVA", "MDA", "RUS", "TJK", "TKM", "UKR", "UZB",
}  # fmt: skip


@pytest.fixture(scope="module")
def seed_load(request, django_db_setup, django_db_blocker):
    with module_transaction(request, django_db_blocker):
        with django_db_blocker.unblock():
            call_command("seed_reference_data")
        yield


@pytest.fixture
def seeded(seed_load, db):
    return None


def codes(nations) -> set[str]:
    return {n.iso3 for n in nations}


def nation_codes(client, **params) -> set[str]:
    response = client.get("/api/v1/nations/", {"page_size": 500, **params})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["next"] is None
    return {n["iso3"] for n in body["results"]}


# The data file ------------------------------------------------------------------------------


def test_the_file_names_iso_former_states_with_dates_successors_and_sources():
    entries = json.loads(FORMER_STATES_FILE.read_text(encoding="utf-8"))
    historic = {c.alpha_3 for c in pycountry.historic_countries}
    known = historic | {c.alpha_3 for c in pycountry.countries}
    assert {"SUN", "YUG", "CSK", "DDR", "SCG", "YMD", "VDR"} <= {e["iso3"] for e in entries}
    for entry in entries:
        assert entry["iso3"] in historic
        start = datetime.date.fromisoformat(entry["valid_from"])
        end = datetime.date.fromisoformat(entry["valid_to"])
        assert start <= end
        assert entry["successors"] and set(entry["successors"]) <= known
        assert entry["sources"] and all(s.startswith("http") for s in entry["sources"])


# The seed ----------------------------------------------------------------------------------


def test_the_ussr_existed_until_1991_and_left_fifteen_successors(seeded):
    ussr = Nation.objects.get(iso3="SUN")
    assert (ussr.valid_from, ussr.valid_to) == (
        datetime.date(1922, 12, 30),
        datetime.date(1991, 12, 26),
    )
    assert codes(ussr.successors.all()) == SOVIET_REPUBLICS
    assert codes(Nation.objects.get(iso3="UKR").predecessors.all()) == {"SUN"}
    assert ussr.existed_on(datetime.date(1991, 12, 26))
    assert not ussr.existed_on(datetime.date(1991, 12, 27))
    assert existence_error(ussr, datetime.date(1992, 1, 1)) == (
        "USSR ceased to exist on 1991-12-26."
    )


def test_the_other_former_states_and_their_successors(seeded):
    def of(code):
        nation = Nation.objects.get(iso3=code)
        return (
            nation.valid_from.isoformat(),
            nation.valid_to.isoformat(),
            codes(nation.successors.all()),
        )

    assert of("CSK") == ("1918-10-28", "1992-12-31", {"CZE", "SVK"})
    assert of("DDR") == ("1949-10-07", "1990-10-03", {"DEU"})
    assert of("YUG") == ("1918-12-01", "1992-04-27", {"SVN", "HRV", "BIH", "MKD", "SCG"})
    assert of("SCG") == ("1992-04-27", "2006-06-03", {"SRB", "MNE"})
    assert of("YMD") == ("1967-11-30", "1990-05-22", {"YEM"})
    assert of("VDR") == ("1945-09-02", "1976-07-02", {"VNM"})
    # names that would otherwise read as the current states
    assert Nation.objects.get(iso3="YMD").name == "South Yemen"
    assert Nation.objects.get(iso3="VDR").name == "North Vietnam"
    # current states and the former states without an entry have no dates
    assert Nation.objects.get(iso3="RUS").valid_to is None
    assert Nation.objects.get(iso3="ZAR").valid_to is None


def test_the_seed_records_each_former_state_once_with_its_successors(seeded):
    ussr = Nation.objects.get(iso3="SUN")
    record = ChangeRecord.objects.about(ussr).get(changed_object_id=ussr.pk)
    assert record.action == "create" and record.source == "seed_reference_data"
    assert record.changes["valid_to"] == [None, "1991-12-26"]
    assert record.changes["successors"] == [None, sorted(SOVIET_REPUBLICS)]


def test_a_second_seed_changes_and_records_nothing(seeded):
    before = ChangeRecord.objects.count()
    call_command("seed_reference_data")
    assert ChangeRecord.objects.count() == before
    assert Nation.objects.get(iso3="SUN").successors.count() == 15


# The API ------------------------------------------------------------------------------------


def test_the_api_gives_the_days_and_both_directions_of_succession(seeded, viewer):
    client = client_for(viewer)
    ussr = client.get("/api/v1/nations/sun/").json()
    assert (ussr["valid_from"], ussr["valid_to"]) == ("1922-12-30", "1991-12-26")
    assert set(ussr["successors"]) == SOVIET_REPUBLICS and ussr["predecessors"] == []
    serbia = client.get("/api/v1/nations/SRB/").json()
    assert serbia["predecessors"] == ["SCG"] and serbia["valid_to"] is None
    listed = client.get("/api/v1/nations/", {"q": "SCG"}).json()["results"]
    assert [(n["iso3"], n["successors"], n["predecessors"]) for n in listed] == [
        ("SCG", ["MNE", "SRB"], ["YUG"])  # by name: Montenegro, Serbia
    ]


# member_of / member_on on the real NATO and EU dates ---------------------------------------


def test_member_on_a_day_follows_the_joining_and_leaving_dates(seeded, viewer):
    client = client_for(viewer)
    assert "SWE" not in nation_codes(client, member_of="NATO", member_on="2020-01-01")
    assert "SWE" in nation_codes(client, member_of="NATO", member_on="2024-06-01")
    assert "SWE" in nation_codes(client, member_of="nato", member_on="2024-03-07")  # that day
    assert "SWE" not in nation_codes(client, member_of="NATO", member_on="2024-03-06")
    assert len(nation_codes(client, member_of="NATO", member_on="2024-06-01")) == 32
    assert nation_codes(client, member_of="NATO", member_on="1950-01-01") >= {"USA", "GBR"}
    assert "DEU" not in nation_codes(client, member_of="NATO", member_on="1950-01-01")
    # the United Kingdom left the EU on 31 January 2020: that day it is no longer a member
    assert "GBR" in nation_codes(client, member_of="EU", member_on="2020-01-30")
    assert "GBR" not in nation_codes(client, member_of="EU", member_on="2020-01-31")


def test_member_of_alone_is_any_membership_at_any_time_and_a_list_is_any_of(seeded, viewer):
    client = client_for(viewer)
    assert "GBR" in nation_codes(client, member_of="EU")  # a former member
    nato_2020 = nation_codes(client, member_of="NATO", member_on="2020-01-01")
    either = nation_codes(client, member_of="NATO,EU", member_on="2020-01-01")
    assert "SWE" in either and nato_2020 < either
    assert nation_codes(client, member_of="NATO", region="Americas") == {"USA", "CAN"}


def test_the_nation_pages_link_predecessors_and_successors(seeded, client, viewer):
    client.force_login(viewer)
    html = client.get("/nations/SUN/").content.decode()
    assert "Existed: 30 Dec 1922 – 26 Dec 1991" in html
    succession = html.split("Succeeded by:")[1].split("</p>")[0]
    for code in SOVIET_REPUBLICS:
        assert f'href="/nations/{code}/"' in succession
    html = client.get("/nations/RUS/").content.decode()
    assert "Existed:" not in html and "Succeeded by:" not in html
    assert 'Successor of: <a href="/nations/SUN/">USSR</a>' in html
    html = client.get("/nations/SCG/").content.decode()
    assert 'Successor of: <a href="/nations/YUG/">Yugoslavia</a>' in html
    assert 'href="/nations/SRB/">Serbia</a>' in html.split("Succeeded by:")[1]
