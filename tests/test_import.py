"""import_agreements: CSV and JSON Lines, all or nothing, errors by line, idempotent."""

import json

import pytest
from django.core.management import CommandError, call_command

from agreements.models import Agreement, AgreementParty, Provision
from history.models import ChangeRecord


def jsonl(tmp_path, rows, name="agreements.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


GOOD = {
    "reference": "US-PH-2014-EDCA",
    "title": "Enhanced Defense Cooperation Agreement",
    "type": "dca",
    "status": "in_force",
    "signed_on": "2014-04-28",
    "entered_into_force_on": "2014-06-25",
    "source_url": "https://example.org/edca",
    "parties": [{"code": "PHL"}, {"code": "USA", "signed_on": "2014-04-28"}],
    "provisions": [
        {"category": "training", "title": "Training", "article": "Art. I"},
        {"category": "logistics", "title": "Prepositioning", "article": "Art. IV"},
    ],
}
LATER = {
    "reference": "US-PH-2016-AL",
    "title": "Agreed locations",
    "type": "implementing_arrangement",
    "status": "in_force",
    "signed_on": "2016-03-18",
    "entered_into_force_on": "2016-03-18",
    "parent": "US-PH-2014-EDCA",
    "parties": [{"code": "PHL"}, {"code": "USA"}],
}


def run(path, *options):
    call_command("import_agreements", str(path), "--no-progress", *options)


def snapshot():
    return sorted(Agreement.objects.values_list("reference", "version", "title"))


def test_jsonl_loads_and_second_load_changes_nothing(partners, tmp_path, capsys):
    path = jsonl(tmp_path, [GOOD, LATER])
    run(path)
    assert "2 created" in capsys.readouterr().out
    child = Agreement.objects.get(reference="US-PH-2016-AL")
    assert child.parent.reference == "US-PH-2014-EDCA"
    assert Provision.objects.count() == 2
    before, history = snapshot(), ChangeRecord.objects.count()
    run(path)
    assert "0 created, 2 skipped" in capsys.readouterr().out
    run(path, "--update")
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert snapshot() == before
    assert ChangeRecord.objects.count() == history


WITH_ACTS_AND_EVENTS = {
    "reference": "TEST-2000-MULTI",
    "title": "A multilateral agreement with dated acts and a suspension",
    "type": "alliance",
    "status": "suspended",
    "signed_on": "2000-01-10",
    "entered_into_force_on": "2000-06-01",
    "parties": [
        {
            "code": code,
            "acts": [
                {
                    "kind": "signature",
                    "date": "2000-01-10",
                    "effective_on": None,
                    "note": "",
                    "source_url": "https://example.org/status",
                }
            ],
        }
        for code in ("PHL", "USA", "JPN")
    ],
    "events": [{"kind": "suspended", "date": "2014-04-01", "note": "Cooperation suspended."}],
}


def test_a_row_with_party_acts_and_events_imports_again_unchanged(partners, tmp_path, capsys):
    path = jsonl(tmp_path, [WITH_ACTS_AND_EVENTS])
    run(path)
    agreement = Agreement.objects.get()
    event_ids = list(agreement.events.values_list("id", flat=True))
    assert len(event_ids) == 1
    before, history = snapshot(), ChangeRecord.objects.count()
    capsys.readouterr()
    run(path, "--update")
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out
    assert snapshot() == before
    assert list(agreement.events.values_list("id", flat=True)) == event_ids
    assert ChangeRecord.objects.count() == history


def test_changed_row_updates_in_place_with_update(partners, tmp_path, capsys):
    run(jsonl(tmp_path, [GOOD]))
    changed = dict(GOOD, title="Enhanced Defense Cooperation Agreement (amended)")
    run(jsonl(tmp_path, [changed], "again.jsonl"), "--update")
    assert "1 updated" in capsys.readouterr().out
    agreement = Agreement.objects.get()
    assert agreement.title.endswith("(amended)")
    assert agreement.version == 2


def test_without_update_existing_agreements_are_skipped_and_left_alone(partners, tmp_path, capsys):
    run(jsonl(tmp_path, [GOOD]))
    capsys.readouterr()
    before = snapshot()
    history = ChangeRecord.objects.about(Agreement.objects.get()).count()
    changed = dict(GOOD, title="Overwritten?", provisions=[])
    run(jsonl(tmp_path, [changed, LATER], "again.jsonl"))
    out = capsys.readouterr().out
    assert "again.jsonl: 1 created, 1 skipped (already in the registry" in out
    assert "--update overwrites them" in out
    edca = Agreement.objects.get(reference=GOOD["reference"])
    assert (edca.title, edca.version, edca.provisions.count()) == (GOOD["title"], 1, 2)
    assert snapshot() == sorted(before + [("US-PH-2016-AL", 1, "Agreed locations")])
    assert ChangeRecord.objects.about(edca).count() == history


def test_bad_rows_are_reported_by_line_and_nothing_is_written(partners, tmp_path, capsys):
    rows = [
        GOOD,
        dict(GOOD, reference="BAD-DATE", signed_on="2014-13-45"),
        "{not json",
        dict(GOOD, reference="BAD-PARTY", parties=[{"code": "USA"}, {"code": "XYZ"}]),
        dict(GOOD, reference="BAD-ORDER", entered_into_force_on="2010-01-01"),
        dict(GOOD, reference="BAD-TYPE", type="friendship"),
        GOOD,
    ]
    with pytest.raises(CommandError) as caught:
        run(jsonl(tmp_path, rows))
    assert "6 bad row(s)" in str(caught.value)
    err = capsys.readouterr().err
    assert "line 2: signed_on:" in err
    assert "line 3: not valid JSON" in err
    assert "line 4: parties[1].code: No nation or organization has the code 'XYZ'" in err
    assert "line 5: entered_into_force_on: Cannot be before" in err
    assert "line 6: type:" in err and "friendship" in err
    assert "line 7: reference: 'US-PH-2014-EDCA' already appears on line 1" in err
    assert "line 1:" not in err
    assert Agreement.objects.count() == 0
    assert AgreementParty.objects.count() == 0
    assert ChangeRecord.objects.count() == 0


def test_csv_loads_with_codes_and_categories(partners, tmp_path, capsys):
    path = tmp_path / "agreements.csv"
    path.write_text(
        "reference,title,type,status,signed_on,entered_into_force_on,parties,provision_categories\n"
        "NATO-X,Test arrangement,mou,in_force,2019-01-01,2019-02-01,NATO;USA,training;logistics\n"
        'FR-GB,"Lancaster House, defence",alliance,signed,2010-11-02,,FRA;GBR,mutual_defense\n'
    )
    run(path)
    assert "2 created" in capsys.readouterr().out
    nato = Agreement.objects.get(reference="NATO-X")
    assert sorted(p.code for p in nato.parties.all()) == ["NATO", "USA"]
    assert sorted(nato.provisions.values_list("category", flat=True)) == ["logistics", "training"]
    run(path)
    assert "2 skipped" in capsys.readouterr().out
    run(path, "--update")
    assert "2 unchanged" in capsys.readouterr().out


def test_csv_errors_name_line_and_column(partners, tmp_path, capsys):
    path = tmp_path / "agreements.csv"
    path.write_text(
        "reference,title,type,status,signed_on,parties,provision_categories\n"
        "A-1,Good,mou,signed,2019-01-01,USA;PHL,training\n"
        "A-2,Bad,mou,signed,01/02/2019,USA;PHL,training\n"
        "A-3,Bad category,mou,signed,2019-01-01,USA;PHL,hugs\n"
        "A-4,One party,mou,signed,2019-01-01,USA,\n"
    )
    with pytest.raises(CommandError):
        run(path)
    err = capsys.readouterr().err
    assert "line 3: signed_on:" in err
    assert "line 4: provisions[0].category:" in err
    assert "line 5: parties: An agreement that is signed needs at least two parties." in err
    assert Agreement.objects.count() == 0


def test_missing_file_and_wrong_suffix_are_clear(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.jsonl")
    other = tmp_path / "agreements.xml"
    other.write_text("<x/>")
    with pytest.raises(CommandError, match=r"\.csv or \.jsonl"):
        run(other)
