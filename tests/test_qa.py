"""Findings of the exploratory QA pass, each pinned by a test."""

import pytest

from accounts.choices import Classification
from agreements.services import agreement_save, provision_save
from history.models import ChangeRecord

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory


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


def test_admin_change_form_never_names_a_hidden_linked_agreement(client, partners, editor):
    """An editor cleared to confidential opens an unclassified agreement that supersedes a
    secret one: the secret one's title is not shown, and saving keeps the link."""
    from agreements.models import Agreement

    from .formscrape import form_data

    pair = [partners["USA"], partners["PHL"]]
    secret = AgreementFactory(title="Secret basing accord", classification="secret", parties=pair)
    agreement = AgreementFactory(title="Open accord", parties=pair)
    Agreement.objects.filter(pk=agreement.pk).update(supersedes=secret)

    client.force_login(editor)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    html = client.get(url).content.decode()
    assert "Secret basing accord" not in html
    assert secret.reference not in html

    data = form_data(html, "agreement_form")
    data["title"] = "Open accord, amended"
    response = client.post(url, data)
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "Open accord, amended"
    assert agreement.supersedes_id == secret.pk


def test_admin_cannot_link_to_an_agreement_above_clearance(client, partners, editor):
    """Posting the id of a secret agreement as ``supersedes`` is refused like an unknown id."""
    from .formscrape import form_data

    pair = [partners["USA"], partners["PHL"]]
    secret = AgreementFactory(title="Secret basing accord", classification="secret", parties=pair)
    agreement = AgreementFactory(title="Open accord", parties=pair)

    client.force_login(editor)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["supersedes"] = str(secret.pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.supersedes_id is None


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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notice_period_days", "99999999999"),
        ("notice_period_days", "1000000000"),
        ("renewal_period_months", "99999999999"),
        ("review_interval_months", "99999999999"),
        ("next_review_on", "9999-12-31"),
        ("expires_on", "9999-12-31"),
    ],
)
def test_admin_refuses_absurd_numbers_and_dates_instead_of_a_500(
    client, partners, registrar, field, value
):
    """The API bounds these (dates 1700–2300, periods at most 1200 months or 36500 days);
    the admin (and the services under it) must too, not crash computing a deadline."""
    from .formscrape import form_data

    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data.update({"expires_on": "2030-01-01", "notice_period_days": "90"})
    data[field] = value
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


def test_service_refuses_a_review_date_that_would_overflow(partners, registrar):
    import datetime

    from django.core.exceptions import ValidationError

    from agreements.services import review_record

    agreement = AgreementFactory(parties=[partners["USA"]], review_interval_months=12)
    with pytest.raises(ValidationError) as info:
        review_record(
            agreement=agreement,
            reviewed_on=datetime.date(9999, 12, 30),
            outcome="continue",
            actor=registrar,
        )
    assert "reviewed_on" in info.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("supersedes", "abc"),
        ("parent", "99999999999999999999"),
        ("owner", "x"),
        ("watchers", "abc"),
        ("parties-0-nation", "ZZZ"),
    ],
)
def test_admin_tampered_autocomplete_value_is_a_form_error(
    client, partners, registrar, field, value
):
    from .formscrape import form_data

    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data[field] = value
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


def test_admin_point_of_contact_tampered_nation_is_a_form_error(client, partners, registrar):
    client.force_login(registrar)
    response = client.post(
        "/admin/partners/pointofcontact/add/",
        {"name": "A. Attaché", "role": "defense_attache", "represents": "abc", "posted_to": "x"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


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
