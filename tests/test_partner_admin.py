"""The partners admin writes only through the partner services: the same change records as
any other writer (actor and source "admin"), the services' refusals as form errors (never a
500), and the history on the change forms."""

import pytest
from django.core.exceptions import ValidationError

from history.models import ChangeRecord
from partners.models import Membership, Nation, Organization, PointOfContact, Posting
from partners.services import nation_save

from .factories import MembershipFactory, NationFactory, OrganizationFactory
from .formscrape import form_data

pytestmark = pytest.mark.django_db


def load(client, url, form_id):
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.content.decode(), form_id)


def add_member_rows(data, rows, start=0):
    """Fill the membership inline's rows from ``start`` with (nation, joined, left)."""
    for index, (nation, joined, left) in enumerate(rows, start):
        data[f"memberships-{index}-nation"] = str(nation.pk)
        data[f"memberships-{index}-joined_on"] = joined
        data[f"memberships-{index}-left_on"] = left
        data[f"memberships-{index}-id"] = ""
        data[f"memberships-{index}-organization"] = ""  # the organization of the page
    data["memberships-TOTAL_FORMS"] = str(start + len(rows))
    return data


# Nations ------------------------------------------------------------------------------------


def test_nation_change_in_the_admin_is_recorded_and_shown(client, editor):
    nation = NationFactory(iso3="FRA", name="France")
    client.force_login(editor)
    url = f"/admin/partners/nation/{nation.pk}/change/"
    data = load(client, url, "nation_form")
    data["official_name"] = "French Republic"
    assert client.post(url, data).status_code == 302
    record = ChangeRecord.objects.get()
    assert record.changed_object == nation and record.action == "update"
    assert (record.actor, record.source) == (editor, "admin")
    assert record.changes == {"official_name": ["", "French Republic"]}
    html = client.get(url).content.decode()
    assert 'id="change-history"' in html and "French Republic" in html


