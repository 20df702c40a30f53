"""Who may be named on an agreement in the admin (issue 8, 1): owners, watchers and reviewers
are chosen among active users, and each must be able to read the agreement (the read
permission and clearance for its classification), the same rule the reminders apply."""

import pytest

from accounts.choices import Classification
from accounts.groups import POLICY_STAFF
from agreements.models import Agreement, Review

from .factories import AgreementFactory, UserFactory
from .formscrape import form_data


@pytest.fixture
def agreement(partners):
    return AgreementFactory(
        title="Confidential logistics accord",
        classification=Classification.CONFIDENTIAL,
        parties=[partners["USA"], partners["PHL"]],
    )


@pytest.fixture
def reader(db):
    return UserFactory(username="reader", group=POLICY_STAFF, clearance=Classification.SECRET)


def _post_change(client, agreement, **changes):
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data.update(changes)
    return client.post(url, data)


def _errors(response, field):
    return list(response.context["adminform"].form.errors.get(field, []))


def test_a_reader_may_be_owner_and_watcher(client, editor, agreement, reader):
    client.force_login(editor)
    response = _post_change(client, agreement, owner=str(reader.pk), watchers=[str(reader.pk)])
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.owner == reader
    assert list(agreement.watchers.all()) == [reader]


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_someone_who_may_not_read_it_cannot_be_owner_or_watcher(
    client, editor, agreement, who, request
):
    person = request.getfixturevalue(who)  # uncleared for confidential / no read permission
    client.force_login(editor)
    response = _post_change(client, agreement, owner=str(person.pk), watchers=[str(person.pk)])
    assert response.status_code == 200
    for field in ("owner", "watchers"):
        [message] = _errors(response, field)
        assert "Not allowed to read this Confidential agreement" in message
        assert person.username in message
    agreement.refresh_from_db()
    assert agreement.owner is None and not agreement.watchers.exists()


def test_raising_the_classification_above_a_watcher_is_refused(client, editor, partners):
    viewer = UserFactory(username="lowwatch", group=POLICY_STAFF, clearance="unclassified")
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    agreement.watchers.set([viewer])
    client.force_login(editor)
    response = _post_change(client, agreement, classification="restricted")
    assert response.status_code == 200
    assert "lowwatch" in _errors(response, "watchers")[0]
    assert Agreement.objects.get(pk=agreement.pk).classification == "unclassified"


def test_an_inactive_user_is_no_choice(client, editor, agreement):
    gone = UserFactory(username="gone", group=POLICY_STAFF, clearance="secret", is_active=False)
    client.force_login(editor)
    response = _post_change(client, agreement, owner=str(gone.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in _errors(response, "owner")[0]
    found = client.get(
        "/admin/autocomplete/",
        {"term": "", "app_label": "agreements", "model_name": "agreement", "field_name": "owner"},
    ).json()["results"]
    names = {item["text"] for item in found}
    assert "editor" in names and "gone" not in names


def test_an_owner_who_has_left_is_kept_by_an_unrelated_edit(client, editor, agreement, reader):
    Agreement.objects.filter(pk=agreement.pk).update(owner=reader)
    agreement.watchers.set([reader])
    reader.is_active = False
    reader.save()
    client.force_login(editor)
    response = _post_change(client, agreement, title="Confidential logistics accord, amended")
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title.endswith("amended")
    assert agreement.owner == reader
    assert list(agreement.watchers.all()) == [reader]


def test_a_reviewer_who_may_not_read_the_agreement_is_refused(client, editor, agreement, viewer):
    client.force_login(editor)
    data = {
        "agreement": str(agreement.pk),
        "reviewed_on": "2026-06-01",
        "reviewer": str(viewer.pk),
        "outcome": "continue",
        "notes": "",
    }
    response = client.post("/admin/agreements/review/add/", data)
    assert response.status_code == 200
    assert "viewer" in _errors(response, "reviewer")[0]
    assert not Review.objects.exists()
    data["reviewer"] = str(editor.pk)
    assert client.post("/admin/agreements/review/add/", data).status_code == 302
    assert Review.objects.get().reviewer == editor
