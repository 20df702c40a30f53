"""run_lifecycle: the daily lifecycle on demand (and once by ``make run``), with --as-of and a
--dry-run that writes nothing."""

import datetime
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agreements.choices import AgreementStatus, EventKind
from agreements.models import Agreement, AgreementEvent
from history.models import ChangeRecord

from .conftest import TODAY
from .factories import AgreementFactory

ROOT = Path(__file__).resolve().parents[1]


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def _three_due():
    return (
        AgreementFactory(
            reference="DUE-FORCE", status=AgreementStatus.SIGNED, entered_into_force_on=TODAY
        ),
        AgreementFactory(
            reference="DUE-RENEW", expires_on=days(-1), auto_renews=True, renewal_period_months=12
        ),
        AgreementFactory(reference="DUE-EXPIRE", expires_on=days(-1)),
        AgreementFactory(reference="NOT-DUE", expires_on=days(30)),
    )


def _state():
    return (
        sorted(Agreement.objects.values_list("reference", "status", "expires_on", "version")),
        AgreementEvent.objects.count(),
        ChangeRecord.objects.count(),
    )


@pytest.mark.django_db
def test_runs_the_lifecycle_and_says_what_changed(frozen_today, capsys):
    _three_due()
    call_command("run_lifecycle")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Changed 3 agreement(s) as of 2026-06-15:",
        "  DUE-FORCE: entered into force",
        "  DUE-RENEW: renewed, now expires on 2027-06-14",
        "  DUE-EXPIRE: expired",
    ]
    statuses = dict(Agreement.objects.values_list("reference", "status"))
    assert statuses == {
        "DUE-FORCE": AgreementStatus.IN_FORCE,
        "DUE-RENEW": AgreementStatus.IN_FORCE,
        "DUE-EXPIRE": AgreementStatus.EXPIRED,
        "NOT-DUE": AgreementStatus.IN_FORCE,
    }
    assert Agreement.objects.get(reference="DUE-RENEW").expires_on == datetime.date(2027, 6, 14)
    assert set(AgreementEvent.objects.values_list("agreement__reference", "kind")) == {
        ("DUE-FORCE", EventKind.ENTERED_INTO_FORCE),
        ("DUE-RENEW", EventKind.RENEWED),
        ("DUE-EXPIRE", EventKind.EXPIRED),
    }
    assert set(ChangeRecord.objects.filter(action="update").values_list("source", flat=True)) == {
        "lifecycle"
    }
    call_command("run_lifecycle")
    assert capsys.readouterr().out == "Changed 0 agreement(s) as of 2026-06-15:\n"


# transaction=True: the command's transaction is the outermost one, so its rollback is real.
@pytest.mark.django_db(transaction=True)
def test_dry_run_says_would_and_writes_nothing(frozen_today, capsys):
    _three_due()
    before = _state()
    call_command("run_lifecycle", "--dry-run")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Would change 3 agreement(s) as of 2026-06-15:",
        "  DUE-FORCE: would enter into force",
        "  DUE-RENEW: would renew, expiring on 2027-06-14",
        "  DUE-EXPIRE: would expire",
        "Dry run: nothing was written.",
    ]
    assert _state() == before
    assert not ChangeRecord.objects.filter(source="lifecycle").exists()
    # The real run afterwards still finds all three to do.
    call_command("run_lifecycle")
    assert capsys.readouterr().out.startswith("Changed 3 agreement(s)")


@pytest.mark.django_db
def test_as_of_runs_for_that_day(frozen_today, capsys):
    AgreementFactory(reference="LATER", expires_on=days(30))
    call_command("run_lifecycle", "--as-of", days(31).isoformat(), "--dry-run")
    assert "  LATER: would expire" in capsys.readouterr().out
    assert Agreement.objects.get().status == AgreementStatus.IN_FORCE
    call_command("run_lifecycle", "--as-of", days(31).isoformat())
    assert "Changed 1 agreement(s) as of 2026-07-16:\n  LATER: expired\n" in (
        capsys.readouterr().out
    )
    assert Agreement.objects.get().status == AgreementStatus.EXPIRED


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01", "15/06/2026", ""])
@pytest.mark.django_db
def test_a_bad_as_of_is_a_clear_error(frozen_today, bad):
    AgreementFactory(expires_on=days(-1))
    with pytest.raises(CommandError, match=r"--as-of: .* is not a date; use YYYY-MM-DD\."):
        call_command("run_lifecycle", "--as-of", bad)
    assert Agreement.objects.get().status == AgreementStatus.IN_FORCE


@pytest.mark.django_db
def test_an_agreement_that_cannot_change_is_reported(frozen_today, capsys):
    AgreementFactory(reference="BROKEN", expires_on=days(-1), parties=[])
    call_command("run_lifecycle")
    captured = capsys.readouterr()
    assert captured.out == "Changed 0 agreement(s) as of 2026-06-15:\n"
    assert "BROKEN: not changed (" in captured.err and "two parties" in captured.err
    assert "1 agreement(s) could not be changed." in captured.err


def test_make_run_runs_the_lifecycle_once_before_serving():
    makefile = (ROOT / "Makefile").read_text()
    run = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert run, "no run target"
    commands = [line.strip() for line in run.group(1).splitlines()]
    names = [
        next((c for c in ("setup_demo", "run_lifecycle", "bin/run") if c in line), None)
        for line in commands
    ]
    assert [n for n in names if n] == ["setup_demo", "run_lifecycle", "bin/run"]
    assert "$(BIN)/python manage.py run_lifecycle" in commands
