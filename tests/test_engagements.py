"""Engagements: the service's rules, history and versions, hidden links kept, clearance on
every path of the API, the shared filters, the export and the query counts."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.choices import Classification
from engagements.models import Engagement
from engagements.services import StaleVersion, engagement_delete, engagement_save
from history.models import ChangeRecord

from .factories import AgreementFactory, ProvisionFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)  # frozen_today


def _save(actor, **kwargs):
    kwargs.setdefault("title", "Balikatan 2026")
    kwargs.setdefault("kind", "exercise")
    kwargs.setdefault("starts_on", datetime.date(2026, 4, 20))
    kwargs.setdefault("ends_on", datetime.date(2026, 5, 9))
    return engagement_save(actor=actor, source="test", **kwargs)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


@pytest.fixture
def edca(partners):
    agreement = AgreementFactory(
        reference="US-PH-2014-EDCA", parties=[partners["USA"], partners["PHL"]]
    )
    return agreement


# Rules ------------------------------------------------------------------------------------


def test_create_with_participants_and_links(editor, partners, edca, frozen_today):
    provision = ProvisionFactory(agreement=edca, category="joint_exercises")
    engagement = _save(
        editor,
        status="approved",
        participants=[{"code": "PHL", "role": "host"}, {"code": "usa", "personnel": 5000}],
        agreement_ids=[edca.pk],
        provision_ids=[provision.pk],
        location_nation="PHL",
        latitude="15.1850",
        longitude="120.5600",
    )
    assert engagement.version == 1
    assert engagement.location_nation.iso3 == "PHL"
    rows = {p.code: (p.role, p.personnel) for p in engagement.participants.all()}
    assert rows == {"PHL": ("host", None), "USA": ("participant", 5000)}
    assert list(engagement.agreements.all()) == [edca]
    assert list(edca.engagements.all()) == [engagement]
    assert list(provision.engagements.all()) == [engagement]
    records = ChangeRecord.objects.about(engagement)
    assert sorted(r.changed_object_type.model for r in records) == [
        "engagement",
        "participation",
        "participation",
    ]


@pytest.mark.parametrize(
    "fields, key",
    [
        ({"ends_on": datetime.date(2026, 4, 1)}, "ends_on"),
        ({"after_action_due_on": datetime.date(2026, 4, 1)}, "after_action_due_on"),
        ({"latitude": "91"}, "latitude"),
        ({"latitude": "10", "longitude": "-181"}, "longitude"),
        ({"latitude": "10"}, "longitude"),
        ({"kind": "parade"}, "kind"),
        ({"status": "done"}, "status"),
        ({"domain": "undersea"}, "domain"),
        ({"starts_on": "2026-13-01"}, "starts_on"),
        ({"outcome": "met"}, "outcome"),  # only when completed
        ({"location_nation": "ZZZ"}, "location_nation"),
        ({"source_url": "not a url"}, "source_url"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_field_rules(editor, partners, frozen_today, fields, key):
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, **fields)
    assert key in errors_of(excinfo), errors_of(excinfo)
    assert not Engagement.objects.exists()


def test_completed_needs_an_end_in_the_past(editor, partners, frozen_today):
    participants = [{"code": "PHL", "role": "host"}, "USA"]
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, status="completed", ends_on=None, participants=participants)
    assert "ends_on" in errors_of(excinfo)
    for last in (TODAY, TODAY + datetime.timedelta(days=3)):
        with pytest.raises(ValidationError) as excinfo:
            _save(editor, status="completed", ends_on=last, participants=participants)
        assert "before today" in errors_of(excinfo)["ends_on"][0]
    done = _save(
        editor,
        status="completed",
        ends_on=TODAY - datetime.timedelta(days=1),
        participants=participants,
    )
    assert done.status == "completed"


def test_completed_needs_an_outcome_once_the_report_is_due(editor, partners, frozen_today):
    participants = [{"code": "PHL", "role": "host"}, "USA"]
    common = {"status": "completed", "participants": participants}
    due_later = _save(editor, after_action_due_on=TODAY, **common)  # due today: not yet passed
    assert due_later.outcome == ""
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, after_action_due_on=datetime.date(2026, 6, 1), **common)
    assert "outcome" in errors_of(excinfo)
    recorded = _save(
        editor,
        after_action_due_on=datetime.date(2026, 6, 1),
        outcome="partly_met",
        outcome_notes="Most objectives met.",
        lessons="Start the logistics planning earlier.",
        **common,
    )
    assert recorded.outcome == "partly_met"
    # Reopened (ongoing) with its outcome: refused, the outcome is for completed ones only.
    with pytest.raises(ValidationError) as excinfo:
        engagement_save(engagement=recorded, actor=editor, status="ongoing")
    assert "outcome" in errors_of(excinfo)


def test_approved_needs_a_participant_besides_the_host(editor, partners, frozen_today):
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, status="approved", participants=[{"code": "PHL", "role": "host"}])
    assert "besides the host" in errors_of(excinfo)["participants"][0]
    with pytest.raises(ValidationError):
        _save(editor, status="ongoing")
    planned = _save(editor, status="planned", participants=[{"code": "PHL", "role": "host"}])
    with pytest.raises(ValidationError) as excinfo:
        engagement_save(engagement=planned, actor=editor, status="approved")
    assert "participants" in errors_of(excinfo)
    engagement_save(
        engagement=planned,
        actor=editor,
        status="approved",
        participants=[{"code": "PHL", "role": "host"}, {"code": "USA", "role": "observer"}],
    )
    planned.refresh_from_db()
    assert planned.status == "approved"


@pytest.mark.parametrize(
    "participants, key",
    [
        (["PHL", "phl"], "participants"),
        ([{"code": "ZZZ"}], "participants[0].code"),
        ([{"code": "PHL", "role": "guest"}], "participants[0].role"),
        ([{"code": "PHL", "personnel": 0}], "participants[0].personnel"),
        ([{"code": "PHL", "personnel": "many"}], "participants[0].personnel"),
        ([{"code": "PHL", "flag": "x"}], "participants[0]"),
        ("PHL", "participants"),
    ],
)
def test_participant_rules(editor, partners, frozen_today, participants, key):
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, participants=participants)
    assert key in errors_of(excinfo), errors_of(excinfo)


def test_an_organization_takes_part(editor, partners, frozen_today):
    engagement = _save(
        editor,
        status="approved",
        participants=[{"code": "USA", "role": "host"}, {"code": "nato", "role": "lead"}],
    )
    assert {p.code: p.kind for p in engagement.participants.all()} == {
        "USA": "nation",
        "NATO": "organization",
    }


def test_a_linked_provision_belongs_to_a_linked_agreement(editor, partners, edca, frozen_today):
    provision = ProvisionFactory(agreement=edca)
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, provision_ids=[provision.pk])
    assert "link that agreement too" in errors_of(excinfo)["provisions"][0]
    engagement = _save(editor, agreement_ids=[edca.pk], provision_ids=[provision.pk])
    with pytest.raises(ValidationError) as excinfo:
        engagement_save(engagement=engagement, actor=editor, agreement_ids=[])
    assert "provisions" in errors_of(excinfo)


def test_links_name_only_what_the_writer_may_see(viewer, editor, partners, frozen_today):
    secret = AgreementFactory(classification=Classification.SECRET)
    annex = ProvisionFactory(agreement=AgreementFactory(), classification=Classification.SECRET)
    for kwargs in ({"agreement_ids": [secret.pk]}, {"agreement_ids": [999_999]}):
        with pytest.raises(ValidationError) as excinfo:
            _save(editor, **kwargs)
        message = errors_of(excinfo)["agreements"][0]
        assert message.startswith("No agreement you may see has the id(s)")
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, agreement_ids=[annex.agreement_id], provision_ids=[annex.pk])
    assert "No provision you may see" in errors_of(excinfo)["provisions"][0]


def test_writer_clearance_and_people(viewer, editor, partners, frozen_today):
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, classification="secret")
    assert "classification" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, classification="restricted", owner=viewer)
    assert "owner" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, classification="restricted", watchers=["viewer"])
    assert "watchers" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        _save(editor, watchers=["nobody"])
    assert "watchers" in errors_of(excinfo)
    engagement = _save(editor, owner="editor", watchers=["viewer"])
    assert engagement.owner == editor
    assert list(engagement.watchers.all()) == [viewer]


# Versions and history ---------------------------------------------------------------------


def test_version_moves_once_per_write_and_only_on_change(editor, partners, frozen_today):
    engagement = _save(editor, participants=["PHL", "USA"])
    assert engagement.version == 1
    engagement_save(
        engagement=engagement,
        actor=editor,
        title="Balikatan 2026 (41st)",
        participants=[{"code": "PHL", "role": "host"}, {"code": "USA", "personnel": 9000}],
        latitude="15.18500",
        longitude="120.56",
    )
    engagement.refresh_from_db()
    assert engagement.version == 2
    engagement_save(
        engagement=engagement,
        actor=editor,
        title="Balikatan 2026 (41st)",
        participants=[{"code": "PHL", "role": "host"}, {"code": "USA", "personnel": 9000}],
        latitude="15.185",
        longitude="120.560",
    )
    engagement.refresh_from_db()
    assert engagement.version == 2  # nothing changed: no version, no record
    with pytest.raises(StaleVersion):
        engagement_save(engagement=engagement, actor=editor, expected_version=1, title="Late")
    engagement.refresh_from_db()
    assert engagement.title == "Balikatan 2026 (41st)"
    update = ChangeRecord.objects.get(
        action="update", changed_object_type__model="engagement", changed_object_id=engagement.pk
    )
    assert update.changes["title"] == ["Balikatan 2026", "Balikatan 2026 (41st)"]
    assert update.actor == editor and update.source == "web"


def test_delete_records_and_removes(editor, partners, edca, frozen_today):
    engagement = _save(editor, participants=["PHL", "USA"], agreement_ids=[edca.pk])
    engagement_delete(engagement=engagement, actor=editor, source="test")
    assert not Engagement.objects.exists()
    deleted = ChangeRecord.objects.filter(action="delete", changed_object_id=engagement.pk)
    assert {r.changed_object_type.model for r in deleted} >= {"engagement"}
    record = deleted.get(changed_object_type__model="engagement")
    assert record.changes["agreements"] == [["US-PH-2014-EDCA"], None]
    assert edca.engagements.count() == 0


# Hidden links -----------------------------------------------------------------------------


@pytest.fixture
def linked(registrar, partners, frozen_today):
    """An unclassified engagement linked to an unclassified agreement with one unclassified
    provision, and to a secret agreement with a provision, by a registrar cleared to secret."""
    open_agreement = AgreementFactory(reference="OPEN-1")
    open_provision = ProvisionFactory(agreement=open_agreement, title="Open clause")
    secret_agreement = AgreementFactory(
        reference="SNTLSECRET-REF", classification=Classification.SECRET
    )
    secret_provision = ProvisionFactory(agreement=secret_agreement, title="Hidden clause")
    annex = ProvisionFactory(
        agreement=open_agreement, title="Secret annex", classification=Classification.SECRET
    )
    engagement = _save(
        registrar,
        participants=["PHL", "USA"],
        agreement_ids=[open_agreement.pk, secret_agreement.pk],
        provision_ids=[open_provision.pk, secret_provision.pk, annex.pk],
    )
    return engagement, open_agreement, open_provision, secret_agreement, secret_provision, annex


def test_hidden_links_are_kept_by_an_uncleared_edit(editor, linked):
    engagement, open_agreement, open_provision, secret, secret_provision, annex = linked
    before_secret = engagement.revisions["secret"][0]
    engagement_save(
        engagement=engagement,
        actor=editor,
        title="Renamed",
        agreement_ids=[open_agreement.pk],
        provision_ids=[],
    )
    engagement.refresh_from_db()
    assert set(engagement.agreements.all()) == {open_agreement, secret}
    assert set(engagement.provisions.all()) == {secret_provision, annex}
    assert engagement.revisions["secret"][0] > before_secret
    # The editor's view of the history names no secret link.
    seen = ChangeRecord.objects.about(engagement).visible_to(editor)
    text = str([r.changes for r in seen])
    assert "SNTLSECRET" not in text and "Secret annex" not in text and "Hidden clause" not in text
    assert "Open clause" in text  # the visible provision the editor unlinked


def test_unlinking_the_agreement_of_a_hidden_provision_is_refused(editor, linked):
    engagement, open_agreement, *_ = linked
    with pytest.raises(ValidationError) as excinfo:
        engagement_save(engagement=engagement, actor=editor, agreement_ids=[])
    assert "Provisions you may not see" in errors_of(excinfo)["agreements"][0]


def test_history_of_a_hidden_link_is_classified_at_its_level(registrar, editor, viewer, linked):
    engagement, *_ = linked
    visible_to_viewer = ChangeRecord.objects.about(engagement).visible_to(viewer)
    assert visible_to_viewer.filter(changed_object_type__model="engagement").count() == 1
    text = str([r.changes for r in visible_to_viewer])
    assert "SNTLSECRET" not in text and "Secret annex" not in text
    assert "OPEN-1" in text
    secret_records = ChangeRecord.objects.about(engagement).filter(classification="secret")
    assert secret_records.count() == 1
    assert "SNTLSECRET-REF" in secret_records.get().changes["agreements"][1]


def test_a_hidden_change_does_not_move_the_uncleared_version(registrar, viewer, linked):
    engagement, open_agreement, open_provision, secret, secret_provision, annex = linked
    seen = engagement.version_for(viewer)
    engagement_save(
        engagement=engagement,
        actor=registrar,
        agreement_ids=[open_agreement.pk, secret.pk],
        provision_ids=[open_provision.pk, annex.pk],  # the secret provision unlinked
    )
    engagement.refresh_from_db()
    assert engagement.version_for(viewer) == seen
    assert engagement.version_for(registrar) == engagement.version > seen


def test_delete_is_refused_with_hidden_links(editor, registrar, linked):
    engagement, *_ = linked
    with pytest.raises(PermissionDenied):
        engagement_delete(engagement=engagement, actor=editor)
    assert Engagement.objects.filter(pk=engagement.pk).exists()
    engagement_delete(engagement=engagement, actor=registrar)
    assert not Engagement.objects.filter(pk=engagement.pk).exists()
    # The deletion is seen by everyone who saw the engagement; its secret links only by the
    # cleared.
    deleted = ChangeRecord.objects.filter(action="delete", changed_object_id=engagement.pk)
    record = deleted.get(changed_object_type__model="engagement")
    assert record.classification == "unclassified"
    assert "SNTLSECRET" not in str(record.changes)


def test_visible_to(viewer, registrar, partners, frozen_today):
    open_one = _save(registrar, title="Open")
    _save(registrar, title="Secret", classification="secret")
    assert list(Engagement.objects.visible_to(viewer)) == [open_one]
    assert Engagement.objects.visible_to(registrar).count() == 2


def test_raising_the_classification_raises_its_history(registrar, viewer, partners, frozen_today):
    engagement = _save(registrar, participants=["PHL", "USA"])
    engagement_save(engagement=engagement, actor=registrar, classification="confidential")
    assert not ChangeRecord.objects.about(engagement).visible_to(viewer).exists()
