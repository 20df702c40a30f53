"""setup_demo: reference data, real demo agreements, demo users; idempotent, and it never
overwrites what is already there (``import_agreements --update`` is the way to do that).

The demo is loaded once for the module (``tests/module_data.py``): the tests read it, and
what one of them writes (a sign-in, an edit, a second load) is undone after it."""

import datetime
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from accounts.choices import Classification
from accounts.groups import POLICY_STAFF
from accounts.models import User
from agreements.choices import EventKind
from agreements.lifecycle import lifecycle_run
from agreements.management.commands.setup_demo import DATA, DEMO_ENGAGEMENTS
from agreements.models import Agreement, Provision
from agreements.registry_check import registry_findings
from agreements.services import agreement_save
from engagements.models import Engagement
from engagements.services import engagement_save
from history.models import ChangeRecord

from .module_data import module_transaction

EDITED = "US-PH-1947-MBA"
RENEWING = "JP-KR-2016-GSOMIA"  # auto-renews yearly; the file says it expires 2017-11-22
CHECK_DAY = datetime.date(2026, 6, 15)  # the lifecycle and the registry check run as of it
# What check_registry still finds in the demo set, knowingly: Mexico's ratification of the Rio
# Treaty was not found, so it has no joining act and is presumed bound from the treaty's entry
# into force (agreements/data/DEMO_SOURCES.md, "Party acts", says why no act was made up).
KNOWN_GAPS: set = set()  # what the demo knowingly keeps: nothing


@pytest.fixture(scope="module")
def demo_load(request, django_db_setup, django_db_blocker):
    """The demo set, loaded once for the module; its printed output."""
    with module_transaction(request, django_db_blocker):
        out = io.StringIO()
        with django_db_blocker.unblock():
            call_command("setup_demo", stdout=out)
        yield out.getvalue()


@pytest.fixture
def demo(demo_load, db):
    return demo_load


def test_demo_loads_real_agreements_with_sources(demo):
    real = Agreement.objects.exclude(title__startswith="EXERCISE")
    assert real.count() >= 40
    assert not real.filter(source_url="").exists()
    assert set(real.values_list("classification", flat=True)) == {"unclassified"}
    codes = {
        p.code
        for a in real.prefetch_related("parties__nation", "parties__organization")
        for p in a.parties.all()
    }
    assert {"USA", "PHL", "COL", "NATO", "AU"} <= codes
    statuses = set(real.values_list("status", flat=True))
    assert {"in_force", "expired", "terminated", "superseded", "signed", "suspended"} <= statuses
    assert real.filter(reference__startswith="US-PH").count() >= 3
    assert real.filter(reference__startswith="US-CO").exists()
    lateral = {a.lateral for a in real.prefetch_related("parties")}
    assert {"bilateral", "multilateral"} <= lateral


def test_demo_prints_logins_that_work(demo):
    assert "Demo logins (https://registry.example.test/):" in demo  # SITE_URL, not :8000
    for username in ("policy", "analyst", "editor", "registrar"):
        assert f"{username}-demo-2026" in demo
        # Through the login page: django-axes checks every sign-in against its request.
        response = Client().post(
            "/accounts/login/", {"username": username, "password": f"{username}-demo-2026"}
        )
        assert response.status_code == 302 and response.url == "/", username


def test_demo_clearance_shows(demo):
    policy, analyst = User.objects.get(username="policy"), User.objects.get(username="analyst")
    exercises = Agreement.objects.filter(title__startswith="EXERCISE")
    assert set(exercises.values_list("classification", flat=True)) >= {"confidential", "secret"}
    assert (
        not Agreement.objects.visible_to(policy)
        .filter(classification__in=["confidential", "secret"])
        .exists()
    )
    annex = Provision.objects.get(agreement__classification="unclassified", classification="secret")
    assert annex.category == "intelligence_sharing"
    assert not Provision.objects.visible_to(policy).filter(pk=annex.pk).exists()
    assert Provision.objects.visible_to(analyst).filter(pk=annex.pk).exists()


