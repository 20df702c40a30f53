"""import_engagements: JSON Lines in the API's create shape, all or nothing, errors by line,
a progress bar, and a second run that changes nothing (rows match on title + starts_on)."""

import json

import pytest
from django.core.management import CommandError, call_command

from accounts.choices import Classification
from engagements.importers import check_row_shape
from engagements.models import Engagement, Participation
from engagements.services import MAX_PARTICIPANTS
from history.models import ChangeRecord

from .factories import AgreementFactory, ProvisionFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD = {
    "title": "Balikatan 2024",
    "kind": "exercise",
    "status": "completed",
    "starts_on": "2024-04-22",
    "ends_on": "2024-05-10",
    "location": "Luzon",
    "location_nation": "PHL",
    "domain": "joint",
    "summary": "Annual combined exercise.",
    "source_url": "https://example.org/balikatan-2024",
    "participants": [{"code": "PHL", "role": "host"}, {"code": "USA", "role": "lead"}],
    "agreements": ["US-PH-2014-EDCA"],
    "provisions": [{"agreement": "US-PH-2014-EDCA", "category": "training"}],
}
TALKS = {
    "title": "Staff talks",
    "kind": "staff_talks",
    "status": "planned",
    "starts_on": "2026-09-01",
    "participants": ["PHL", "USA"],
}


@pytest.fixture
def edca(partners):
    agreement = AgreementFactory(
        reference="US-PH-2014-EDCA", parties=[partners["USA"], partners["PHL"]]
    )
    ProvisionFactory(agreement=agreement, category="training", article="Art. I")
    ProvisionFactory(agreement=agreement, category="logistics", article="Art. IV")
    ProvisionFactory(agreement=agreement, category="logistics", article="Art. V")
    return agreement