def test_nation_added_in_the_admin_is_recorded_once_valid(client, editor):
    client.force_login(editor)
    data = load(client, "/admin/partners/nation/add/", "nation_form")
    data.update(iso3="F1", name="")
    response = client.post("/admin/partners/nation/add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "iso3" in errors and "name" in errors
    assert not Nation.objects.exists() and not ChangeRecord.objects.exists()
    data.update(iso3="fra", name="France", region="Europe")
    assert client.post("/admin/partners/nation/add/", data).status_code == 302
    nation = Nation.objects.get(iso3="FRA")
    record = ChangeRecord.objects.get()
    assert record.changed_object == nation and record.action == "create"
    assert record.actor == editor and record.source == "admin"


def test_what_the_service_refuses_shows_on_the_admin_form(client, editor, monkeypatch):
    """A rule the model form does not know (only the service does) is a form error too."""

    def refusing(**kwargs):
        raise ValidationError({"region": ["Refused by the service."], "__all__": ["Not now."]})

    monkeypatch.setattr("partners.admin.NationForm.service", staticmethod(refusing))
    nation = NationFactory(iso3="FRA", name="France")
    client.force_login(editor)
    url = f"/admin/partners/nation/{nation.pk}/change/"
    data = load(client, url, "nation_form")
    data["region"] = "Atlantis"
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["region"] == ["Refused by the service."]
    assert form.non_field_errors() == ["Not now."]
    nation.refresh_from_db()
    assert nation.region == "Europe" and not ChangeRecord.objects.exists()


def test_nation_deleted_in_the_admin_is_recorded(client, registrar):
    nation = NationFactory(iso3="FRA")
    pk = nation.pk
    client.force_login(registrar)
    response = client.post(f"/admin/partners/nation/{pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Nation.objects.filter(pk=pk).exists()
    record = ChangeRecord.objects.get()
    assert (record.action, record.changed_object_id, record.actor) == ("delete", pk, registrar)
    assert record.source == "admin"


# Organizations with their memberships ---------------------------------------------------------


def test_organization_with_members_added_in_the_admin_is_recorded(client, editor):
    fra, deu = NationFactory(iso3="FRA"), NationFactory(iso3="DEU")
    client.force_login(editor)
    url = "/admin/partners/organization/add/"
    data = load(client, url, "organization_form")
    data.update(acronym="WEU", name="Western European Union", kind="alliance")
    add_member_rows(data, [(fra, "1954-10-23", ""), (deu, "1954-10-23", "2011-06-30")])
    assert client.post(url, data).status_code == 302
    organization = Organization.objects.get(acronym="WEU")
    assert organization.memberships.count() == 2
    records = ChangeRecord.objects.about(organization)
    assert sorted(records.values_list("changed_object_type__model", "action")) == [
        ("membership", "create"),
        ("membership", "create"),
        ("organization", "create"),
    ]
    assert {(r.actor, r.source) for r in records} == {(editor, "admin")}
    members = records.filter(changed_object_type__model="membership")
    assert {r.related_object_id for r in members} == {organization.pk}


def test_membership_rows_changed_removed_and_added_in_the_admin(client, registrar):
    fra, deu, ita = (NationFactory(iso3=c) for c in ("FRA", "DEU", "ITA"))
    organization = OrganizationFactory(acronym="WEU")
    france = MembershipFactory(organization=organization, nation=fra)
    germany = MembershipFactory(organization=organization, nation=deu)
    client.force_login(registrar)
    url = f"/admin/partners/organization/{organization.pk}/change/"
    data = load(client, url, "organization_form")
    rows = {data[f"memberships-{i}-id"]: i for i in range(2)}
    data[f"memberships-{rows[str(france.pk)]}-left_on"] = "2011-06-30"
    data[f"memberships-{rows[str(germany.pk)]}-DELETE"] = "on"
    add_member_rows(data, [(ita, "1955-05-06", "")], start=2)
    assert client.post(url, data).status_code == 302
    actions = {
        r.action: r for r in ChangeRecord.objects.about(organization).select_related("actor")
    }
    assert set(actions) == {"update", "delete", "create"}
    assert actions["update"].changes == {"left_on": [None, "2011-06-30"]}
    assert actions["delete"].changed_object_id == germany.pk
    assert actions["create"].changes["nation"] == [None, "ITA"]
    assert {r.actor for r in actions.values()} == {registrar}
    assert not Membership.objects.filter(pk=germany.pk).exists()
    html = client.get(url).content.decode()
    assert 'id="change-history"' in html and "Left</span>: <ins>30 Jun 2011</ins>" in html


def test_a_member_twice_in_the_admin_is_a_form_error_not_a_500(client, editor):
    """Two rows of one nation without a joining date: the database and the formset let it
    through (NULLs differ), the service does not."""
    fra = NationFactory(iso3="FRA")
    client.force_login(editor)
    url = "/admin/partners/organization/add/"
    data = load(client, url, "organization_form")
    data.update(acronym="WEU", name="Western European Union", kind="alliance")
    add_member_rows(data, [(fra, "", ""), (fra, "", "")])
    response = client.post(url, data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "appears more than once" in " ".join(formset.non_form_errors())
    assert "Memberships: " in " ".join(formset.non_form_errors())
    assert not Organization.objects.exists() and not ChangeRecord.objects.exists()


def test_a_row_the_service_refuses_gets_the_error_on_that_row(client, editor, monkeypatch):
    def refusing(**kwargs):
        raise ValidationError({"memberships[1].left_on": ["Refused by the service."]})

    monkeypatch.setattr("partners.admin.OrganizationForm.service", staticmethod(refusing))
    fra, deu = NationFactory(iso3="FRA"), NationFactory(iso3="DEU")
    client.force_login(editor)
    url = "/admin/partners/organization/add/"
    data = load(client, url, "organization_form")
    data.update(acronym="WEU", name="Western European Union", kind="alliance")
    add_member_rows(data, [(fra, "", ""), (deu, "1954-10-23", "2011-06-30")])
    response = client.post(url, data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[1].errors["left_on"] == ["Refused by the service."]
    assert not formset.forms[0].errors
    assert not Organization.objects.exists()


def test_organization_deleted_in_the_admin_is_recorded_with_its_memberships(client, registrar):
    organization = OrganizationFactory(acronym="WEU")
    MembershipFactory(organization=organization)
    client.force_login(registrar)
    data = {"action": "delete_selected", "_selected_action": [organization.pk], "post": "yes"}
    assert client.post("/admin/partners/organization/", data).status_code == 302
    assert not Organization.objects.exists()
    assert sorted(ChangeRecord.objects.values_list("changed_object_type__model", "action")) == [
        ("membership", "delete"),
        ("organization", "delete"),
    ]


# Points of contact -----------------------------------------------------------------------------


def add_posting_rows(data, rows, start=0):
    """Fill the posting inline's rows from ``start`` with (nation, organization, from, to)."""
    for index, (nation, organization, active_from, active_to) in enumerate(rows, start):
        data[f"postings-{index}-nation"] = str(nation.pk) if nation else ""
        data[f"postings-{index}-organization"] = str(organization.pk) if organization else ""
        data[f"postings-{index}-title"] = ""
        data[f"postings-{index}-active_from"] = active_from
        data[f"postings-{index}-active_to"] = active_to
        data[f"postings-{index}-id"] = ""
        data[f"postings-{index}-contact"] = ""
    data["postings-TOTAL_FORMS"] = str(start + len(rows))
    return data


def test_point_of_contact_admin_writes_through_the_service(client, registrar):
    usa, phl = NationFactory(iso3="USA"), NationFactory(iso3="PHL")
    nato = OrganizationFactory(acronym="NATO")
    client.force_login(registrar)
    url = "/admin/partners/pointofcontact/add/"
    data = load(client, url, "pointofcontact_form")
    data.update(
        name="Jane Doe",
        rank="Col.",
        role="defense_attache",
        represents=str(usa.pk),
        active_from="2025-01-01",
    )
    add_posting_rows(data, [(phl, None, "2025-01-01", "")])
    assert client.post(url, data).status_code == 302
    contact = PointOfContact.objects.get()
    assert contact.posted_to == phl and contact.postings.get().nation == phl
    created = next(r for r in ChangeRecord.objects.all() if r.changed_object == contact)
    assert created.related_object == usa and created.changes["posted_to"] == [None, "PHL"]
    assert created.actor == registrar and created.source == "admin"
    assert ChangeRecord.objects.count() == 2  # the contact and its posting

    change = f"/admin/partners/pointofcontact/{contact.pk}/change/"
    data = load(client, change, "pointofcontact_form")
    data["active_to"] = "2024-01-01"  # before active_from
    response = client.post(change, data)
    assert response.status_code == 200 and "active_to" in response.context["adminform"].form.errors
    assert ChangeRecord.objects.count() == 2

    # A second posting before the first one's start, to an organization and a nation at once.
    data = load(client, change, "pointofcontact_form")
    add_posting_rows(data, [(phl, nato, "2024-06-01", "")], start=1)
    response = client.post(change, data)
    assert response.status_code == 200
    row_errors = response.context["inline_admin_formsets"][0].formset.forms[1].errors
    assert "nation" in row_errors and ChangeRecord.objects.count() == 2

    data = load(client, change, "pointofcontact_form")
    data["active_to"] = "2027-01-01"
    data["postings-0-active_to"] = "2026-06-30"
    add_posting_rows(data, [(None, nato, "2026-07-01", "2027-01-01")], start=1)
    assert client.post(change, data).status_code == 302
    contact.refresh_from_db()
    assert contact.posted_to is None  # the latest posting is to NATO
    assert ChangeRecord.objects.filter(action="update").count() == 2  # contact, posting
    assert ChangeRecord.objects.filter(action="create").count() == 3

    pk = contact.pk
    assert client.post(f"{change[: -len('change/')]}delete/", {"post": "yes"}).status_code == 302
    deleted = next(
        r for r in ChangeRecord.objects.filter(action="delete") if r.related_object == usa
    )
    assert deleted.changed_object_id == pk
    assert not Posting.objects.exists()


# The admin and the services record alike ---------------------------------------------------


def test_admin_and_service_write_the_same_record(client, editor):
    by_service = NationFactory(iso3="FRA", name="France")
    by_admin = NationFactory(iso3="DEU", name="Germany")
    nation_save(nation=by_service, actor=editor, source="admin", subregion="Western Europe 2")
    client.force_login(editor)
    url = f"/admin/partners/nation/{by_admin.pk}/change/"
    data = load(client, url, "nation_form")
    data["subregion"] = "Western Europe 2"
    assert client.post(url, data).status_code == 302
    service, admin = (
        ChangeRecord.objects.get(changed_object_id=n.pk) for n in (by_service, by_admin)
    )
    fields = ("action", "changes", "actor", "source", "classification", "related_object_id")
    assert [getattr(service, f) for f in fields] == [getattr(admin, f) for f in fields]
