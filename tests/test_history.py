"""Every create, change and delete is recorded with who, when and what, wherever it came from."""

import datetime

from django.core.management import call_command

from agreements.history import acting_as
from agreements.models import Agreement, ChangeRecord
from agreements.services import agreement_create, agreement_delete, agreement_update, review_record

from .factories import AgreementFactory, ProvisionFactory
from .formscrape import form_data


def test_change_outside_any_request_is_recorded(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    ChangeRecord.objects.all().delete()
    with acting_as(None, "lifecycle task"):
        agreement_update(
            agreement=agreement, title="Retitled by a task", expires_on=datetime.date(2030, 1, 1)
        )
    record = ChangeRecord.objects.get()
    assert record.action == "update"
    assert record.model == "agreement"
    assert record.actor is None
    assert record.source == "lifecycle task"
    assert record.actor_label == "lifecycle task"
    assert record.changes["title"][1] == "Retitled by a task"
    assert record.changes["expires_on"] == [None, "2030-01-01"]
    assert record.at is not None


def test_service_records_actor_for_create_parties_and_provisions(partners, editor):
    agreement = agreement_create(
        actor=editor,
        title="Created by an editor",
        type="mou",
        status="signed",
        signed_on=datetime.date(2020, 1, 1),
        parties=[{"code": "USA"}, {"code": "NATO"}],
        provisions=[{"category": "training", "title": "Courses"}],
    )
    records = ChangeRecord.objects.filter(agreement_id=agreement.pk)
    assert sorted(records.values_list("model", flat=True)) == [
        "agreement",
        "agreementparty",
        "agreementparty",
        "provision",
    ]
    assert set(records.values_list("actor__username", flat=True)) == {"editor"}
    parties = records.filter(model="agreementparty")
    codes = {(r.changes.get("nation") or r.changes.get("organization"))[1] for r in parties}
    assert codes == {"USA", "NATO"}


def test_party_change_and_removal_are_recorded(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    ChangeRecord.objects.all().delete()
    agreement_update(
        agreement=agreement,
        parties=[{"code": "USA", "withdrawn_on": "2020-01-01"}, {"code": "JPN"}],
    )
    actions = sorted(ChangeRecord.objects.values_list("model", "action", "object_repr"))
    assert ("agreementparty", "create", "Japan") in actions
    assert ("agreementparty", "delete", "Philippines") in actions
    usa = ChangeRecord.objects.get(model="agreementparty", action="update")
    assert usa.changes == {"withdrawn_on": [None, "2020-01-01"]}


def test_review_and_delete_are_recorded(partners, editor):
    agreement = AgreementFactory(
        parties=[partners["USA"], partners["PHL"]], review_interval_months=12
    )
    review_record(
        agreement=agreement,
        reviewed_on=datetime.date(2026, 1, 10),
        outcome="continue",
        actor=editor,
    )
    agreement.refresh_from_db()
    assert agreement.next_review_on == datetime.date(2027, 1, 10)
    assert ChangeRecord.objects.filter(model="review", action="create", actor=editor).exists()
    assert agreement.events.filter(kind="reviewed").exists()
    pk, reference = agreement.pk, agreement.reference
    agreement_delete(agreement=agreement, actor=editor)
    deleted = ChangeRecord.objects.get(model="agreement", action="delete")
    assert deleted.agreement_id == pk
    assert deleted.agreement_reference == reference
    assert deleted.changes["reference"] == [reference, None]
    assert not Agreement.objects.filter(pk=pk).exists()


def test_management_command_changes_are_recorded(partners, tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(
        '{"reference": "CMD-1", "title": "Loaded by command", "type": "mou", "status": "signed",'
        ' "signed_on": "2020-02-02", "parties": [{"code": "USA"}, {"code": "PHL"}]}\n'
    )
    call_command("import_agreements", str(path), "--no-progress")
    record = ChangeRecord.objects.get(model="agreement")
    assert record.actor is None and record.source == "import_agreements"


def test_admin_change_is_recorded_with_user_and_shown(client, editor, partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    ProvisionFactory(agreement=agreement, title="Old clause")
    client.force_login(editor)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["summary"] = "Edited in the admin"
    data["provisions-0-title"] = "New clause"
    assert client.post(url, data).status_code == 302
    summary = ChangeRecord.objects.get(model="agreement", action="update")
    assert summary.actor == editor and summary.source == "web"
    assert summary.changes["summary"] == ["", "Edited in the admin"]
    clause = ChangeRecord.objects.get(model="provision", action="update")
    assert clause.changes["title"] == ["Old clause", "New clause"]
    html = client.get(url).content.decode()
    assert "Edited in the admin" in html  # the history inline shows before and after
    assert "Old clause" in html


def test_watcher_changes_are_recorded(partners, editor, viewer):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    ChangeRecord.objects.all().delete()
    agreement_update(agreement=agreement, watchers=[editor, viewer], actor=editor)
    record = ChangeRecord.objects.get(model="agreement")
    assert record.changes == {"watchers": [[], ["editor", "viewer"]]}
    assert record.actor == editor


def test_link_to_a_secret_agreement_is_not_revealed_in_open_history(partners, viewer, analyst):
    secret = AgreementFactory(
        reference="SECRET-REF", classification="secret", parties=[partners["USA"], partners["PHL"]]
    )
    open_one = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_update(agreement=open_one, supersedes=secret)
    record = ChangeRecord.objects.get(agreement_id=open_one.pk, action="update")
    assert record.changes["supersedes"] == [None, "SECRET-REF"]
    assert record.classification == "secret"
    assert not ChangeRecord.objects.visible_to(viewer).filter(pk=record.pk).exists()
    assert ChangeRecord.objects.visible_to(analyst).filter(pk=record.pk).exists()
