"""The clearance rule in the admin: change list, search, inline, autocomplete and URLs."""

import pytest

from agreements.models import Agreement
from agreements.services import agreement_save, provision_save

from .factories import AgreementFactory


@pytest.fixture
def records(partners):
    pair = [partners["USA"], partners["PHL"]]
    open_one = AgreementFactory(title="Open training accord", parties=pair)
    confidential = AgreementFactory(
        title="Confidential logistics accord", classification="confidential", parties=pair
    )
    secret = AgreementFactory(title="Secret basing accord", classification="secret", parties=pair)
    # Through the service, so their history is recorded as in real use.
    provision_save(agreement=open_one, category="training", title="Visible training clause")
    annex = provision_save(
        agreement=open_one,
        title="Hidden intelligence annex",
        category="intelligence_sharing",
        classification="secret",
    )
    agreement_save(agreement=secret, summary="Secret basing accord, amended")
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
    version = Agreement.objects.get(pk=records["open"].pk).version
    url = f"/admin/agreements/agreement/{records['open'].pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["title"] = "Open training accord, amended"
    response = client.post(url, data)
    assert response.status_code == 302
    agreement = Agreement.objects.get(pk=records["open"].pk)
    assert agreement.title == "Open training accord, amended"
    assert agreement.provisions.filter(pk=records["annex"].pk).exists()
    assert agreement.version == version + 1


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
    html = client.get("/admin/history/changerecord/").content.decode()
    assert "Hidden intelligence annex" not in html
    assert "Secret basing accord" not in html
    assert "Visible training clause" in html


def test_policy_staff_cannot_use_admin(client, viewer, records):
    client.force_login(viewer)
    response = client.get("/admin/agreements/agreement/")
    assert response.status_code == 302  # to the admin login: not staff


# Choices in admin forms (issue 8, 1) ------------------------------------------------------


def _review_data(agreement_id, reviewer):
    return {
        "agreement": str(agreement_id),
        "reviewed_on": "2026-06-01",
        "reviewer": str(reviewer.pk),
        "outcome": "continue",
        "notes": "Looked at it.",
    }


def _form_errors(response):
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


def test_review_of_a_hidden_agreement_is_refused_like_a_missing_one(client, editor, records):
    secret = records["secret"]
    secret.refresh_from_db()
    version = secret.version
    client.force_login(editor)
    hidden = client.post("/admin/agreements/review/add/", _review_data(secret.pk, editor))
    missing = client.post("/admin/agreements/review/add/", _review_data(999999, editor))
    assert hidden.status_code == missing.status_code == 200
    assert _form_errors(hidden) == _form_errors(missing)
    assert "Select a valid choice" in _form_errors(hidden)["agreement"][0]
    assert secret.reference not in hidden.content.decode()
    secret.refresh_from_db()
    assert (secret.reviews.count(), secret.version) == (0, version)


def test_provision_under_a_hidden_agreement_is_refused_like_a_missing_one(client, editor, records):
    def data(agreement_id):
        return {
            "agreement": str(agreement_id),
            "category": "training",
            "title": "Planted clause",
            "article": "Art. 9",
            "text": "",
            "classification": "confidential",
        }

    client.force_login(editor)
    hidden = client.post("/admin/agreements/provision/add/", data(records["secret"].pk))
    missing = client.post("/admin/agreements/provision/add/", data(999999))
    assert hidden.status_code == missing.status_code == 200
    assert _form_errors(hidden) == _form_errors(missing)
    html = hidden.content.decode()
    assert "Select a valid choice" in html
    assert "Secret" not in html.split('id="content"')[1]  # not even its classification
    assert not records["secret"].provisions.exists()


def test_every_related_choice_of_every_admin_form_is_limited_to_what_the_user_sees(
    rf, editor, records
):
    """Generic: every foreign-key and many-to-many field of every ModelAdmin and inline offers
    only the records the user may see, so no form can write to (or probe) a hidden one."""
    from django.contrib import admin
    from django.forms import ModelChoiceField

    from agreements.selectors import rows_visible_to

    request = rf.get("/admin/")
    request.user = editor
    checked = set()
    for model, model_admin in admin.site._registry.items():
        forms = [model_admin.get_form(request)]
        obj = model.objects.first()
        forms += [
            i.get_formset(request, obj).form for i in model_admin.get_inline_instances(request, obj)
        ]
        for form in forms:
            for name, field in form.base_fields.items():
                if not isinstance(field, ModelChoiceField):
                    continue
                related = field.queryset.model
                everything = related._default_manager.all()
                visible = set(rows_visible_to(everything, editor).values_list("pk", flat=True))
                offered = set(field.queryset.values_list("pk", flat=True))
                assert offered <= visible, (model.__name__, form.__name__, name)
                checked.add((related.__name__, name))
    assert {
        ("Agreement", "agreement"),
        ("Agreement", "supersedes"),
        ("Agreement", "parent"),
    } <= checked


# Recent actions on the admin index --------------------------------------------------------


