"""Writes through /api/v1/: all or nothing, errors by field, ETag and If-Match, history."""

import threading

import pytest
from django.db import connection

from agreements.models import Agreement, AgreementParty, Provision
from history.models import ChangeRecord

from .api_helpers import client_for
from .factories import AgreementFactory

NEW = {
    "title": "Enhanced Defense Cooperation Agreement",
    "type": "dca",
    "status": "in_force",
    "signed_on": "2014-04-28",
    "entered_into_force_on": "2014-06-25",
    "parties": [
        {"code": "USA"},
        {"code": "phl", "entered_into_force_on": "2014-06-25"},
    ],
    "provisions": [
        {"category": "training", "title": "Training", "text": "Joint training."},
        {"category": "access", "title": "Agreed locations"},
    ],
}


def test_editor_creates_with_parties_and_provisions(partners, editor):
    NEW["provisions"][1]["category"] = "basing"
    response = client_for(editor).post("/api/v1/agreements/", NEW, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("DCA-2014-")
    assert [p["code"] for p in body["parties"]] == ["USA", "PHL"]
    assert body["parties"][1]["entered_into_force_on"] == "2014-06-25"
    assert sorted(body["provision_categories"]) == ["basing", "training"]
    assert response["ETag"] == '"1"'
    created = ChangeRecord.objects.get(
        changed_object_type__model="agreement", changed_object_id=body["id"]
    )
    assert created.actor == editor


def test_create_is_all_or_nothing_with_errors_by_field(partners, editor):
    payload = {
        **NEW,
        "parties": [{"code": "USA"}, {"code": "XYZ"}],
        "provisions": [{"category": "training", "title": "ok"}],
    }
    response = client_for(editor).post("/api/v1/agreements/", payload, format="json")
    assert response.status_code == 400
    assert "parties[1].code" in response.json()
    assert Agreement.objects.count() == 0
    assert Provision.objects.count() == 0

    bad = {**NEW, "type": "treaty", "signed_on": "2014-13-01", "parties": [{"signed_on": "x"}]}
    errors = client_for(editor).post("/api/v1/agreements/", bad, format="json").json()
    assert {"type", "signed_on", "parties[0].code", "parties[0].signed_on"} <= set(errors)

    rule = {**NEW, "entered_into_force_on": "2010-01-01"}
    errors = client_for(editor).post("/api/v1/agreements/", rule, format="json").json()
    assert "entered_into_force_on" in errors
    assert Agreement.objects.count() == 0


def test_editor_cannot_write_above_clearance(partners, editor):
    payload = {**NEW, "classification": "secret", "provisions": []}
    response = client_for(editor).post("/api/v1/agreements/", payload, format="json")
    assert response.status_code == 400
    assert "classification" in response.json()


def test_viewer_and_analyst_cannot_write(world, viewer, analyst):
    for user in (viewer, analyst):
        client = client_for(user)
        assert client.post("/api/v1/agreements/", NEW, format="json").status_code == 403
        pk = world["public"].pk
        assert client.patch(f"/api/v1/agreements/{pk}/", {"title": "x"}).status_code == 403
        assert client.delete(f"/api/v1/agreements/{pk}/").status_code == 403


def test_patch_with_etag_and_stale_if_match(world, editor):
    client = client_for(editor)
    url = f"/api/v1/agreements/{world['public'].pk}/"
    etag = client.get(url)["ETag"]
    world["public"].refresh_from_db()
    version = world["public"].version
    earlier = list(ChangeRecord.objects.about(world["public"]).values_list("pk", flat=True))
    response = client.patch(url, {"title": "Renamed"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    assert response["ETag"] == f'"{version + 1}"'  # the number of the change that made it
    stale = client.patch(url, {"title": "Again"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    world["public"].refresh_from_db()
    assert world["public"].title == "Renamed"
    assert world["public"].version == version + 1
    written = ChangeRecord.objects.about(world["public"]).exclude(pk__in=earlier)
    change = written.get(action="update")
    assert change.actor == editor
    assert change.changes["title"] == ["Combined Training Accord", "Renamed"]


def test_patch_replaces_parties_and_keeps_hidden_provisions(world, editor):
    client = client_for(editor)
    public = world["public"]
    url = f"/api/v1/agreements/{public.pk}/"
    payload = {
        "parties": [{"code": "USA"}, {"code": "PHL"}, {"code": "JPN", "signed_on": "2020-01-01"}],
        "provisions": [{"category": "logistics", "title": "Fuel"}],
    }
    response = client.patch(url, payload, format="json")
    assert response.status_code == 200, response.json()
    assert [p["code"] for p in response.json()["parties"]] == ["USA", "PHL", "JPN"]
    # The secret annex, out of the editor's reach, is left alone.
    assert set(public.provisions.values_list("title", flat=True)) == {
        "Fuel",
        "Zanzibar signals annex",
    }


def test_patch_error_changes_nothing(world, editor):
    client = client_for(editor)
    public = world["public"]
    public.refresh_from_db()
    version = public.version
    url = f"/api/v1/agreements/{public.pk}/"
    response = client.patch(
        url,
        {"title": "New", "parties": [{"code": "USA"}, {"code": "USA"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "parties" in response.json()
    public.refresh_from_db()
    assert public.title == "Combined Training Accord"
    assert public.version == version
    assert AgreementParty.objects.filter(agreement=public).count() == 3


def test_put_replaces_the_whole_agreement(world, editor):
    client = client_for(editor)
    url = f"/api/v1/agreements/{world['colombia'].pk}/"
    assert client.put(url, {"title": "Only a title"}, format="json").status_code == 400
    payload = {**NEW, "reference": "US-CO-DCA", "provisions": []}
    etag = client.get(url)["ETag"]
    response = client.put(url, payload, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["expires_on"] is None
    assert [p["code"] for p in body["parties"]] == ["USA", "PHL"]
    assert client.put(url, payload, format="json", HTTP_IF_MATCH="garbage").status_code == 412


def test_delete_needs_registry_admin(world, editor, registrar):
    url = f"/api/v1/agreements/{world['colombia'].pk}/"
    assert client_for(editor).delete(url).status_code == 403
    assert client_for(registrar).delete(url).status_code == 204
    assert not Agreement.objects.filter(reference="US-CO-DCA").exists()
    assert ChangeRecord.objects.filter(
        object_repr__startswith="US-CO-DCA", action="delete"
    ).exists()


def test_delete_of_a_parent_is_a_conflict(world, registrar):
    world["colombia"].parent = world["public"]
    world["colombia"].save()
    url = f"/api/v1/agreements/{world['public'].pk}/"
    assert client_for(registrar).delete(url).status_code == 409


def test_reviews_get_and_post(world, editor, viewer):
    public = world["public"]  # reviewed once, every 12 months
    url = f"/api/v1/agreements/{public.pk}/reviews/"
    assert client_for(viewer).post(url, {}, format="json").status_code == 403
    bad = client_for(editor).post(url, {"reviewed_on": "x", "outcome": "shrug"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"reviewed_on", "outcome"}
    response = client_for(editor).post(
        url, {"reviewed_on": "2026-06-01", "outcome": "continue"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["reviewer"] == "editor"
    public.refresh_from_db()
    assert public.next_review_on.isoformat() == "2027-06-01"
    listed = client_for(viewer).get(url).json()
    assert [r["reviewed_on"] for r in listed["results"]] == ["2026-06-01", "2025-07-01"]
    detail = client_for(viewer).get(f"/api/v1/agreements/{public.pk}/").json()
    assert [(e["kind"], e["date"]) for e in detail["events"]][-1] == ("reviewed", "2026-06-01")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_race_with_the_same_if_match(partners, editor):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    from .factories import AgreementFactory

    agreement = AgreementFactory(reference="RACE", parties=[partners["USA"], partners["PHL"]])
    url = f"/api/v1/agreements/{agreement.pk}/"
    barrier = threading.Barrier(2)
    results = []

    def write(title):
        from django.db import connections

        try:
            client = client_for(editor)
            barrier.wait()
            response = client.patch(url, {"title": title}, format="json", HTTP_IF_MATCH='"1"')
            results.append((title, response.status_code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(t,)) for t in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for _, code in results) == [200, 412]
    winner = next(title for title, code in results if code == 200)
    agreement.refresh_from_db()
    assert agreement.title == winner
    assert agreement.version == 2


def test_api_put_by_an_editor_keeps_a_link_above_their_clearance(partners, editor):
    """A PUT resets what it leaves out, but never a link the writer cannot even see."""
    from agreements.models import Agreement

    pair = [partners["USA"], partners["PHL"]]
    secret = AgreementFactory(title="Secret basing accord", classification="secret", parties=pair)
    agreement = AgreementFactory(title="Open accord", type="mou", parties=pair)
    Agreement.objects.filter(pk=agreement.pk).update(supersedes=secret)

    client = client_for(editor)
    detail = client.get(f"/api/v1/agreements/{agreement.pk}/").json()
    assert detail["supersedes"] is None
    response = client.put(
        f"/api/v1/agreements/{agreement.pk}/",
        {
            "title": "Open accord, replaced",
            "type": "mou",
            "status": "in_force",
            "signed_on": "2015-03-01",
            "entered_into_force_on": "2015-06-01",
            "parties": [{"code": "USA"}, {"code": "PHL"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert "Secret basing accord" not in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.title == "Open accord, replaced"
    assert agreement.supersedes_id == secret.pk


def test_api_put_without_a_reference_keeps_the_reference(partners, registrar):
    """The reference is generated when left blank on create; a PUT that leaves it out must
    not replace the agreement's stable identifier with a newly generated one."""
    agreement = AgreementFactory(
        reference="US-PH-1951-MDT", type="mou", parties=[partners["USA"], partners["PHL"]]
    )
    body = {
        "title": "Mutual Defense Treaty",
        "type": "mou",
        "status": "in_force",
        "signed_on": "2015-03-01",
        "entered_into_force_on": "2015-06-01",
        "parties": [{"code": "USA"}, {"code": "PHL"}],
    }
    client = client_for(registrar)
    for method in (client.put, client.patch):
        response = method(f"/api/v1/agreements/{agreement.pk}/", body, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["reference"] == "US-PH-1951-MDT"
    response = client.patch(f"/api/v1/agreements/{agreement.pk}/", {"reference": ""}, format="json")
    assert response.status_code == 200, response.content
    agreement.refresh_from_db()
    assert agreement.reference == "US-PH-1951-MDT"