def test_demo_passes_the_registry_check_once_the_lifecycle_has_run(demo):
    """What ``make run`` does (setup_demo, run_lifecycle), then check_registry, all as of one
    day: nothing is found but the known gaps."""
    before = {(f.code, f.reference) for f in registry_findings(CHECK_DAY)}
    assert ("in_force_past_expiry", RENEWING) in before  # the file's expiry is long past
    call_command("run_lifecycle", as_of=CHECK_DAY.isoformat(), stdout=io.StringIO())
    findings = registry_findings(CHECK_DAY)
    assert {(f.code, f.reference) for f in findings} == KNOWN_GAPS, [str(f) for f in findings]
    out = io.StringIO()
    call_command("check_registry", as_of=CHECK_DAY.isoformat(), stdout=out)
    assert "No inconsistencies found." in out.getvalue()


def test_demo_loads_real_engagements_with_sources_and_links(demo):
    engagements = Engagement.objects.prefetch_related(
        "agreements", "provisions__agreement", "participants__nation"
    )
    assert engagements.count() >= 10
    assert "demo_engagements.jsonl: 14 created, 0 skipped" in demo
    for engagement in engagements:
        assert engagement.source_url.startswith("https://"), engagement.title
        assert engagement.summary, engagement.title
        # Past engagements, completed, with no made-up after-action outcome.
        assert engagement.status == "completed" and engagement.ends_on < CHECK_DAY
        assert engagement.after_action_due_on is None and engagement.outcome == ""
        linked = {a.reference for a in engagement.agreements.all()}
        assert all(p.agreement.reference in linked for p in engagement.provisions.all())
        assert len(engagement.participants.all()) >= 2, engagement.title
    by_title = {e.title: e for e in engagements}
    balikatan = by_title["Balikatan 2024"]
    assert {a.reference for a in balikatan.agreements.all()} >= {"US-PH-2014-EDCA"}
    assert "PHL" in {p.code for p in balikatan.participants.all()}
    # Cobra Gold's treaty basis is only inferred, RIMPAC's not known: no link for either.
    assert not by_title["Cobra Gold 2026"].agreements.exists()
    assert not by_title["RIMPAC 2024"].agreements.exists()
    assert set(Engagement.objects.values_list("classification", flat=True)) == {"unclassified"}


def test_every_demo_engagement_line_has_a_source_and_links_that_exist(demo):
    lines = [json.loads(line) for line in DEMO_ENGAGEMENTS.read_text().splitlines() if line]
    assert len(lines) == Engagement.objects.count()
    references = set(Agreement.objects.values_list("reference", flat=True))
    for row in lines:
        assert row["source_url"].startswith("https://"), row["title"]
        assert set(row["agreements"]) <= references, row["title"]
        for provision in row["provisions"]:
            assert provision["agreement"] in row["agreements"]
            assert Provision.objects.filter(
                agreement__reference=provision["agreement"], category=provision["category"]
            ).exists(), (row["title"], provision)


def test_demo_twice_changes_nothing(demo, capsys):
    versions = sorted(Agreement.objects.values_list("reference", "version"))
    engagements = sorted(Engagement.objects.values_list("title", "starts_on", "version"))
    history = ChangeRecord.objects.count()
    call_command("setup_demo")
    out = capsys.readouterr().out
    real = Agreement.objects.exclude(title__startswith="EXERCISE").count()
    exercises = Agreement.objects.filter(title__startswith="EXERCISE").count()
    assert f"demo_agreements.jsonl: 0 created, {real} skipped" in out
    assert f"demo_exercise_records.jsonl: 0 created, {exercises} skipped" in out
    assert f"demo_engagements.jsonl: 0 created, {len(engagements)} skipped" in out
    assert sorted(Agreement.objects.values_list("reference", "version")) == versions
    assert sorted(Engagement.objects.values_list("title", "starts_on", "version")) == engagements
    assert ChangeRecord.objects.count() == history


