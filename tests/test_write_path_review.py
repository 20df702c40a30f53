"""Findings of a hostile review of the write path, each pinned: versions a reader sees,
history after renames and deletes, children that stay with their agreement, odd input."""

import datetime

import pytest

from agreements.models import Agreement, Review
from agreements.services import agreement_delete, agreement_save, provision_save, review_record
from history.models import ChangeRecord

from .api_helpers import client_for
from .factories import AgreementFactory
from .formscrape import form_data


def _etag(user, agreement):
    r = client_for(user).get(f"/api/v1/agreements/{agreement.pk}/")
    assert r.status_code == 200, r.content
    return r["ETag"], r.json()


def test_a_provision_lowered_into_view_moves_the_readers_etag(partners, viewer, registrar):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    annex = provision_save(
        agreement=agreement,
        actor=registrar,
        category="training",
        title="Annex",
        classification="secret",
    )
    before, body = _etag(viewer, agreement)
    assert body["provisions"] == []
    provision_save(
        provision=annex, agreement=agreement, actor=registrar, classification="unclassified"
    )
    after, body = _etag(viewer, agreement)
    assert len(body["provisions"]) == 1  # the viewer now sees a new provision
    assert after != before, "ETag unchanged although the visible provisions changed"


def test_a_provision_raised_out_of_view_moves_the_readers_etag(partners, viewer, registrar):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    p = provision_save(
        agreement=agreement,
        actor=registrar,
        category="training",
        title="Open",
        classification="unclassified",
    )
    before, body = _etag(viewer, agreement)
    assert len(body["provisions"]) == 1
    provision_save(provision=p, agreement=agreement, actor=registrar, classification="secret")
    after, body = _etag(viewer, agreement)
    assert body["provisions"] == []
    assert after != before, "ETag unchanged although a visible provision vanished"


def test_a_classification_round_trip_never_repeats_an_etag(partners, viewer, registrar):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]], title="Old title")
    agreement_save(agreement=agreement, actor=registrar, summary="x")  # start revisions
    before, body = _etag(viewer, agreement)
    agreement_save(agreement=agreement, actor=registrar, classification="secret")
    agreement_save(agreement=agreement, actor=registrar, title="Changed while secret")
    agreement_save(agreement=agreement, actor=registrar, classification="unclassified")
    after, body = _etag(viewer, agreement)
    assert body["title"] == "Changed while secret"
    assert after != before, f"same ETag {after} for a different title"


def test_an_if_match_from_before_a_classification_round_trip_is_stale(
    partners, viewer, registrar, editor
):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]], title="Old title")
    agreement_save(agreement=agreement, actor=registrar, summary="x")
    before, body = _etag(editor, agreement)
    agreement_save(agreement=agreement, actor=registrar, classification="secret")
    agreement_save(agreement=agreement, actor=registrar, summary="Written while secret")
    agreement_save(agreement=agreement, actor=registrar, classification="unclassified")
    r = client_for(editor).patch(
        f"/api/v1/agreements/{agreement.pk}/",
        {"summary": "editor's stale edit"},
        format="json",
        HTTP_IF_MATCH=before,
    )
    assert r.status_code == 412, (r.status_code, "stale If-Match accepted: lost update")


def test_deleting_a_superseded_agreement_records_the_cleared_link(partners, viewer, registrar):
    target = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    a = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_save(agreement=a, actor=registrar, supersedes=target)
    before, body = _etag(viewer, a)
    assert body["supersedes"]["id"] == target.pk
    n = ChangeRecord.objects.about(a).count()
    agreement_delete(agreement=target, actor=registrar)
    after, body = _etag(viewer, a)
    assert body["supersedes"] is None
    assert ChangeRecord.objects.about(a).count() > n, "link cleared without history on a"
    assert after != before, "link cleared without version change"


def test_raising_an_agreement_hides_every_reference_it_had(partners, viewer, registrar):
    target = AgreementFactory(parties=[partners["USA"], partners["PHL"]], reference="OLD-REF")
    a = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement_save(agreement=a, actor=registrar, supersedes=target)
    agreement_save(agreement=target, actor=registrar, reference="NEW-REF")
    agreement_save(agreement=target, actor=registrar, classification="secret")
    r = client_for(viewer).get(f"/api/v1/agreements/{a.pk}/history/")
    assert "OLD-REF" not in r.content.decode(), r.content.decode()


def test_a_review_cannot_be_moved_to_another_agreement_in_the_admin(
    client, partners, viewer, registrar
):
    secret = AgreementFactory(
        parties=[partners["USA"], partners["PHL"]], reference="S-ZULU", classification="secret"
    )
    open_ = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    review = review_record(
        agreement=secret,
        reviewed_on=datetime.date(2026, 1, 1),
        outcome=Review._meta.get_field("outcome").choices[0][0],
        notes="secret notes",
        actor=registrar,
    )
    client.force_login(registrar)
    url = f"/admin/agreements/review/{review.pk}/change/"
    data = form_data(client.get(url).content.decode(), "review_form")
    data["agreement"] = str(open_.pk)
    data["notes"] = "Secret assessment: COBRA"
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    review.refresh_from_db()
    assert review.agreement_id == secret.pk  # the agreement is read-only on the change form
    body = client_for(viewer).get(f"/api/v1/agreements/{open_.pk}/history/").content.decode()
    assert "COBRA" not in body and "S-ZULU" not in body, body


