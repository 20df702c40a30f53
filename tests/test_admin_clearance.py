"""The clearance rule in the admin: change list, search, inline, autocomplete and URLs."""

import pytest

from agreements.models import Agreement

from .factories import AgreementFactory, ProvisionFactory


@pytest.fixture
def records(partners):
    pair = [partners["USA"], partners["PHL"]]
    open_one = AgreementFactory(title="Open training accord", parties=pair)
    confidential = AgreementFactory(
        title="Confidential logistics accord", classification="confidential", parties=pair
    )
    secret = AgreementFactory(title="Secret basing accord", classification="secret", parties=pair)
    ProvisionFactory(agreement=open_one, title="Visible training clause")
    annex = ProvisionFactory(
        agreement=open_one,
        title="Hidden intelligence annex",
        category="intelligence_sharing",
        classification="secret",
    )
    return {"open": open_one, "confidential": confidential, "secret": secret, "annex": annex}


def test_change_list_hides_agreements_above_clearance(client, editor, records):
    client.force_login(editor)
    html = client.get("/admin/agreements/agreement/").content.decode()
    assert "Open training accord" in html
    assert "Confidential logistics accord" in html
    assert "Secret basing accord" not in html
    assert "2 agreements" in html


def test_registrar_cleared_to_secret_sees_everything(client, registrar, records):
    client.force_login(registrar)
    html = client.get("/admin/agreements/agreement/").content.decode()
    assert "Secret basing accord" in html
    assert "3 agreements" in html


def test_search_never_finds_hidden_agreement(client, editor, records):
    client.force_login(editor)
    html = client.get("/admin/agreements/agreement/", {"q": "Secret basing"}).content.decode()
    assert "Secret basing accord" not in html
    assert "0 agreements" in html


def test_category_filter_ignores_hidden_provisions(client, editor, records):
    client.force_login(editor)
    html = client.get(
        "/admin/agreements/agreement/", {"category": "intelligence_sharing"}
    ).content.decode()
    assert "Open training accord" not in html


def test_inline_hides_provision_above_clearance(client, editor, records):
    client.force_login(editor)
    html = client.get(f"/admin/agreements/agreement/{records['open'].pk}/change/").content.decode()
    assert "Visible training clause" in html
    assert "Hidden intelligence annex" not in html


def test_saving_agreement_keeps_the_hidden_provision(client, editor, records):
    from .formscrape import form_data

    client.force_login(editor)
    url = f"/admin/agreements/agreement/{records['open'].pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["title"] = "Open training accord, amended"
    response = client.post(url, data)
    assert response.status_code == 302
    agreement = Agreement.objects.get(pk=records["open"].pk)
    assert agreement.title == "Open training accord, amended"
    assert agreement.provisions.filter(pk=records["annex"].pk).exists()
    assert agreement.version == 2


@pytest.mark.parametrize(
    "url",
    [
        "/admin/agreements/agreement/{secret}/change/",
        "/admin/agreements/agreement/{secret}/delete/",
        "/admin/agreements/agreement/{secret}/history/",
        "/admin/agreements/provision/{annex}/change/",
    ],
)
def test_typing_the_url_of_a_hidden_record_is_404(client, editor, records, url):
    client.force_login(editor)
    response = client.get(url.format(secret=records["secret"].pk, annex=records["annex"].pk))
    assert response.status_code == 404


def test_provision_change_list_hides_annex(client, editor, records):
    client.force_login(editor)
    html = client.get("/admin/agreements/provision/").content.decode()
    assert "Visible training clause" in html
    assert "Hidden intelligence annex" not in html


def test_autocomplete_never_offers_hidden_agreement(client, editor, records):
    client.force_login(editor)
    response = client.get(
        "/admin/autocomplete/",
        {
            "term": "accord",
            "app_label": "agreements",
            "model_name": "agreement",
            "field_name": "supersedes",
        },
    )
    assert response.status_code == 200
    texts = [item["text"] for item in response.json()["results"]]
    assert any("Open training accord" in t for t in texts)
    assert not any("Secret basing accord" in t for t in texts)


def test_history_admin_hides_changes_to_hidden_records(client, editor, records):
    client.force_login(editor)
    html = client.get("/admin/agreements/changerecord/").content.decode()
    assert "Hidden intelligence annex" not in html
    assert "Secret basing accord" not in html
    assert "Visible training clause" in html


def test_policy_staff_cannot_use_admin(client, viewer, records):
    client.force_login(viewer)
    response = client.get("/admin/agreements/agreement/")
    assert response.status_code == 302  # to the admin login: not staff


def test_view_on_site_of_a_hidden_agreement_is_404_like_a_missing_one(client, editor, records):
    """Django's own "view on site" redirected to any agreement that exists."""
    from django.contrib.contenttypes.models import ContentType

    client.force_login(editor)
    kind = ContentType.objects.get_for_model(Agreement).pk
    visible = client.get(f"/admin/r/{kind}/{records['open'].pk}/")
    assert visible.status_code == 302
    assert visible["Location"].endswith(f"/agreements/{records['open'].pk}/")
    assert client.get(f"/admin/r/{kind}/{records['secret'].pk}/").status_code == 404
    assert client.get(f"/admin/r/{kind}/999999/").status_code == 404


def test_delete_confirmation_never_names_a_hidden_provision_or_agreement(client, records):
    """Django lists everything a delete takes with it, or that stops it."""
    from .factories import UserFactory

    registrar = UserFactory(
        username="registrar_conf", group="Registry admins", clearance="confidential", is_staff=True
    )
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{records['open'].pk}/delete/"
    html = client.get(url).content.decode()
    assert "Visible training clause" in html
    assert "Hidden intelligence annex" not in html
    assert "Provision above your clearance" in html  # it goes with the agreement, unnamed

    Agreement.objects.filter(pk=records["secret"].pk).update(parent=records["open"])
    html = client.get(url).content.decode()
    assert "Cannot delete agreement" in html
    assert "Secret basing accord" not in html
    assert "Agreement above your clearance" in html  # it stops the delete, unnamed


@pytest.mark.parametrize("selected", ["abc", "\x00", "99999999999999999999999"])
def test_a_tampered_selection_on_a_change_list_is_no_500(client, registrar, records, selected):
    client.force_login(registrar)
    response = client.post(
        "/admin/agreements/agreement/",
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    assert response.status_code == 302
    assert Agreement.objects.count() == 3


def test_autocomplete_with_a_nul_byte_in_the_term_is_no_500(client, editor, records):
    """PostgreSQL cannot compare text with a NUL byte: the lookup failed."""
    client.force_login(editor)
    response = client.get(
        "/admin/autocomplete/",
        {
            "term": "accord\x00",
            "app_label": "agreements",
            "model_name": "agreement",
            "field_name": "supersedes",
        },
    )
    assert response.status_code == 200
    texts = [item["text"] for item in response.json()["results"]]
    assert any("Open training accord" in t for t in texts)
    assert not any("Secret basing accord" in t for t in texts)
