"""import_atop: the ATOP alliance-level and member-level files, the COW -> ISO crosswalk with
its date rules, errors by line with nothing written, and a second run that changes nothing."""

import datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agreements.atop import (
    ALLIANCE_FILE,
    AtopFailed,
    UnknownCowCode,
    agreement_data,
    alliance_parties,
    atop_date,
    code_spans,
    cow_name,
    import_atop,
    iso3_for,
    read_files,
)
from agreements.models import Agreement, PartyPeriod
from history.models import ChangeRecord

from .factories import NationFactory

DATA = Path(__file__).parent / "data" / "atop"
ALLIANCES, MEMBERS = DATA / "alliances.csv", DATA / "members.csv"
D = datetime.date
TODAY = D(2026, 6, 15)

ALLIANCE_HEADER = (
    "atopid,cowid,begyr,begmo,begday,endyr,endmo,endday,defense,offense,neutral,nonagg,consul"
)
MEMBER_HEADER = "atopid,member,yrent,moent,dayent,yrexit,moexit,dayexit,phase"


# The crosswalk ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cow, day, iso3",
    [
        (2, D(1950, 1, 1), "USA"),
        (200, D(1950, 1, 1), "GBR"),
        (255, D(1900, 1, 1), "DEU"),  # Germany (COW treats unified Germany as 255 again)
        (255, D(1995, 1, 1), "DEU"),
        (260, D(1960, 1, 1), "DEU"),  # German Federal Republic
        (265, D(1960, 1, 1), "DDR"),
        (315, D(1960, 1, 1), "CSK"),
        (316, D(1995, 1, 1), "CZE"),
        (680, D(1970, 1, 1), "YMD"),
        (365, D(1900, 1, 1), "RUS"),
        (365, D(1922, 12, 29), "RUS"),
        (365, D(1922, 12, 30), "SUN"),
        (365, D(1991, 12, 25), "SUN"),
        (365, D(1991, 12, 26), "RUS"),
        (345, D(1912, 1, 1), "SRB"),
        (345, D(1918, 12, 1), "YUG"),
        (345, D(1992, 4, 26), "YUG"),
        (345, D(1992, 4, 27), "SCG"),
        (345, D(2006, 6, 4), "SCG"),
        (345, D(2006, 6, 5), "SRB"),
    ],
)
def test_crosswalk(cow, day, iso3):
    assert iso3_for(cow, day) == iso3


def test_a_cow_state_without_an_iso_code_and_an_unknown_code():
    assert iso3_for(300, D(1900, 1, 1)) is None
    assert cow_name(300) == "Austria-Hungary"
    with pytest.raises(UnknownCowCode):
        iso3_for(999, D(1900, 1, 1))


def test_a_membership_across_a_change_of_state_is_cut_where_it_changes():
    assert code_spans(365, D(1955, 5, 14), None) == [
        ("SUN", D(1955, 5, 14)),
        ("RUS", D(1991, 12, 26)),
    ]
    assert code_spans(365, D(1955, 5, 14), D(1991, 7, 1)) == [("SUN", D(1955, 5, 14))]
    assert code_spans(345, D(1950, 1, 1), D(2010, 1, 1)) == [
        ("YUG", D(1950, 1, 1)),
        ("SCG", D(1992, 4, 27)),
        ("SRB", D(2006, 6, 5)),
    ]
    assert code_spans(2, D(1950, 1, 1), None) == [("USA", D(1950, 1, 1))]


# Dates ------------------------------------------------------------------------------------


def date_of(year, month, day, *, latest):
    return atop_date({"y": year, "m": month, "d": day}, "y", "m", "d", latest=latest)


@pytest.mark.parametrize(
    "year, month, day, earliest, latest",
    [
        ("1950", "4", "12", D(1950, 4, 12), D(1950, 4, 12)),
        ("1950", "4", "0", D(1950, 4, 1), D(1950, 4, 30)),
        ("1950", "4", "", D(1950, 4, 1), D(1950, 4, 30)),
        ("1952", "2", "-9", D(1952, 2, 1), D(1952, 2, 29)),
        ("1950", "0", "0", D(1950, 1, 1), D(1950, 12, 31)),
        ("1950", "", "17", D(1950, 1, 1), D(1950, 12, 31)),
        ("1950.0", "4.0", "12", D(1950, 4, 12), D(1950, 4, 12)),
        ("0", "0", "0", None, None),
        ("", "", "", None, None),
        ("NA", ".", "", None, None),
    ],
)
def test_unknown_days_and_months(year, month, day, earliest, latest):
    assert date_of(year, month, day, latest=False) == earliest
    assert date_of(year, month, day, latest=True) == latest