def test_a_provision_cannot_be_moved_to_another_agreement_in_the_admin(client, partners, registrar):
    a = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    b = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    p = provision_save(agreement=a, actor=registrar, category="training", title="T")
    client.force_login(registrar)
    url = f"/admin/agreements/provision/{p.pk}/change/"
    data = form_data(client.get(url).content.decode(), "provision_form")
    data["agreement"] = str(b.pk)
    client.raise_request_exception = False
    r = client.post(url, data)
    assert r.status_code in (200, 302), r.status_code
    p.refresh_from_db()
    assert p.agreement_id == a.pk


@pytest.mark.parametrize(
    "payload",
    [
        {"provisions": "DUP"},
        {"provisions": [{"id": 10**12, "category": "training", "title": "x"}]},
        {"parties": [{"code": "USA"}, {"code": "USA"}]},
        {
            "parties": [
                {"code": "USA", "signed_on": "2015-01-01"},
                {"code": "PHL", "withdrawn_on": "2010-01-01"},
            ]
        },
        {"reminder_offsets": {"expiry": [[1]]}},
        {"reminder_offsets": [1, 2]},
        {"reminder_offsets": {"expiry": [10**30]}},
        {"supersedes": 10**12},
        {"watchers": ["nobody"]},
        {"classification": "secret"},
        {"status": "in_force", "entered_into_force_on": None},
        {"auto_renews": True},
        {"notice_period_days": 10**9},
        {"reference": "x" * 64},
        {"provisions": [{"category": "training", "title": "a", "classification": "bogus"}]},
        {"provisions": [{"category": "training", "title": "a" * 10000}]},
    ],
)
def test_odd_patch_shapes_are_refused_not_500(partners, editor, payload):
    a = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    p = provision_save(agreement=a, actor=editor, category="training", title="T")
    if payload.get("provisions") == "DUP":
        payload = {
            "provisions": [
                {"id": p.pk, "category": "training", "title": "T"},
                {"id": p.pk, "category": "training", "title": "T2"},
            ]
        }
    c = client_for(editor)
    c.raise_request_exception = False
    r = c.patch(f"/api/v1/agreements/{a.pk}/", payload, format="json")
    assert r.status_code < 500, (r.status_code, r.content[:500])


def test_admin_inline_rows_with_tampered_ids_change_nothing(client, partners, editor, registrar):
    a = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    other = AgreementFactory(parties=[partners["GBR"], partners["FRA"]])
    secret_p = provision_save(
        agreement=a,
        actor=registrar,
        category="training",
        title="S",
        text="secret",
        classification="secret",
    )
    other_p = provision_save(agreement=other, actor=registrar, category="training", title="O")
    client.force_login(editor)
    client.raise_request_exception = False
    url = f"/admin/agreements/agreement/{a.pk}/change/"
    base = form_data(client.get(url).content.decode(), "agreement_form")
    results = []
    for target in (secret_p, other_p):
        data = dict(base)
        data["provisions-TOTAL_FORMS"] = "1"
        data["provisions-INITIAL_FORMS"] = "1"
        data["provisions-0-id"] = str(target.pk)
        data["provisions-0-agreement"] = str(a.pk)
        data["provisions-0-category"] = "training"
        data["provisions-0-classification"] = "unclassified"
        data["provisions-0-title"] = "hijack"
        data["provisions-0-text"] = "hijack"
        r = client.post(url, data)
        results.append(r.status_code)
    secret_p.refresh_from_db()
    other_p.refresh_from_db()
    assert secret_p.text == "secret" and other_p.title == "O"
    assert all(s < 500 for s in results), results
    # party row: id of another agreement's party
    data = dict(base)
    op = other.parties.first()
    data["parties-0-id"] = str(op.pk)
    r = client.post(url, data)
    assert r.status_code < 500
    assert other.parties.count() == 2


def test_deleting_a_parent_with_a_hidden_child_is_refused_without_naming_it(
    client, partners, editor, registrar
):
    parent = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    child = AgreementFactory(parties=[partners["USA"], partners["PHL"]], classification="secret")
    agreement_save(agreement=child, actor=registrar, parent=parent)
    client.force_login(editor)
    client.raise_request_exception = False
    url = f"/admin/agreements/agreement/{parent.pk}/delete/"
    g = client.get(url)
    r = client.post(url, {"post": "yes"})
    assert r.status_code < 500, r.status_code
    assert Agreement.objects.filter(pk=parent.pk).exists()
    assert child.reference not in g.content.decode(), g.content.decode()[-3000:]
