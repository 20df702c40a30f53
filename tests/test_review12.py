"""Review of issue 12 (engagements, attaché postings): each test here failed before its fix."""

from __future__ import annotations

import datetime

import pytest

from agreements.services import agreement_save, provision_save
from engagements.services import engagement_delete, engagement_save
from history.models import ChangeRecord

from .factories import AgreementFactory, ProvisionFactory

pytestmark = pytest.mark.django_db


def _save(actor, **kwargs):
    kwargs.setdefault("title", "Balikatan 2026")
    kwargs.setdefault("kind", "exercise")
    kwargs.setdefault("starts_on", datetime.date(2026, 4, 20))
    kwargs.setdefault("ends_on", datetime.date(2026, 5, 9))
    kwargs.setdefault("participants", ["PHL", "USA"])
    return engagement_save(actor=actor, source="test", **kwargs)


def _history_seen_by(user, engagement) -> str:
    return str([r.changes for r in ChangeRecord.objects.about(engagement).visible_to(user)])


# History of links to a record classified higher later ---------------------------------------


def test_an_agreement_classified_higher_leaves_no_trace_in_engagement_history(
    registrar, viewer, partners, frozen_today
):
    agreement = AgreementFactory(reference="LATER-SECRET")
    provision = ProvisionFactory(agreement=agreement, title="Clause of it")
    engagement = _save(registrar, agreement_ids=[agreement.pk], provision_ids=[provision.pk])
    assert "LATER-SECRET" in _history_seen_by(viewer, engagement)
    provision_save(
        provision=provision, agreement=agreement, actor=registrar, classification="secret"
    )
    agreement_save(agreement=agreement, actor=registrar, classification="secret")
    seen = _history_seen_by(viewer, engagement)
    assert "LATER-SECRET" not in seen and "Clause of it" not in seen
    # The cleared still read it all.
    assert "LATER-SECRET" in _history_seen_by(registrar, engagement)


def test_a_provision_classified_higher_leaves_no_trace_in_engagement_history(
    registrar, viewer, partners, frozen_today
):
    agreement = AgreementFactory(reference="OPEN-A")
    provision = ProvisionFactory(agreement=agreement, title="Becomes secret")
    other = ProvisionFactory(agreement=agreement, title="Stays open")
    engagement = _save(registrar, agreement_ids=[agreement.pk], provision_ids=[provision.pk])
    later = _save(
        registrar, title="Another", agreement_ids=[agreement.pk], provision_ids=[other.pk]
    )
    provision_save(
        provision=provision, agreement=agreement, actor=registrar, classification="secret"
    )
    assert "Becomes secret" not in _history_seen_by(viewer, engagement)
    assert "Stays open" in _history_seen_by(viewer, later)  # only the records naming it rise
    # Through the agreement's own write too, and a deleted engagement's last record.
    engagement_delete(engagement=later, actor=registrar)
    agreement_save(
        agreement=agreement,
        actor=registrar,
        provisions=[
            {f: getattr(p, f) for f in ("id", "category", "title", "article", "text")}
            | {"classification": "confidential" if p == other else p.classification}
            for p in agreement.provisions.all()
        ],
    )
    deleted = ChangeRecord.objects.filter(action="delete", changed_object_type__model="engagement")
    assert not deleted.visible_to(viewer).filter(changes__has_key="provisions").exists()


# Ids too large for the database: a 400 or an error by line, never a crash ---------------------


def test_ids_too_large_for_the_database_are_errors(editor, partners, frozen_today, tmp_path):
    from django.core.exceptions import ValidationError

    from agreements.importers import ImportFailed
    from engagements.importers import import_file

    from .api_helpers import client_for

    huge = 10**30
    agreement = AgreementFactory(reference="US-PH-2014-EDCA")
    for links in ({"agreement_ids": [huge]}, {"contact_ids": [huge]}):
        with pytest.raises(ValidationError):
            _save(editor, **links)
    with pytest.raises(ValidationError) as excinfo:
        agreement_save(agreement=agreement, actor=editor, contact_ids=[huge])
    assert "contact_ids" in excinfo.value.message_dict
    response = client_for(editor).patch(
        f"/api/v1/agreements/{agreement.pk}/", {"contacts": [huge]}, format="json"
    )
    assert response.status_code == 400 and "contacts[0]" in response.json()

    base = '{"title": "Talks", "kind": "staff_talks", "starts_on": "2026-09-01", '
    path = tmp_path / "engagements.jsonl"
    path.write_text(
        "\n".join(
            base + tail
            for tail in (
                f'"agreements": [{huge}]}}',
                f'"contacts": [{huge}]}}',
                f'"provisions": [{{"agreement": {huge}, "category": "training"}}]}}',
            )
        )
    )
    with pytest.raises(ImportFailed) as failed:
        import_file(path)
    result = failed.value.result
    assert [number for number, _ in result.errors] == [1, 2, 3]
    assert all("not an id" in message for _, message in result.errors), result.errors