@pytest.mark.parametrize(
    "year, month, day, message",
    [
        ("abc", "1", "1", "y is not a number ('abc')"),
        ("1950", "13", "1", "m is not a month (13)"),
        ("1950", "2", "30", "d is not a day of 1950-02 (30)"),
        ("1950.5", "1", "1", "y is not a whole number ('1950.5')"),
    ],
)
def test_bad_dates(year, month, day, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        date_of(year, month, day, latest=False)


# From the files to the agreements' data -------------------------------------------------------


def built():
    alliances, members, errors = read_files(ALLIANCES, MEMBERS)
    assert errors == []
    out = {}
    for atopid, alliance in alliances.items():
        omitted = {}
        parties = alliance_parties(alliance, members[atopid], omitted)
        out[atopid] = (alliance, parties, omitted)
    return out


def acts_of(parties):
    return {p.code: [(a["kind"], a["date"]) for a in p.acts] for p in parties}


def test_members_become_parties_with_acts():
    alliances = built()
    _, parties, omitted = alliances[9001]
    assert omitted == {}
    assert acts_of(parties) == {
        # two phases that follow each other are one membership
        "USA": [("entry_into_force", "1950-04-01")],
        # left and came back
        "GBR": [
            ("entry_into_force", "1950-04-01"),
            ("withdrawal", "1970-03-01"),
            ("entry_into_force", "1975-01-01"),
        ],
        # left in 1966, month unknown: the last day of the year
        "FRA": [("entry_into_force", "1950-04-01"), ("withdrawal", "1966-12-31")],
    }
    assert parties[0].lines == [2, 3]
    assert all(a["note"] and a["effective_on"] is None for p in parties for a in p.acts)


def test_codes_that_change_state_become_successor_parties():
    _, parties, _ = built()[9002]
    assert acts_of(parties) == {
        "SUN": [("entry_into_force", "1955-05-14")],
        "RUS": [("succession", "1991-12-26")],
        "YUG": [("entry_into_force", "1955-05-14")],
        "SCG": [("succession", "1992-04-27")],
        "SRB": [("succession", "2006-06-05")],
    }
    _, parties, _ = built()[9003]
    # West Germany (260) until 1990-10-02, Germany (255) from the next day: one membership
    assert acts_of(parties) == {
        "DEU": [("entry_into_force", "1955-05-05")],
        "FRA": [("entry_into_force", "1955-05-05")],
    }


def test_members_without_an_iso_code_are_left_out_and_named():
    alliance, parties, omitted = built()[9004]
    assert [p.code for p in parties] == ["DEU", "ITA"]
    assert omitted == {300: "Austria-Hungary"}
    # members leaving when the alliance ends have no withdrawal of their own
    assert acts_of(parties)["DEU"] == [("entry_into_force", "1900-01-01")]
    data = agreement_data(alliance, parties, omitted, TODAY)
    assert "300 (Austria-Hungary)" in data["summary"]
    assert "COW alliance 77" in data["summary"]
    _, parties, omitted = built()[9005]
    assert [p.code for p in parties] == ["USA"]  # fewer than two: left out on import


def test_agreement_data():
    alliance, parties, omitted = built()[9001]
    data = agreement_data(alliance, parties, omitted, TODAY)
    assert data["reference"] == "ATOP-9001"
    assert data["title"] == "ATOP alliance 9001"
    assert (data["type"], data["status"]) == ("alliance", "in_force")
    assert data["signed_on"] == data["entered_into_force_on"] == D(1950, 4, 1)
    assert data["terminated_on"] is None
    assert data["provisions"] == [
        {
            "category": "mutual_defense",
            "title": "Mutual defense",
            "text": "Held by (ATOP member-level): USA, GBR.",
        },
        {"category": "consultation", "title": "Consultation", "text": ""},
    ]
    assert data["parties"][1] == {"code": "GBR", "acts": parties[1].acts}
    alliance, parties, omitted = built()[9004]
    data = agreement_data(alliance, parties, omitted, TODAY)
    assert data["status"] == "terminated"
    assert (data["signed_on"], data["terminated_on"]) == (D(1900, 1, 1), D(1910, 6, 30))
    assert data["provisions"] == [{"category": "other", "title": "Offense", "text": ""}]


# Bad files -------------------------------------------------------------------------------


def write(tmp_path, name, header, *rows):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_reported_by_line_and_nothing_is_written(db, tmp_path, capsys):
    alliances = write(
        tmp_path,
        "a.csv",
        ALLIANCE_HEADER,
        "1,,1950,1,1,,,,1,0,0,0,0",
        "2,,abc,1,1,,,,1,0,0,0,0",
        "3,,1950,13,1,,,,1,0,0,0,0",
        "4,,1950,1,1,1940,1,1,1,0,0,0,0",
        "5,,1950,1,1,,,,2,0,0,0,0",
        "1,,1951,1,1,,,,1,0,0,0,0",
    )
    members = write(
        tmp_path,
        "m.csv",
        MEMBER_HEADER,
        "1,2,1950,1,1,0,0,0,1",
        "1,999,1950,1,1,0,0,0,1",
        "7,2,1950,1,1,0,0,0,1",
        "1,200,1950,1,1,1949,1,1,1",
    )
    with pytest.raises(CommandError, match="8 problem"):
        call_command("import_atop", str(alliances), str(members), "--no-progress")
    assert capsys.readouterr().err.splitlines() == [
        "alliance file line 3: begyr is not a number ('abc')",
        "alliance file line 4: begmo is not a month (13)",
        "alliance file line 5: the end (1940-01-01) is before the beginning (1950-01-01)",
        "alliance file line 6: defense must be 0 or 1 (2)",
        "alliance file line 7: atopid 1 already appears on line 2",
        "member file line 3: member 999 is not a Correlates of War state code",
        "member file line 5: the exit (1949-01-01) is before the entry (1950-01-01)",
        "member file line 4: atopid 7 is not in the alliance file",
    ]
    assert Agreement.objects.count() == 0


def test_a_missing_column_is_an_error_on_line_one(db, tmp_path):
    alliances = write(tmp_path, "a.csv", "atopid,begyr,defense", "1,1950,1")
    members = write(tmp_path, "m.csv", MEMBER_HEADER, "1,2,1950,1,1,0,0,0,1")
    with pytest.raises(AtopFailed) as failure:
        import_atop(alliances, members)
    assert failure.value.errors == [
        f"{ALLIANCE_FILE} line 1: missing column(s) offense, neutral, nonagg, consul"
    ]


def test_an_alliance_without_members_and_a_file_that_is_not_utf8(db, tmp_path):
    alliances = write(tmp_path, "a.csv", ALLIANCE_HEADER, "1,,1950,1,1,,,,1,0,0,0,0")
    members = write(tmp_path, "m.csv", MEMBER_HEADER)
    with pytest.raises(AtopFailed) as failure:
        import_atop(alliances, members)
    assert failure.value.errors == [
        "alliance file line 2: atopid 1 has no members in the member file"
    ]
    members.write_bytes(MEMBER_HEADER.encode() + b"\n1,2,1950,1,1,0,0,0,\xe9\n")
    with pytest.raises(AtopFailed) as failure:
        import_atop(alliances, members)
    assert failure.value.errors == [
        "member file line 2: not valid UTF-8 (byte 0xe9 at column 20); save the file as UTF-8"
    ]


# Through agreement_save ----------------------------------------------------------------------

NATIONS = ["USA", "GBR", "FRA", "SUN", "RUS", "YUG", "SCG", "SRB", "DEU", "ITA"]


@pytest.fixture
def atop_nations(db):
    return {code: NationFactory(iso3=code, name=f"Nation {code}") for code in NATIONS}


def run(*options, alliances=ALLIANCES, members=MEMBERS):
    call_command("import_atop", str(alliances), str(members), "--no-progress", *options)


def snapshot():
    return sorted(Agreement.objects.values_list("reference", "version", "status", "summary"))


def test_import_creates_the_alliances_and_a_second_run_changes_nothing(
    atop_nations, frozen_today, capsys
):
    run()
    out = capsys.readouterr().out
    assert "4 created, 0 skipped" in out
    assert "1 left out" in out
    assert "300 (Austria-Hungary)" in out
    assert sorted(Agreement.objects.values_list("reference", flat=True)) == [
        "ATOP-9001",
        "ATOP-9002",
        "ATOP-9003",
        "ATOP-9004",
    ]
    first = Agreement.objects.get(reference="ATOP-9001")
    assert (first.type, first.status, first.signed_on) == ("alliance", "in_force", D(1950, 4, 1))
    assert [p.code for p in first.parties.all()] == ["USA", "GBR", "FRA"]
    assert sorted(first.provisions.values_list("category", flat=True)) == [
        "consultation",
        "mutual_defense",
    ]
    gbr = first.parties.get(nation__iso3="GBR")
    assert [(a.kind, a.date) for a in gbr.acts.order_by("date")] == [
        ("entry_into_force", D(1950, 4, 1)),
        ("withdrawal", D(1970, 3, 1)),
        ("entry_into_force", D(1975, 1, 1)),
    ]
    france = first.parties.get(nation__iso3="FRA")
    assert list(
        PartyPeriod.objects.filter(party=france).values_list("status", "starts_on", "ends_on")
    ) == [("bound", D(1950, 4, 1), D(1966, 12, 31)), ("withdrawn", D(1966, 12, 31), None)]
    soviet = Agreement.objects.get(reference="ATOP-9002")
    assert sorted(p.code for p in soviet.parties.all()) == ["RUS", "SCG", "SRB", "SUN", "YUG"]
    russia = soviet.parties.get(nation__iso3="RUS")
    assert [(a.kind, a.date) for a in russia.acts.all()] == [("succession", D(1991, 12, 26))]
    assert russia.periods.get().status == "bound"
    ended = Agreement.objects.get(reference="ATOP-9004")
    assert (ended.status, ended.terminated_on) == ("terminated", D(1910, 6, 30))

    before, history = snapshot(), ChangeRecord.objects.count()
    run()
    assert "0 created, 4 skipped" in capsys.readouterr().out
    run("--update")
    assert "0 created, 0 updated, 4 unchanged" in capsys.readouterr().out
    assert snapshot() == before
    assert ChangeRecord.objects.count() == history


def test_update_overwrites_a_changed_alliance(atop_nations, frozen_today, tmp_path, capsys):
    run()
    changed = tmp_path / "alliances.csv"
    changed.write_text(ALLIANCES.read_text().replace("9002,,1955,5,14,", "9002,,1955,5,15,"))
    members = tmp_path / "members.csv"
    members.write_text(MEMBERS.read_text().replace("1955,5,14", "1955,5,15"))
    capsys.readouterr()
    run(alliances=changed, members=members)
    assert "0 created, 4 skipped" in capsys.readouterr().out
    assert Agreement.objects.get(reference="ATOP-9002").signed_on == D(1955, 5, 14)
    run("--update", alliances=changed, members=members)
    assert "1 updated, 3 unchanged" in capsys.readouterr().out
    assert Agreement.objects.get(reference="ATOP-9002").signed_on == D(1955, 5, 15)


def test_a_refused_alliance_is_reported_on_its_member_line_and_nothing_is_written(
    atop_nations, frozen_today, capsys
):
    atop_nations["ITA"].delete()
    with pytest.raises(CommandError, match="1 problem"):
        run()
    assert capsys.readouterr().err.splitlines() == [
        "member file line 14 (atopid 9004, ITA): parties[1].code: "
        "No nation or organization has the code 'ITA'."
    ]
    assert Agreement.objects.count() == 0


def test_the_progress_bar(atop_nations, frozen_today, capsys):
    call_command("import_atop", str(ALLIANCES), str(MEMBERS))
    assert "5/5" in capsys.readouterr().err
