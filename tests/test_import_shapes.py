"""import_agreements: every bad file is ``line N: what is wrong``, never a traceback, and
nothing is written. Values of the wrong JSON type are errors, never stored as text."""

import json

import pytest
from django.core.management import CommandError, call_command

from agreements.importers import check_row_shape
from agreements.limits import MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS
from agreements.models import Agreement

GOOD = {
    "reference": "US-PH-2014-EDCA",
    "title": "Enhanced Defense Cooperation Agreement",
    "type": "dca",
    "status": "in_force",
    "signed_on": "2014-04-28",
    "entered_into_force_on": "2014-06-25",
    "parties": [{"code": "PHL"}, {"code": "USA", "signed_on": "2014-04-28"}],
    "provisions": [{"category": "training", "title": "Training", "article": "Art. I"}],
}


def _fails_with(path, capsys, *expected):
    """The command fails with a CommandError (no traceback), naming each line, writing nothing."""
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_agreements", str(path), "--no-progress")
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, err
    assert Agreement.objects.count() == 0
    return err


def _jsonl(tmp_path, *rows, name="rows.jsonl"):
    path = tmp_path / name
    path.write_bytes(
        b"\n".join(r if isinstance(r, bytes) else json.dumps(r).encode() for r in rows) + b"\n"
    )
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"parties": "USA"}, "line 2: parties: must be a list, not text"),
        ({"parties": None}, "line 2: parties: must be a list, not null"),
        ({"parties": {"code": "USA"}}, "line 2: parties: must be a list, not an object"),
        ({"parties": [{"code": "USA"}, 7]}, "line 2: parties[1]: must be an object"),
        ({"parties": [{"code": ["USA"]}]}, "line 2: parties[0].code: must be text, not a list"),
        ({"provisions": [1, 2]}, "line 2: provisions[0]: must be an object, not a number"),
        ({"provisions": "training"}, "line 2: provisions: must be a list, not text"),
        (
            {"provisions": [{"category": "training", "title": {"a": 1}}]},
            "line 2: provisions[0].title: must be text, not an object",
        ),
        ({"title": {"a": 1}}, "line 2: title: must be text, not an object"),
        ({"title": ["x"]}, "line 2: title: must be text, not a list"),
        ({"signed_on": 2014}, "line 2: signed_on: must be text, not a number"),
        ({"auto_renews": {"yes": 1}}, "line 2: auto_renews: must be true or false, not an object"),
        ({"notice_period_days": [30]}, "line 2: notice_period_days: must be a number, not a list"),
        ({"notice_period_days": True}, "line 2: notice_period_days: must be a number, not true"),
        ({"watchers": "editor"}, "line 2: watchers: must be a list, not text"),
        ({"watchers": [{"name": "x"}]}, "line 2: watchers[0]: must be text, not an object"),
        ({"owner": 5}, "line 2: owner: must be text, not a number"),
        ({"reminder_offsets": [1]}, "line 2: reminder_offsets: must be an object, not a list"),
        ({"title": "Nul\u0000byte"}, "line 2: title: must not contain a NUL character"),
        (
            {"parties": [{"code": "US\u0000A"}]},
            "line 2: parties[0].code: must not contain a NUL character",
        ),
    ],
)
def test_a_value_of_the_wrong_shape_is_an_error_on_its_line(
    partners, tmp_path, capsys, change, expected
):
    path = _jsonl(tmp_path, dict(GOOD, reference="OK-1"), {**GOOD, **change})
    err = _fails_with(path, capsys, expected)
    assert "line 1" not in err


def test_several_problems_in_one_row_are_all_named(partners, tmp_path, capsys):
    path = _jsonl(tmp_path, {**GOOD, "title": {"a": 1}, "parties": "USA", "provisions": [1]})
    _fails_with(
        path,
        capsys,
        "line 1: title: must be text, not an object; parties: must be a list, not text; "
        "provisions[0]: must be an object, not a number",
    )


def test_bad_utf8_names_its_lines(partners, tmp_path, capsys):
    good = json.dumps(GOOD).encode()
    path = _jsonl(tmp_path, good, b'{"title": "caf\xe9"}', b'{"title": "\xff"}')
    _fails_with(path, capsys, "line 2: not valid UTF-8", "line 3: not valid UTF-8")


def test_bad_utf8_in_csv_names_its_line(partners, tmp_path, capsys):
    path = tmp_path / "rows.csv"
    path.write_bytes(
        b"reference,title,type,parties\nA-1,Good,mou,USA;PHL\nA-2,Caf\xe9,mou,USA;PHL\n"
    )
    _fails_with(path, capsys, "line 3: not valid UTF-8")


def test_nul_in_csv_is_an_error_on_its_line(partners, tmp_path, capsys):
    path = tmp_path / "rows.csv"
    path.write_bytes(b"reference,title,type,parties\nA-1,Go\x00od,mou,USA;PHL\n")
    _fails_with(path, capsys, "line 2: title: must not contain a NUL character")


def test_a_raw_nul_byte_in_jsonl_is_an_error_on_its_line(partners, tmp_path, capsys):
    path = _jsonl(tmp_path, json.dumps(GOOD).encode(), b'{"title": "a\x00b"}')
    _fails_with(path, capsys, "line 2: not valid JSON")


def test_deeply_nested_json_is_an_error_on_its_line(partners, tmp_path, capsys):
    deep = b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = _jsonl(tmp_path, json.dumps(GOOD).encode(), deep)
    _fails_with(path, capsys, "line 2: not valid JSON (nested deeper than")


def test_lists_past_their_bounds_are_errors(partners, tmp_path, capsys):
    row = {
        **GOOD,
        "parties": [{"code": "USA"}] * (MAX_PARTIES + 1),
        "provisions": [{"category": "training", "title": "t"}] * (MAX_PROVISIONS + 1),
        "watchers": ["x"] * (MAX_WATCHERS + 1),
    }
    _fails_with(
        _jsonl(tmp_path, row),
        capsys,
        f"line 1: parties: at most {MAX_PARTIES} (got {MAX_PARTIES + 1})",
        f"provisions: at most {MAX_PROVISIONS}",
        f"watchers: at most {MAX_WATCHERS}",
    )


def test_parties_may_be_bare_codes(partners, tmp_path, capsys):
    path = _jsonl(tmp_path, {**GOOD, "parties": ["PHL", {"code": "USA"}]})
    call_command("import_agreements", str(path), "--no-progress")
    agreement = Agreement.objects.get()
    assert sorted(p.code for p in agreement.parties.all()) == ["PHL", "USA"]


def test_the_shape_check_passes_good_rows_and_csv_rows():
    assert check_row_shape(GOOD) == []
    csv_like = {
        "reference": "A",
        "title": "T",
        "auto_renews": "true",
        "notice_period_days": "30",
        "signed_on": "",
        "parties": [{"code": "USA"}],
        "provisions": [{"category": "training", "title": "Training"}],
        "watchers": ["editor"],
    }
    assert check_row_shape(csv_like) == []
    nullable = {"expires_on": None, "owner": None, "reminder_offsets": None, "supersedes": None}
    assert check_row_shape({**GOOD, **nullable}) == []