def test_recent_actions_never_name_a_record_now_out_of_reach(client, editor, records):
    """The editor's own log entry about an agreement since raised above their clearance."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    def log(obj, repr_):
        LogEntry.objects.create(
            user=editor,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=repr_,
            action_flag=CHANGE,
            change_message="[]",
        )

    log(records["secret"], "SECRET-REF: Secret basing accord")
    log(records["annex"], "Hidden intelligence annex")
    log(records["open"], "OPEN-REF: Open training accord")
    client.force_login(editor)
    html = client.get("/admin/").content.decode()
    assert "OPEN-REF: Open training accord" in html
    assert "SECRET-REF" not in html
    assert "Hidden intelligence annex" not in html


# Delete confirmation ---------------------------------------------------------------------


@pytest.fixture
def low_admin(db):
    """A registry admin (delete permission) cleared only to unclassified."""
    from accounts.groups import REGISTRY_ADMINS

    from .factories import UserFactory

    return UserFactory(
        username="lowadmin", group=REGISTRY_ADMINS, clearance="unclassified", is_staff=True
    )


def test_delete_page_never_names_a_hidden_provision_and_refuses(client, low_admin, records):
    url = f"/admin/agreements/agreement/{records['open'].pk}/delete/"
    client.force_login(low_admin)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Hidden intelligence annex" not in html
    assert "Provisions: 2" not in html  # the summary does not count it either
    assert "records above your clearance" in html
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Agreement.objects.filter(pk=records["open"].pk).exists()
    assert records["annex"].__class__.objects.filter(pk=records["annex"].pk).exists()


def test_bulk_delete_action_refuses_too(client, low_admin, records):
    client.force_login(low_admin)
    data = {"action": "delete_selected", "_selected_action": [records["open"].pk]}
    page = client.post("/admin/agreements/agreement/", data)
    assert "Hidden intelligence annex" not in page.content.decode()
    assert "records above your clearance" in page.content.decode()
    response = client.post("/admin/agreements/agreement/", {**data, "post": "yes"})
    assert response.status_code == 403
    assert Agreement.objects.filter(pk=records["open"].pk).exists()


def test_delete_page_refuses_when_a_hidden_agreement_would_change(client, low_admin, records):
    """Deleting an agreement that a hidden one supersedes would rewrite the hidden one."""
    Agreement.objects.filter(pk=records["secret"].pk).update(supersedes=records["confidential"])
    Agreement.objects.filter(pk=records["confidential"].pk).update(classification="unclassified")
    client.force_login(low_admin)
    url = f"/admin/agreements/agreement/{records['confidential'].pk}/delete/"
    html = client.get(url).content.decode()
    assert records["secret"].reference not in html
    assert "records above your clearance" in html
    assert client.post(url, {"post": "yes"}).status_code == 403


def test_delete_of_what_is_all_visible_still_works(client, registrar, records):
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{records['open'].pk}/delete/"
    html = client.get(url).content.decode()
    assert "Hidden intelligence annex" in html  # cleared to secret: sees what goes with it
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Agreement.objects.filter(pk=records["open"].pk).exists()


@pytest.mark.parametrize("model_name", ["provision", "review"])
def test_agreement_autocomplete_of_every_form_goes_through_the_clearance_rule(
    client, editor, records, model_name
):
    client.force_login(editor)
    params = {
        "term": "accord",
        "app_label": "agreements",
        "model_name": model_name,
        "field_name": "agreement",
    }
    response = client.get("/admin/autocomplete/", params)
    assert response.status_code == 200
    texts = [item["text"] for item in response.json()["results"]]
    assert any("Open training accord" in t for t in texts)
    assert not any("Secret basing accord" in t for t in texts)


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


def test_deleting_a_nation_or_a_user_tied_to_hidden_agreements_is_refused_unnamed(
    client, low_admin, records, partners
):
    from .factories import UserFactory

    watcher = UserFactory(username="watcher", clearance="secret")
    records["secret"].watchers.set([watcher])
    client.force_login(low_admin)
    for url in (
        f"/admin/partners/nation/{partners['USA'].pk}/delete/",
        f"/admin/accounts/user/{watcher.pk}/delete/",
    ):
        html = client.get(url).content.decode()
        assert "records above your clearance" in html, url
        assert records["secret"].reference not in html
        assert "Agreement_watchers" not in html and "Party:" not in html
        assert client.post(url, {"post": "yes"}).status_code == 403, url
    assert watcher.__class__.objects.filter(pk=watcher.pk).exists()


def test_admin_refuses_a_stale_save_and_keeps_the_other_change(client, editor, records):
    """Security review, finding 6: open the change form, someone PATCHes the title through
    the API, save the form: the save is refused and the API's change stays."""
    from .api_helpers import client_for
    from .formscrape import form_data

    agreement = records["open"]
    client.force_login(editor)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    patched = client_for(editor).patch(
        f"/api/v1/agreements/{agreement.pk}/", {"title": "Renamed through the API"}, format="json"
    )
    assert patched.status_code == 200
    data["summary"] = "Edited in the admin"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Someone changed this agreement after you opened it" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.title == "Renamed through the API"
    assert agreement.summary != "Edited in the admin"
    # Opened again, the form saves.
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data["summary"] = "Edited in the admin"
    assert client.post(url, data).status_code == 302
    agreement.refresh_from_db()
    assert (agreement.title, agreement.summary) == (
        "Renamed through the API",
        "Edited in the admin",
    )


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
