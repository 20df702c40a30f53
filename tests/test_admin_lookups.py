"""Admin change-list URL lookups are no oracle (issue 8, 3): a filter over a relation works
only as the declared filters offer it; anything else is a 400 for a hidden id and a missing
one alike, never a filtered list."""

import pytest
from django.contrib import admin

from config.admin_access import RegistryAdminMixin

from .factories import AgreementFactory, UserFactory


@pytest.fixture
def world(partners, editor):
    pair = [partners["USA"], partners["PHL"]]
    boss = UserFactory(username="secretboss", clearance="secret")
    eyes = UserFactory(username="secreteyes", clearance="secret")
    secret = AgreementFactory(
        title="Secret basing accord", classification="secret", parties=pair, owner=boss
    )
    secret.watchers.set([eyes])
    child = AgreementFactory(title="Open arrangement", parties=pair)
    child.__class__.objects.filter(pk=child.pk).update(supersedes=secret, parent=secret)
    return {"secret": secret, "child": child}


ORACLES = [
    ("/admin/accounts/user/", "owned_agreements"),
    ("/admin/accounts/user/", "watched_agreements"),
    ("/admin/accounts/user/", "owned_agreements__id__exact"),
    ("/admin/accounts/user/", "reviews__agreement"),
    ("/admin/agreements/agreement/", "supersedes"),
    ("/admin/agreements/agreement/", "parent"),
    ("/admin/agreements/agreement/", "parent__id__exact"),
    ("/admin/agreements/agreement/", "children"),
    ("/admin/agreements/agreement/", "superseded_by"),
    ("/admin/agreements/review/", "agreement"),
    ("/admin/agreements/provision/", "agreement__supersedes"),
    ("/admin/partners/nation/", "agreement_parties__agreement"),
]


@pytest.mark.parametrize("url, lookup", ORACLES)
def test_lookup_over_a_relation_is_refused_for_hidden_and_missing_ids(
    client, editor, world, url, lookup
):
    client.force_login(editor)
    hidden = client.get(url, {lookup: world["secret"].pk})
    missing = client.get(url, {lookup: 999999})
    assert hidden.status_code == missing.status_code == 400
    html = hidden.content.decode()
    assert "secretboss" not in html and "secreteyes" not in html
    assert "Open arrangement" not in html


def test_unknown_or_changelist_filters_parameter_is_refused(client, editor, world):
    client.force_login(editor)
    for params in ({"no_such_field": "1"}, {"_changelist_filters": f"parent={world['secret'].pk}"}):
        assert client.get("/admin/agreements/agreement/", params).status_code == 400, params


@pytest.mark.parametrize(
    "url, params, shown",
    [
        ("/admin/agreements/agreement/", {"type__exact": "dca"}, "Open arrangement"),
        ("/admin/agreements/agreement/", {"signed_on__year": "2015"}, "Open arrangement"),
        ("/admin/agreements/agreement/", {"region": "Asia"}, "Open arrangement"),
        ("/admin/agreements/agreement/", {"auto_renews__exact": "0"}, "Open arrangement"),
        ("/admin/agreements/agreement/", {"title__icontains": "arrangement"}, "Open arrangement"),
        ("/admin/agreements/agreement/", {"q": "arrangement"}, "Open arrangement"),
        ("/admin/accounts/user/", {"clearance__exact": "confidential"}, "editor"),
        ("/admin/accounts/user/", {"is_active__exact": "1"}, "editor"),
    ],
)
def test_declared_filters_and_plain_fields_still_work(client, editor, world, url, params, shown):
    client.force_login(editor)
    response = client.get(url, params)
    assert response.status_code == 200
    assert shown in response.content.decode()


def test_declared_relation_filter_still_works(client, registrar, world):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="Registry admins")
    client.force_login(registrar)
    response = client.get("/admin/accounts/user/", {"groups__id__exact": group.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "registrar" in html and "secretboss" not in html


def test_changelist_filters_are_kept_through_a_change_and_refused_after(client, editor, world):
    """``_changelist_filters`` on a change form changes nothing there; the list it leads back
    to applies the same rule."""
    from .formscrape import form_data

    url = f"/admin/agreements/agreement/{world['child'].pk}/change/"
    client.force_login(editor)
    filters = {"_changelist_filters": f"parent={world['secret'].pk}"}
    page = client.get(url, filters)
    assert page.status_code == 200
    data = form_data(page.content.decode(), "agreement_form")
    response = client.post(f"{url}?_changelist_filters=parent%3D{world['secret'].pk}", data)
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 400


def test_every_admin_and_inline_of_the_site_applies_the_registry_rules(rf, registrar):
    request = rf.get("/admin/")
    request.user = registrar
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, RegistryAdminMixin), model
        for inline in model_admin.get_inline_instances(request):
            assert isinstance(inline, RegistryAdminMixin), (model, inline)
