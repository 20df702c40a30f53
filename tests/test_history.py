"""History is written by the one write path: every create, change and delete, with who, when
and what, wherever it came from, classified as high as what it reveals, before and after."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from accounts.choices import Classification
from agreements.models import Agreement, AgreementEvent, AgreementParty, Provision, Review
from agreements.services import (
    agreement_delete,
    agreement_save,
    provision_save,
    review_record,
)
from history.models import ChangeRecord
from partners.models import Membership, Nation, Organization, PointOfContact, Posting

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory
from .formscrape import form_data


def records_of(obj):
    return ChangeRecord.objects.about(obj)


def test_no_history_or_version_signal_receivers():
    """History and versions come from the services, never from model signals."""
    models = [Agreement, AgreementParty, Provision, Review, AgreementEvent]
    models += [Nation, Organization, Membership, PointOfContact, Posting]
    ours = ("agreements", "partners", "accounts", "history")
    for signal in (pre_save, post_save, pre_delete, post_delete):
        for model in models:
            for receiver in signal._live_receivers(model)[0]:
                assert not receiver.__module__.startswith(ours), (signal, model, receiver)
    for through in (Agreement.watchers.through, Agreement.contacts.through):
        for receiver in m2m_changed._live_receivers(through)[0]:
            assert not receiver.__module__.startswith(ours), receiver


def test_change_outside_any_request_is_recorded(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_save(
        agreement=agreement,
        source="lifecycle task",
        title="Retitled by a task",
        expires_on=datetime.date(2030, 1, 1),
    )
    record = ChangeRecord.objects.get()
    assert record.action == "update"
    assert record.model == "agreement"
    assert record.changed_object == agreement
    assert record.related_object is None
    assert record.actor is None
    assert record.source == "lifecycle task"
    assert record.actor_label == "lifecycle task"
    assert record.changes["title"][1] == "Retitled by a task"
    assert record.changes["expires_on"] == [None, "2030-01-01"]
    assert record.at is not None


def test_create_records_the_agreement_and_each_child_naming_it(partners, editor):
    agreement = agreement_save(
        actor=editor,
        title="Created by an editor",
        type="mou",
        status="signed",
        signed_on=datetime.date(2020, 1, 1),
        parties=[{"code": "USA"}, {"code": "NATO"}],
        provisions=[{"category": "training", "title": "Courses"}],
    )
    records = records_of(agreement)
    assert sorted(records.values_list("changed_object_type__model", flat=True)) == [
        "agreement",
        "agreementparty",
        "agreementparty",
        "provision",
    ]
    assert set(records.values_list("actor__username", flat=True)) == {"editor"}
    children = records.exclude(changed_object_type__model="agreement")
    assert {r.related_object_id for r in children} == {agreement.pk}
    assert {r.related_repr for r in children} == {agreement.reference}
    parties = records.filter(changed_object_type__model="agreementparty")
    codes = {(r.changes.get("nation") or r.changes.get("organization"))[1] for r in parties}
    assert codes == {"USA", "NATO"}
    assert agreement.version == 1


def test_party_change_and_removal_are_recorded(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_save(
        agreement=agreement,
        parties=[{"code": "USA", "withdrawn_on": "2020-01-01"}, {"code": "JPN"}],
    )
    actions = sorted(
        ChangeRecord.objects.values_list("changed_object_type__model", "action", "object_repr")
    )
    assert ("agreementparty", "create", "Japan") in actions
    assert ("agreementparty", "delete", "Philippines") in actions
    usa = ChangeRecord.objects.get(changed_object_type__model="agreementparty", action="update")
    assert usa.changes == {"withdrawn_on": [None, "2020-01-01"]}


def test_review_and_delete_are_recorded(partners, editor):
    agreement = AgreementFactory(
        parties=[partners["USA"], partners["PHL"]], review_interval_months=12
    )
    version = agreement.version
    review_record(
        agreement=agreement,
        reviewed_on=datetime.date(2026, 1, 10),
        outcome="continue",
        actor=editor,
    )
    agreement.refresh_from_db()
    assert agreement.next_review_on == datetime.date(2027, 1, 10)
    assert agreement.version == version + 1  # one write, one bump
    kinds = set(records_of(agreement).values_list("changed_object_type__model", "action"))
    assert kinds == {("review", "create"), ("agreement", "update"), ("agreementevent", "create")}
    assert agreement.events.filter(kind="reviewed").exists()
    pk, reference = agreement.pk, agreement.reference
    agreement_delete(agreement=agreement, actor=editor)
    deleted = ChangeRecord.objects.get(changed_object_type__model="agreement", action="delete")
    assert deleted.changed_object_id == pk
    assert deleted.object_repr.startswith(reference)
    assert deleted.changes["reference"] == [reference, None]
    assert not Agreement.objects.filter(pk=pk).exists()


def test_management_command_changes_are_recorded(partners, tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(
        '{"reference": "CMD-1", "title": "Loaded by command", "type": "mou", "status": "signed",'
        ' "signed_on": "2020-02-02", "parties": [{"code": "USA"}, {"code": "PHL"}]}\n'
    )
    call_command("import_agreements", str(path), "--no-progress")
    record = ChangeRecord.objects.get(changed_object_type__model="agreement")
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
    summary = ChangeRecord.objects.get(changed_object_type__model="agreement", action="update")
    assert summary.actor == editor and summary.source == "admin"
    assert summary.changes["summary"] == ["", "Edited in the admin"]
    clause = ChangeRecord.objects.get(changed_object_type__model="provision", action="update")
    assert clause.changes["title"] == ["Old clause", "New clause"]
    html = client.get(url).content.decode()
    assert "Edited in the admin" in html  # the history on the change form shows before/after
    assert "Old clause" in html


def test_watcher_changes_are_recorded(partners, editor, viewer):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_save(agreement=agreement, watchers=[editor, viewer], actor=editor)
    record = ChangeRecord.objects.get(changed_object_type__model="agreement")
    assert record.changes == {"watchers": [[], ["editor", "viewer"]]}
    assert record.actor == editor


def test_link_to_a_secret_agreement_is_not_revealed_in_open_history(partners, viewer, analyst):
    secret = AgreementFactory(
        reference="SECRET-REF", classification="secret", parties=[partners["USA"], partners["PHL"]]
    )
    open_one = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_save(agreement=open_one, supersedes=secret)
    record = records_of(open_one).get(action="update")
    assert record.changes["supersedes"] == [None, "SECRET-REF"]
    assert record.classification == "secret"
    assert not ChangeRecord.objects.visible_to(viewer).filter(pk=record.pk).exists()
    assert ChangeRecord.objects.visible_to(analyst).filter(pk=record.pk).exists()


# Declassification (security review, finding 2) ---------------------------------------------


def _bodies(user, client, agreement) -> str:
    client.force_login(user)
    page = client.get(f"/agreements/{agreement.pk}/").content.decode()
    api = client_for(user).get(f"/api/v1/agreements/{agreement.pk}/history/")
    assert api.status_code == 200
    return page + api.content.decode()


def test_lowering_and_retitling_in_one_write_keeps_the_old_text_secret(
    client, partners, viewer, registrar
):
    agreement = agreement_save(
        actor=registrar,
        title="Operation ZANZIBAR basing",
        summary="QUARTZ staging rights",
        type="access",
        classification="secret",
        parties=[{"code": "USA"}, {"code": "PHL"}],
    )
    agreement_save(
        agreement=agreement,
        actor=registrar,
        classification="unclassified",
        title="Access arrangement",
        summary="Public summary",
    )
    body = _bodies(viewer, client, agreement)
    assert "Access arrangement" in body  # the agreement itself is now public
    assert "ZANZIBAR" not in body and "QUARTZ" not in body
    lowering = records_of(agreement).get(action="update")
    assert lowering.classification == "secret"
    assert "ZANZIBAR" in _bodies(registrar, client, agreement)  # the cleared still see it


def test_a_provision_lowered_from_secret_keeps_its_old_text_secret(
    client, partners, viewer, registrar
):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    annex = provision_save(
        agreement=agreement,
        actor=registrar,
        category="intelligence_sharing",
        title="ZANZIBAR annex",
        text="QUARTZ intercepts",
        classification="secret",
    )
    provision_save(
        provision=annex,
        agreement=agreement,
        actor=registrar,
        title="Information annex",
        text="Public text",
        classification="unclassified",
    )
    body = _bodies(viewer, client, agreement)
    assert "Information annex" in body
    assert "ZANZIBAR" not in body and "QUARTZ" not in body


# Versions a reader sees (security review, finding 7) ----------------------------------------


def test_a_change_above_clearance_moves_neither_etag_nor_update_time(partners, viewer, registrar):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    annex = provision_save(
        agreement=agreement,
        actor=registrar,
        category="intelligence_sharing",
        title="Annex",
        classification="secret",
    )
    other = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_save(agreement=other, actor=registrar, title="Touched later")

    def seen(user):
        response = client_for(user).get(f"/api/v1/agreements/{agreement.pk}/")
        return response["ETag"], response.json()["updated_at"]

    def top(user):
        rows = client_for(user).get("/api/v1/agreements/?ordering=-updated_at").json()["results"]
        return rows[0]["id"]

    before_viewer, before_registrar = seen(viewer), seen(registrar)
    assert top(viewer) == other.pk
    provision_save(provision=annex, agreement=agreement, actor=registrar, text="New secret text")
    assert seen(viewer) == before_viewer
    assert seen(registrar)[0] != before_registrar[0]
    assert top(viewer) == other.pk
    # An If-Match with the viewer's ETag is still current for what the viewer may see.
    agreement_save(
        agreement=agreement,
        actor=viewer,
        expected_version=int(json.loads(before_viewer[0])),
        summary="Seen and edited",
    )


# One write path: the admin, the API and the import record the same ---------------------------


def _admin_edit(client, user, agreement):
    client.force_login(user)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["title"] = "Retitled"
    rows = int(data["parties-TOTAL_FORMS"])
    data["parties-TOTAL_FORMS"] = str(rows + 1)
    data[f"parties-{rows}-nation"] = str(Nation.objects.get(iso3="JPN").pk)
    index = next(
        i
        for i in range(rows)
        if data.get(f"parties-{i}-nation") == str(Nation.objects.get(iso3="PHL").pk)
    )
    data[f"parties-{index}-DELETE"] = "on"
    data["provisions-0-text"] = "New text"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


def _api_edit(client, user, agreement):
    provision = agreement.provisions.get()
    response = client_for(user).patch(
        f"/api/v1/agreements/{agreement.pk}/",
        {
            "title": "Retitled",
            "parties": [{"code": "USA"}, {"code": "JPN"}],
            "provisions": [
                {
                    "id": provision.pk,
                    "category": provision.category,
                    "title": provision.title,
                    "text": "New text",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content


def _import_edit(client, user, agreement, tmp_path):
    provision = agreement.provisions.get()
    row = {
        "reference": agreement.reference,
        "title": "Retitled",
        "type": agreement.type,
        "status": agreement.status,
        "signed_on": agreement.signed_on.isoformat() if agreement.signed_on else None,
        "entered_into_force_on": (
            agreement.entered_into_force_on.isoformat() if agreement.entered_into_force_on else None
        ),
        "parties": [{"code": "USA"}, {"code": "JPN"}],
        "provisions": [
            {"category": provision.category, "title": provision.title, "text": "New text"}
        ],
    }
    path = tmp_path / "edit.jsonl"
    path.write_text(json.dumps(row) + "\n")
    call_command("import_agreements", str(path), "--no-progress", "--update")


@pytest.mark.parametrize("path", ["admin", "api", "import"])
def test_every_write_path_records_the_same_changes_and_one_version_bump(
    path, client, partners, registrar, tmp_path
):
    agreement = AgreementFactory(
        parties=[partners["USA"], partners["PHL"]], title="Original", summary=""
    )
    ProvisionFactory(agreement=agreement, title="Clause", article="", text="Old text")
    version = agreement.version
    if path == "admin":
        _admin_edit(client, registrar, agreement)  # removing a party needs the delete right
    elif path == "api":
        _api_edit(client, registrar, agreement)
    else:
        _import_edit(client, registrar, agreement, tmp_path)
    agreement.refresh_from_db()
    assert agreement.version == version + 1
    records = records_of(agreement)
    summary = sorted(
        (r.changed_object_type.model, r.action, json.dumps(r.changes, sort_keys=True))
        for r in records
    )
    japan = Nation.objects.get(iso3="JPN")
    assert summary == sorted(
        [
            ("agreement", "update", json.dumps({"title": ["Original", "Retitled"]})),
            ("agreementparty", "create", json.dumps({"nation": [None, japan.iso3]})),
            ("agreementparty", "delete", json.dumps({"nation": ["PHL", None]})),
            (
                "provision",
                "update",
                json.dumps({"text": ["Old text", "New text"]}),
            ),
        ]
    )
    assert {r.classification for r in records} == {Classification.UNCLASSIFIED}


def test_history_of_a_provision_later_classified_above_clearance_is_hidden(
    client, partners, viewer, registrar
):
    """A provision created unclassified and then raised to secret: its earlier history
    entries (title, text) must not show to an uncleared user."""
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    provision_save(agreement=agreement, actor=registrar, category="training", title="Courses")
    annex = provision_save(
        agreement=agreement,
        actor=registrar,
        category="intelligence_sharing",
        title="Zanzibar annex",
        text="Quartz intercepts.",
    )
    agreement_save(
        agreement=agreement,
        actor=registrar,
        provisions=[
            {
                "id": p.pk,
                "category": p.category,
                "title": p.title,
                "article": p.article,
                "text": p.text,
                "classification": (Classification.SECRET if p.pk == annex.pk else p.classification),
            }
            for p in agreement.provisions.all()
        ],
    )
    annex_records = ChangeRecord.objects.filter(
        changed_object_type__model="provision", changed_object_id=annex.pk
    )
    assert annex_records.count() == 2

    visible = ChangeRecord.objects.visible_to(viewer)
    assert not visible.filter(pk__in=annex_records).exists()
    assert visible.filter(changed_object_type__model="provision").exists()

    api = client_for(viewer).get(f"/api/v1/agreements/{agreement.pk}/history/")
    assert api.status_code == 200
    assert "Zanzibar" not in api.content.decode()
    assert "Quartz" not in api.content.decode()

    client.force_login(viewer)
    for url in (f"/agreements/{agreement.pk}/", "/"):
        html = client.get(url).content.decode()
        assert "Zanzibar" not in html, url
        assert "Quartz" not in html, url


def test_history_naming_a_linked_agreement_later_classified_above_clearance_is_hidden(
    client, partners, viewer, registrar
):
    """A links to B while both are public; B is then raised to secret. A's history entry
    that set the link must no longer show B's reference to an uncleared user."""
    pair = [partners["USA"], partners["PHL"]]
    older = AgreementFactory(reference="ZANZIBAR-1990", title="Older accord", parties=pair)
    newer = AgreementFactory(reference="OPEN-2020", title="Newer accord", parties=pair)
    agreement_save(agreement=newer, actor=registrar, supersedes=older)
    assert (
        "ZANZIBAR"
        in client_for(viewer).get(f"/api/v1/agreements/{newer.pk}/history/").content.decode()
    )

    agreement_save(agreement=older, actor=registrar, classification=Classification.SECRET)
    agreement_save(agreement=newer, actor=registrar, summary="A later public note")

    api = client_for(viewer).get(f"/api/v1/agreements/{newer.pk}/history/")
    assert api.status_code == 200
    assert api.json()["count"] >= 1
    assert "ZANZIBAR" not in api.content.decode()
    client.force_login(viewer)
    for url in (f"/agreements/{newer.pk}/", "/"):
        assert "ZANZIBAR" not in client.get(url).content.decode(), url
    # Someone cleared still sees the whole history.
    assert (
        "ZANZIBAR"
        in client_for(registrar).get(f"/api/v1/agreements/{newer.pk}/history/").content.decode()
    )


def test_admin_object_history_never_names_a_provision_above_clearance(
    client, partners, editor, registrar
):
    """Django's own admin history (LogEntry) names the inline records a change touched; a
    registrar's edit of a secret annex must not show its title to a confidential editor."""
    from .formscrape import form_data

    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    ProvisionFactory(
        agreement=agreement,
        title="Zanzibar annex",
        category="intelligence_sharing",
        classification=Classification.SECRET,
    )
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["provisions-0-text"] = "Changed by the registrar."
    assert client.post(url, data).status_code == 302

    client.force_login(editor)
    response = client.get(f"/admin/agreements/agreement/{agreement.pk}/history/", follow=True)
    assert response.status_code == 200
    assert "Zanzibar" not in response.content.decode()