def jsonl(tmp_path, rows, name="engagements.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def run(path, *options):
    call_command("import_engagements", str(path), "--no-progress", *options)


def snapshot():
    return sorted(Engagement.objects.values_list("title", "starts_on", "version", "summary"))


def test_loads_through_the_service_and_a_second_run_changes_nothing(edca, tmp_path, capsys):
    path = jsonl(tmp_path, [GOOD, TALKS])
    run(path)
    assert "engagements.jsonl: 2 created, 0 skipped" in capsys.readouterr().out
    balikatan = Engagement.objects.get(title="Balikatan 2024")
    assert balikatan.location_nation.iso3 == "PHL"
    assert [a.reference for a in balikatan.agreements.all()] == ["US-PH-2014-EDCA"]
    assert [(p.category, p.article) for p in balikatan.provisions.all()] == [("training", "Art. I")]
    assert sorted(balikatan.participants.values_list("nation__iso3", "role")) == [
        ("PHL", "host"),
        ("USA", "lead"),
    ]
    record = ChangeRecord.objects.filter(action="create").first()
    assert record.source == "import_engagements" and record.actor is None
    before, history = snapshot(), ChangeRecord.objects.count()
    run(path)
    assert "0 created, 2 skipped" in capsys.readouterr().out
    assert snapshot() == before and ChangeRecord.objects.count() == history
    run(path, "--update")
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert snapshot() == before and ChangeRecord.objects.count() == history


def test_existing_engagements_are_skipped_unless_update(edca, tmp_path, capsys):
    run(jsonl(tmp_path, [GOOD]))
    changed = dict(GOOD, summary="Rewritten.")
    run(jsonl(tmp_path, [changed]))
    assert Engagement.objects.get().summary == "Annual combined exercise."
    run(jsonl(tmp_path, [changed]), "--update")
    assert "0 created, 1 updated, 0 unchanged" in capsys.readouterr().out.splitlines()[-1]
    engagement = Engagement.objects.get()
    assert (engagement.summary, engagement.version) == ("Rewritten.", 2)
    # Another first day is another engagement (the natural key is title + starts_on).
    run(jsonl(tmp_path, [dict(GOOD, starts_on="2024-04-21")]))
    assert Engagement.objects.count() == 2


def test_ids_of_the_api_shape_are_accepted(edca, tmp_path):
    provision = edca.provisions.get(category="training")
    run(jsonl(tmp_path, [dict(GOOD, agreements=[edca.pk], provisions=[provision.pk])]))
    engagement = Engagement.objects.get()
    assert list(engagement.provisions.all()) == [provision]


def test_coordinates_may_be_json_numbers_as_the_api_takes_them(edca, tmp_path):
    run(jsonl(tmp_path, [dict(GOOD, latitude=15.4, longitude=120, domain="land")]))
    engagement = Engagement.objects.get()
    assert (float(engagement.latitude), float(engagement.longitude)) == (15.4, 120.0)
    assert check_row_shape(dict(GOOD, latitude=True)) == ["latitude: must be a number, not true"]


def test_bad_lines_are_each_reported_and_nothing_is_written(edca, tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    lines = [
        json.dumps(GOOD),
        json.dumps(dict(GOOD, title="Bad dates", ends_on="2024-04-01")),
        "{not json",
        json.dumps(dict(GOOD, title="Bad partner", participants=["PHL", "XYZ"])),
        json.dumps(dict(GOOD, title="Bad kind", kind="party")),
        json.dumps(dict(GOOD, title="Bad link", agreements=["NO-SUCH-REF"], provisions=[])),
        json.dumps(
            dict(
                GOOD,
                title="Ambiguous provision",
                provisions=[{"agreement": "US-PH-2014-EDCA", "category": "logistics"}],
            )
        ),
        json.dumps(dict(GOOD, title="Wrong shape", participants="PHL", summary=["x"])),
        json.dumps([1, 2]),
        json.dumps(dict(GOOD, title="Unknown key", colour="green")),
        json.dumps(GOOD),  # the same title and first day as line 1
    ]
    raw = ("\n".join(lines) + "\n").encode() + b'{"title": "Caf\xe9"}\n'
    path.write_bytes(raw)
    with pytest.raises(CommandError) as caught:
        run(path)
    assert "11 bad row(s) in bad.jsonl; nothing was written" in str(caught.value)
    err = capsys.readouterr().err
    assert "bad.jsonl, line 1:" not in err
    assert "line 2: ends_on: Cannot be before the day the engagement starts." in err
    assert "line 3: not valid JSON" in err
    assert "line 4: participants[1].code: No nation or organization has the code 'XYZ'" in err
    assert "line 5: kind:" in err and "party" in err
    assert "line 6: agreements[0]: No agreement has the reference 'NO-SUCH-REF'." in err
    assert (
        "line 7: provisions[0]: US-PH-2014-EDCA has several provisions of the category "
        "'logistics': give the article." in err
    )
    assert (
        "line 8: summary: must be text, not a list; participants: must be a list, not text" in err
    )
    assert "line 9: each line must be a JSON object" in err
    assert "line 10: colour: unknown field" in err
    assert (
        "line 11: title and starts_on: 'Balikatan 2024' starting 2024-04-22 already appears on "
        "line 1." in err
    )
    assert "line 12: not valid UTF-8 (byte 0xe9" in err
    assert Engagement.objects.count() == Participation.objects.count() == 0
    assert ChangeRecord.objects.count() == 0


def test_the_article_picks_one_of_several_provisions(edca, tmp_path):
    row = dict(
        GOOD,
        provisions=[
            {"agreement": "US-PH-2014-EDCA", "category": "logistics", "article": "Art. V"},
        ],
    )
    run(jsonl(tmp_path, [row]))
    assert [p.article for p in Engagement.objects.get().provisions.all()] == ["Art. V"]


def test_rules_of_the_service_hold_in_the_import(edca, tmp_path, capsys):
    # A provision of an agreement that is not linked, and an uncleared watcher.
    other = AgreementFactory(reference="OTHER-1")
    ProvisionFactory(agreement=other, category="training")
    UserFactory(username="nobody", clearance=Classification.UNCLASSIFIED)
    rows = [
        dict(GOOD, provisions=[{"agreement": "OTHER-1", "category": "training"}]),
        dict(TALKS, classification="secret", watchers=["nobody"]),
    ]
    with pytest.raises(CommandError):
        run(jsonl(tmp_path, rows))
    err = capsys.readouterr().err
    assert "line 1: provisions: OTHER-1:" in err and "link that agreement too" in err
    assert "line 2: watchers: Not allowed to read this Secret engagement" in err
    assert not Engagement.objects.exists()


def test_progress_bar_and_file_errors(edca, tmp_path, capsys):
    call_command("import_engagements", str(jsonl(tmp_path, [GOOD, TALKS])))
    err = capsys.readouterr().err
    assert "engagements.jsonl" in err and "2/2" in err  # tqdm on stderr
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.jsonl")
    csv = tmp_path / "engagements.csv"
    csv.write_text("title\n")
    with pytest.raises(CommandError, match="must end in .jsonl"):
        run(csv)


@pytest.mark.parametrize(
    "row, problem",
    [
        ({"agreements": [{"id": 1}]}, "agreements[0]: must be an id or a reference, not an object"),
        ({"provisions": ["x"]}, "provisions[0]: must be an id or an object"),
        ({"provisions": [{"agreement": "A", "category": "x", "page": 3}]}, "provisions[0].page"),
        ({"contacts": ["1"]}, "contacts[0]: must be an id, not text"),
        ({"watchers": [None]}, "watchers[0]: must be text, not null"),
        ({"title": "a\x00b"}, "title: must not contain a NUL character"),
        ({"participants": [{"code": "PHL", "personnel": "many"}]}, None),  # left to the service
        ({"participants": [3]}, "participants[0]: must be an object with a code, or a code"),
        (
            {"participants": ["X"] * (MAX_PARTICIPANTS + 1)},
            f"participants: at most {MAX_PARTICIPANTS}",
        ),
    ],
)
def test_row_shapes(row, problem):
    problems = check_row_shape(row)
    if problem is None:
        assert problems == []
    else:
        assert any(p.startswith(problem) for p in problems), problems