def _edit_and_renew():
    """An editor's change through the service, and the lifecycle renewing one agreement."""
    editor = User.objects.get(username="editor")
    agreement_save(
        agreement=Agreement.objects.get(reference=EDITED),
        actor=editor,
        summary="Corrected by an editor.",
        source="test",
    )
    assert lifecycle_run(today=datetime.date(2026, 6, 15)).renewed == [RENEWING]
    renewed = Agreement.objects.get(reference=RENEWING)
    assert renewed.expires_on == datetime.date(2026, 11, 22)


def test_setup_demo_again_keeps_edits_and_renewals(demo, capsys):
    _edit_and_renew()
    versions = sorted(Agreement.objects.values_list("reference", "version"))
    history = ChangeRecord.objects.count()
    call_command("setup_demo")
    out = capsys.readouterr().out
    assert "demo_agreements.jsonl: 0 created," in out
    assert Agreement.objects.get(reference=EDITED).summary == "Corrected by an editor."
    renewed = Agreement.objects.get(reference=RENEWING)
    assert renewed.expires_on == datetime.date(2026, 11, 22)
    assert renewed.events.filter(kind=EventKind.RENEWED).count() == 1
    assert sorted(Agreement.objects.values_list("reference", "version")) == versions
    assert ChangeRecord.objects.count() == history


def test_setup_demo_creates_only_what_is_missing(demo, capsys):
    Agreement.objects.get(reference=EDITED).delete()
    call_command("setup_demo")
    out = capsys.readouterr().out
    real = Agreement.objects.exclude(title__startswith="EXERCISE").count()
    assert f"demo_agreements.jsonl: 1 created, {real - 1} skipped" in out
    assert Agreement.objects.filter(reference=EDITED).exists()


def test_import_update_overwrites_from_the_file(demo, capsys):
    _edit_and_renew()
    call_command(
        "import_agreements", str(DATA / "demo_agreements.jsonl"), "--no-progress", "--update"
    )
    out = capsys.readouterr().out
    assert "demo_agreements.jsonl: 0 created, 2 updated," in out
    assert Agreement.objects.get(reference=EDITED).summary != "Corrected by an editor."
    assert Agreement.objects.get(reference=RENEWING).expires_on == datetime.date(2017, 11, 22)


def test_setup_demo_leaves_existing_demo_users_alone(demo, capsys):
    editor = User.objects.get(username="editor")
    editor.set_password("changed-by-its-owner")
    editor.clearance = Classification.SECRET
    editor.save()
    editor.groups.set([Group.objects.get(name=POLICY_STAFF)])
    User.objects.get(username="policy").delete()
    call_command("setup_demo")
    out = capsys.readouterr().out
    editor.refresh_from_db()
    assert editor.check_password("changed-by-its-owner")
    assert editor.clearance == Classification.SECRET
    assert list(editor.groups.values_list("name", flat=True)) == [POLICY_STAFF]
    editor_line = next(line for line in out.splitlines() if line.startswith("  editor "))
    assert "clearance Secret" in editor_line and "existing user, left as it is" in editor_line
    assert "left as they are (password, groups, clearance): analyst, editor, registrar" in out
    # A missing demo user is created again, with its demo password.
    policy = User.objects.get(username="policy")
    assert policy.check_password("policy-demo-2026")
    policy_line = next(line for line in out.splitlines() if line.startswith("  policy "))
    assert "existing" not in policy_line


def test_setup_demo_again_keeps_an_edited_engagement(demo, capsys):
    editor = User.objects.get(username="editor")
    engagement = Engagement.objects.get(title="Keen Sword 25")
    engagement_save(engagement=engagement, actor=editor, summary="Edited.", source="test")
    call_command("setup_demo")
    assert "demo_engagements.jsonl: 0 created," in capsys.readouterr().out
    engagement.refresh_from_db()
    assert (engagement.summary, engagement.version) == ("Edited.", 2)