def test_a_title_with_spaces_around_is_imported_once(partners, frozen_today, tmp_path):
    from engagements.importers import import_file
    from engagements.models import Engagement

    path = tmp_path / "engagements.jsonl"
    path.write_text(
        '{"title": "  Staff talks ", "kind": "staff_talks", "starts_on": "2026-09-01"}\n'
    )
    import_file(path)
    second = import_file(path)
    assert second.counts["skipped"] == 1
    assert list(Engagement.objects.values_list("title", flat=True)) == ["Staff talks"]


# Postings ----------------------------------------------------------------------------------


def test_a_posting_over_before_this_one_ends_is_no_successor(partners, frozen_today, settings):
    from agreements.reminders import reminders_plan
    from partners.models import Posting
    from partners.services import point_of_contact_save

    settings.POSTINGS_OFFICE_EMAIL = "office@example.org"

    def attache(name, start, end):
        point_of_contact_save(
            name=name,
            role="defense_attache",
            represents="USA",
            postings=[{"code": "PHL", "active_from": start, "active_to": end}],
        )

    attache("Long serving", "2020-01-01", "2026-08-01")  # ends in 47 days
    attache("Stand-in", "2021-01-01", "2021-06-30")  # began later, long over
    attache("Overlapping", "2022-01-01", "2026-08-01")  # began later, ends the same day
    plans = reminders_plan(today=frozen_today)
    assert sorted(p.subject.contact.name for p in plans) == ["Long serving", "Overlapping"]
    long_serving = Posting.objects.get(contact__name="Long serving")
    assert not long_serving.has_successor()
    attache("Next", "2026-07-15", None)  # takes over: both have their successor
    assert reminders_plan(today=frozen_today) == [] and long_serving.has_successor()


def test_swapping_two_postings_is_an_error_not_a_crash(editor, partners, frozen_today):
    from partners.services import point_of_contact_save

    from .api_helpers import client_for

    contact = point_of_contact_save(
        name="Col X",
        role="defense_attache",
        represents="USA",
        postings=[
            {"code": "PHL", "active_from": "2025-01-01"},
            {"code": "JPN", "active_from": "2025-01-01"},
        ],
    )
    jpn, phl = sorted(contact.postings.all(), key=lambda p: p.code)
    swapped = [
        {"id": jpn.pk, "code": "PHL", "active_from": "2025-01-01"},
        {"id": phl.pk, "code": "JPN", "active_from": "2025-01-01"},
    ]
    url = f"/api/v1/points-of-contact/{contact.pk}/"
    response = client_for(editor).patch(url, {"postings": swapped}, format="json")
    assert response.status_code == 400, response.content
    assert "postings[0]" in response.json()
    assert sorted(contact.postings.values_list("pk", "nation__iso3")) == sorted(
        [(jpn.pk, "JPN"), (phl.pk, "PHL")]
    )
    # One moving onto a place another leaves in the same write, listed first: written.
    moved = [
        {"id": jpn.pk, "code": "PHL", "active_from": "2025-01-01"},
        {"id": phl.pk, "code": "PHL", "active_from": "2024-06-01"},
    ]
    response = client_for(editor).patch(url, {"postings": moved}, format="json")
    assert response.status_code == 200, response.content
    assert sorted(contact.postings.values_list("pk", "active_from")) == sorted(
        [(jpn.pk, datetime.date(2025, 1, 1)), (phl.pk, datetime.date(2024, 6, 1))]
    )
