"""Engagements: the service's rules, history and versions, hidden links kept, clearance on
every path of the API, the shared filters, the export and the query counts."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.choices import Classification
from accounts.groups import REGISTRY_ADMINS
from engagements.models import Engagement
from engagements.services import StaleVersion, engagement_delete, engagement_save
from history.models import ChangeRecord

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory, UserFactory

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


# The API ----------------------------------------------------------------------------------

URL = "/api/v1/engagements/"


def detail_url(engagement) -> str:
    return f"{URL}{engagement.pk}/"


def body(**overrides) -> dict:
    data = {
        "title": "Balikatan 2026",
        "kind": "exercise",
        "status": "approved",
        "starts_on": "2026-04-20",
        "ends_on": "2026-05-09",
        "location_nation": "PHL",
        "participants": [{"code": "PHL", "role": "host"}, {"code": "USA", "role": "lead"}],
    }
    return {**data, **overrides}


def test_api_create_read_update(editor, viewer, partners, edca, frozen_today):
    provision = ProvisionFactory(agreement=edca, category="joint_exercises")
    c = client_for(editor)
    response = c.post(
        URL,
        body(
            agreements=[edca.pk], provisions=[provision.pk], latitude="15.185", longitude="120.56"
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert response["ETag"] == '"1"'
    assert data["location_nation"] == {"code": "PHL", "name": "Philippines"}
    assert [p["code"] for p in data["participants"]] == ["PHL", "USA"]
    assert data["agreements"][0]["reference"] == "US-PH-2014-EDCA"
    assert data["provisions"][0]["agreement"]["id"] == edca.pk
    assert data["latitude"] == "15.18500"
    engagement = Engagement.objects.get()

    read = client_for(viewer).get(detail_url(engagement))
    assert read.status_code == 200 and read["ETag"] == '"1"'

    patched = c.patch(
        detail_url(engagement), {"summary": "Annual."}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert patched.status_code == 200, patched.json()
    assert patched["ETag"] == '"2"' and patched.json()["summary"] == "Annual."
    # Unchanged: participants and links stay when not given.
    assert len(patched.json()["participants"]) == 2 and patched.json()["agreements"]

    stale = c.patch(
        detail_url(engagement), {"summary": "Late."}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412
    assert Engagement.objects.get().summary == "Annual."
    bad = c.patch(detail_url(engagement), {"summary": "x"}, format="json", HTTP_IF_MATCH="abc")
    assert bad.status_code == 412

    put = c.put(detail_url(engagement), body(title="Balikatan 41"), format="json")
    assert put.status_code == 200
    assert put.json()["summary"] == ""  # a PUT resets what it leaves out
    assert put.json()["agreements"]  # links it does not name stay


def test_api_validation_errors_name_the_field(editor, partners, edca, frozen_today):
    c = client_for(editor)
    cases = [
        (body(ends_on="2026-01-01"), "ends_on"),
        (body(latitude="95", longitude="10"), "latitude"),
        (body(kind="parade"), "kind"),
        (body(participants=[{"code": "PHL", "role": "host"}]), "participants"),
        (body(participants=[{"code": "XXX"}, {"code": "USA"}]), "participants[0].code"),
        (body(participants=[{"code": "PHL", "personnel": -1}]), "participants[0].personnel"),
        (body(agreements=[999_999]), "agreements"),
        (body(agreements=["abc"]), "agreements[0]"),
        (body(provisions=[ProvisionFactory(agreement=edca).pk]), "provisions"),
        (body(status="completed", ends_on="2026-07-01"), "ends_on"),
        (body(outcome="met"), "outcome"),
        (body(location_nation="ZZZ"), "location_nation"),
        (body(owner="nobody"), "owner"),
        (body(classification="secret"), "classification"),
    ]
    for data, key in cases:
        response = c.post(URL, data, format="json")
        assert response.status_code == 400, (key, response.status_code)
        assert key in response.json(), (key, response.json())
    assert not Engagement.objects.exists()


def test_api_clearance(viewer, editor, registrar, partners, frozen_today):
    secret = _save(registrar, title="SNTLSECRET exercise", classification="secret")
    open_one = _save(registrar, title="Open exercise")
    viewer_client = client_for(viewer)
    listed = viewer_client.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [open_one.pk]
    missing = viewer_client.get(f"{URL}999999/")
    hidden = viewer_client.get(detail_url(secret))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    # Writes on a hidden engagement are a 404 and change nothing.
    low_registrar = UserFactory(
        username="low_registrar", group=REGISTRY_ADMINS, clearance="confidential"
    )
    for who, method in ((editor, "put"), (editor, "patch"), (low_registrar, "delete")):
        response = getattr(client_for(who), method)(detail_url(secret), body(), format="json")
        assert response.status_code == 404, method
    secret.refresh_from_db()
    assert secret.version == 1 and secret.title == "SNTLSECRET exercise"
    # The viewer may read but not write.
    assert (
        viewer_client.patch(detail_url(open_one), {"title": "x"}, format="json").status_code == 403
    )
    assert viewer_client.post(URL, body(), format="json").status_code == 403


def test_api_hides_and_keeps_links_above_clearance(editor, linked):
    engagement, open_agreement, open_provision, secret, secret_provision, annex = linked
    c = client_for(editor)
    response = c.get(detail_url(engagement))
    text = response.content.decode()
    assert "SNTLSECRET" not in text and "Secret annex" not in text and "Hidden clause" not in text
    assert [a["reference"] for a in response.json()["agreements"]] == ["OPEN-1"]
    # A hidden agreement id is refused like a missing one.
    for agreement_id in (secret.pk, 999_999):
        refused = c.patch(detail_url(engagement), {"agreements": [agreement_id]}, format="json")
        assert refused.status_code == 400
        assert refused.json()["agreements"] == [
            f"No agreement you may see has the id(s): {agreement_id}."
        ]
    # An edit by the editor keeps the links they may not see.
    kept = c.patch(
        detail_url(engagement),
        {"agreements": [open_agreement.pk], "provisions": [open_provision.pk], "title": "New"},
        format="json",
    )
    assert kept.status_code == 200
    assert set(engagement.agreements.all()) == {open_agreement, secret}
    assert set(engagement.provisions.all()) == {open_provision, secret_provision, annex}
    # Deleting it is refused: the hidden links would go unseen.
    low_registrar = UserFactory(
        username="low_registrar", group=REGISTRY_ADMINS, clearance="confidential"
    )
    refused = client_for(low_registrar).delete(detail_url(engagement))
    assert refused.status_code == 409 and "above your clearance" in refused.json()["detail"]
    assert Engagement.objects.filter(pk=engagement.pk).exists()


def test_api_delete(editor, registrar, partners, frozen_today):
    engagement = _save(registrar, participants=["PHL", "USA"])
    assert client_for(editor).delete(detail_url(engagement)).status_code == 403  # no permission
    assert client_for(registrar).delete(detail_url(engagement)).status_code == 204
    assert not Engagement.objects.exists()


# Filters ----------------------------------------------------------------------------------


@pytest.fixture
def calendar_of(registrar, partners, edca, frozen_today):
    """Four engagements in 2024-2026 with different partners, kinds and links."""
    training = ProvisionFactory(agreement=edca, category="training")
    nato_agreement = AgreementFactory(reference="NATO-1", parties=[partners["NATO"]])
    made = {
        "balikatan": _save(
            registrar,
            title="Balikatan 2024",
            starts_on=datetime.date(2024, 4, 22),
            ends_on=datetime.date(2024, 5, 10),
            participants=[{"code": "PHL", "role": "host"}, "USA"],
            agreement_ids=[edca.pk],
            provision_ids=[training.pk],
            domain="joint",
            location="Luzon",
        ),
        "visit": _save(
            registrar,
            title="Chief of staff visit",
            kind="senior_leader_visit",
            status="planned",
            starts_on=datetime.date(2025, 2, 3),
            ends_on=None,
            participants=[{"code": "COL", "role": "host"}, "USA"],
        ),
        "steadfast": _save(
            registrar,
            title="Steadfast exercise",
            starts_on=datetime.date(2026, 1, 10),
            ends_on=datetime.date(2026, 3, 1),
            participants=[{"code": "NATO", "role": "lead"}, "GBR", "FRA"],
            agreement_ids=[nato_agreement.pk],
            domain="maritime",
            summary="Reinforcement of the alliance.",
        ),
        "secret": _save(
            registrar,
            title="Quiet talks",
            kind="staff_talks",
            classification="secret",
            starts_on=datetime.date(2025, 6, 1),
            participants=[{"code": "PHL", "role": "host"}, "JPN"],
            agreement_ids=[edca.pk],
        ),
    }
    from partners.models import Membership

    Membership.objects.create(
        nation=partners["GBR"], organization=partners["NATO"], joined_on=datetime.date(1949, 8, 24)
    )
    return made


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["title"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["Steadfast exercise", "Chief of staff visit", "Balikatan 2024"]),
        ("partner=PHL", ["Balikatan 2024"]),
        ("partner=Philippines", ["Balikatan 2024"]),
        ("partner=USA,PHL", ["Balikatan 2024"]),
        ("partner=usa", ["Chief of staff visit", "Balikatan 2024"]),
        ("partner=NATO", ["Steadfast exercise"]),
        ("organization=NATO", ["Steadfast exercise"]),
        ("kind=senior_leader_visit,staff_visit", ["Chief of staff visit"]),
        ("status=planned", ["Chief of staff visit"]),
        ("domain=maritime", ["Steadfast exercise"]),
        ("agreement=US-PH-2014-EDCA", ["Balikatan 2024"]),
        ("agreement=us-ph-2014-edca,NATO-1", ["Steadfast exercise", "Balikatan 2024"]),
        ("provision_category=training", ["Balikatan 2024"]),
        ("starts_after=2025-01-01", ["Steadfast exercise", "Chief of staff visit"]),
        ("starts_before=2024-12-31", ["Balikatan 2024"]),
        ("ends_after=2025-02-03&ends_before=2025-02-03", ["Chief of staff visit"]),
        ("ends_before=2024-05-10", ["Balikatan 2024"]),
        ("q=alliance", ["Steadfast exercise"]),
        ("q=LUZON", ["Balikatan 2024"]),
        ("ordering=title", ["Balikatan 2024", "Chief of staff visit", "Steadfast exercise"]),
        ("ordering=-ends_on", ["Steadfast exercise", "Chief of staff visit", "Balikatan 2024"]),
    ],
)
def test_filters(viewer, calendar_of, query, expected):
    assert titles(client_for(viewer).get(f"{URL}?{query}")) == expected


def test_filter_by_agreement_id_and_the_secret_one_for_the_cleared(registrar, calendar_of, edca):
    got = titles(client_for(registrar).get(f"{URL}?agreement={edca.pk}"))
    assert got == ["Quiet talks", "Balikatan 2024"]


@pytest.mark.parametrize(
    "query, param",
    [
        ("kind=parade", "kind"),
        ("partner=ZZZ", "partner"),
        ("organization=NOPE", "organization"),
        ("agreement=NO-SUCH", "agreement"),
        ("provision_category=nonsense", "provision_category"),
        ("starts_after=2024-13-01", "starts_after"),
        ("ordering=colour", "ordering"),
        ("partners=PHL", "partners"),
    ],
)
def test_bad_filters_are_400s_naming_the_parameter(viewer, calendar_of, query, param):
    response = client_for(viewer).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert param in response.json()


def test_a_hidden_agreement_is_an_unknown_filter_value(viewer, partners, frozen_today):
    secret = AgreementFactory(reference="SNTLSECRET-1", classification="secret")
    hidden = client_for(viewer).get(f"{URL}?agreement={secret.pk}")
    missing = client_for(viewer).get(f"{URL}?agreement=999999")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["agreement"][0].replace(str(secret.pk), "N") == missing.json()[
        "agreement"
    ][0].replace("999999", "N")


# Export -----------------------------------------------------------------------------------


def test_export_is_the_filtered_list_as_csv(analyst, viewer, calendar_of):
    response = client_for(analyst).get(f"{URL}export/?partner=PHL")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,title,kind,status,classification,starts_on")
    assert len(lines) == 3  # the analyst is cleared for the secret one
    assert "PHL:host;USA:participant" in lines[-1]
    assert "US-PH-2014-EDCA" in lines[-1] and "training" in lines[-1]
    assert client_for(viewer).get(f"{URL}export/").status_code == 403  # no export permission
    assert client_for(analyst).get(f"{URL}export/?kind=x").status_code == 400


def test_export_hides_links_above_clearance(editor, linked):
    engagement, *_ = linked
    response = client_for(editor).get(f"{URL}export/")
    text = b"".join(response.streaming_content).decode()
    assert "OPEN-1" in text and "SNTLSECRET" not in text


# Query counts -----------------------------------------------------------------------------


def _make_engagements(n, registrar, partners, agreement):
    for i in range(n):
        provision = ProvisionFactory(agreement=agreement)
        _save(
            registrar,
            title=f"Exercise {i}",
            participants=[{"code": "PHL", "role": "host"}, "USA", "NATO"],
            agreement_ids=[agreement.pk],
            provision_ids=[provision.pk],
            location_nation="PHL",
            watchers=["registrar"],
        )


@pytest.mark.parametrize("path", [URL, f"{URL}export/", f"{URL}?partner=PHL&q=exercise"])
def test_query_count_does_not_grow(registrar, partners, edca, frozen_today, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(registrar)
    counts = []
    for n in (1, 99):
        _make_engagements(n, registrar, partners, edca)
        with CaptureQueriesContext(connection) as queries:
            response = c.get(path, {"page_size": 500} if "export" not in path else {})
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


# The admin --------------------------------------------------------------------------------


def _admin_form(client, url) -> dict:
    from .formscrape import form_data

    page = client.get(url)
    assert page.status_code == 200
    return form_data(page.content.decode(), "engagement_form")


def test_admin_add_and_change_through_the_service(client, editor, partners, edca, frozen_today):
    client.force_login(editor)
    data = _admin_form(client, "/admin/engagements/engagement/add/")
    data.update(
        {
            "title": "Cope Thunder",
            "kind": "exercise",
            "status": "approved",
            "classification": "unclassified",
            "starts_on": "2026-07-01",
            "ends_on": "2026-07-14",
            "agreements": [str(edca.pk)],
            "participants-0-nation": str(partners["PHL"].pk),
            "participants-0-role": "host",
            "participants-1-nation": str(partners["USA"].pk),
            "participants-1-role": "participant",
            "participants-1-personnel": "300",
        }
    )
    response = client.post("/admin/engagements/engagement/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    engagement = Engagement.objects.get()
    assert engagement.version == 1 and list(engagement.agreements.all()) == [edca]
    assert {p.code: p.personnel for p in engagement.participants.all()} == {"PHL": None, "USA": 300}
    record = ChangeRecord.objects.get(action="create", changed_object_type__model="engagement")
    assert record.source == "admin" and record.actor == editor

    # A rule of the service, on the field it names, and nothing saved.
    url = f"/admin/engagements/engagement/{engagement.pk}/change/"
    data = _admin_form(client, url)
    data["participants-1-role"] = "host"  # (editors may not delete rows: no such permission)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "besides the host" in response.content.decode()
    assert set(engagement.participants.values_list("role", flat=True)) == {"host", "participant"}
    # The history is on the change form.
    assert "Change history" in client.get(url).content.decode()


def test_admin_keeps_hidden_links_and_offers_only_visible_choices(client, editor, linked):
    engagement, open_agreement, open_provision, secret, secret_provision, annex = linked
    client.force_login(editor)
    url = f"/admin/engagements/engagement/{engagement.pk}/change/"
    page = client.get(url).content.decode()
    assert "SNTLSECRET" not in page and "Secret annex" not in page and "Hidden clause" not in page
    data = _admin_form(client, url)
    data["title"] = "Renamed in the admin"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    engagement.refresh_from_db()
    assert engagement.title == "Renamed in the admin"
    assert set(engagement.agreements.all()) == {open_agreement, secret}
    assert set(engagement.provisions.all()) == {open_provision, secret_provision, annex}
    # A hidden agreement posted is refused like a missing one.
    data = _admin_form(client, url)
    data["agreements"] = [str(open_agreement.pk), str(secret.pk)]
    response = client.post(url, data)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_admin_hides_engagements_above_clearance(client, editor, registrar, partners, frozen_today):
    secret = _save(registrar, title="SNTLSECRET talks", classification="secret")
    client.force_login(editor)
    assert "SNTLSECRET" not in client.get("/admin/engagements/engagement/").content.decode()
    assert client.get(f"/admin/engagements/engagement/{secret.pk}/change/").status_code == 404
