"""The one write path of the partners aggregates: each service validates, writes and records
its own change record (changed object, the object it belongs to, who, from where, what)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from history.models import ChangeRecord
from partners.models import Membership, Nation, Organization, PointOfContact
from partners.services import (
    membership_delete,
    membership_save,
    nation_delete,
    nation_save,
    organization_delete,
    organization_save,
    point_of_contact_delete,
    point_of_contact_save,
)

from .factories import MembershipFactory, NationFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def only_record():
    return ChangeRecord.objects.get()


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# Nations ------------------------------------------------------------------------------------


def test_nation_save_creates_and_records(editor):
    nation = nation_save(
        actor=editor, source="admin", iso3="fra", iso2="fr", name="France", region="Europe"
    )
    assert Nation.objects.get(iso3="FRA") == nation and nation.iso2 == "FR"
    record = only_record()
    assert record.changed_object == nation and record.related_object is None
    assert record.action == "create"
    assert (record.actor, record.source, record.classification) == (editor, "admin", "unclassified")
    assert record.changes == {
        "iso3": [None, "FRA"],
        "iso2": [None, "FR"],
        "name": [None, "France"],
        "region": [None, "Europe"],
        "is_historical": [None, False],
    }


def test_nation_save_records_only_what_changed_and_nothing_when_nothing_did(editor):
    nation = NationFactory(iso3="FRA", name="France", region="Europe")
    nation_save(nation=nation, actor=editor, name="French Republic", region="Europe")
    record = only_record()
    assert record.action == "update" and record.changed_object == nation
    assert record.changes == {"name": ["France", "French Republic"]}
    nation_save(nation=nation, actor=editor, name="French Republic", iso3="fra")
    assert ChangeRecord.objects.count() == 1


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"iso3": "F1", "name": "France"}, "iso3"),
        ({"iso3": "FRA", "name": ""}, "name"),
        ({"iso3": "USA", "name": "Duplicate"}, "iso3"),
        ({"iso3": "FRA", "name": "France", "is_historical": "maybe"}, "is_historical"),
        ({"iso3": "FRA", "name": "France", "population": 1}, "population"),
    ],
)
def test_nation_save_refuses_bad_input_by_field(fields, field):
    NationFactory(iso3="USA")
    with pytest.raises(ValidationError) as excinfo:
        nation_save(**fields)
    assert field in errors_of(excinfo)
    assert not Nation.objects.filter(name__in=["France", "Duplicate"]).exists()
    assert not ChangeRecord.objects.exists()


def test_validate_only_writes_and_records_nothing():
    assert nation_save(iso3="FRA", name="France", validate_only=True) is None
    assert not Nation.objects.filter(iso3="FRA").exists()
    with pytest.raises(ValidationError):
        nation_save(iso3="FRA", name="", validate_only=True)
    assert not ChangeRecord.objects.exists()


def test_nation_delete_records_and_is_refused_while_in_use(editor):
    used = NationFactory(iso3="DEU")
    MembershipFactory(nation=used)
    with pytest.raises(ValidationError) as excinfo:
        nation_delete(nation=used, actor=editor)
    assert "memberships" in str(excinfo.value)
    assert Nation.objects.filter(pk=used.pk).exists() and not ChangeRecord.objects.exists()
    nation = NationFactory(iso3="FRA", name="France")
    pk = nation.pk
    nation_delete(nation=nation, actor=editor, source="admin")
    assert not Nation.objects.filter(pk=pk).exists()
    record = only_record()
    assert (record.action, record.changed_object_id, record.model) == ("delete", pk, "nation")
    assert record.changes["iso3"] == ["FRA", None] and record.actor == editor


# Organizations and memberships ----------------------------------------------------------------


def test_organization_save_with_memberships_records_each_as_the_organizations(editor):
    fra, deu = NationFactory(iso3="FRA"), NationFactory(iso3="DEU")
    organization = organization_save(
        actor=editor,
        source="admin",
        acronym="WEU",
        name="Western European Union",
        kind="alliance",
        memberships=[
            {"nation": fra, "joined_on": datetime.date(1954, 10, 23)},
            {"nation": "deu", "joined_on": "1954-10-23", "left_on": "2011-06-30"},
        ],
    )
    assert sorted(organization.memberships.values_list("nation__iso3", flat=True)) == [
        "DEU",
        "FRA",
    ]
    records = ChangeRecord.objects.about(organization)
    assert sorted(records.values_list("changed_object_type__model", "action")) == [
        ("membership", "create"),
        ("membership", "create"),
        ("organization", "create"),
    ]
    germany = records.get(changed_object_id=organization.memberships.get(nation=deu).pk)
    assert germany.related_object == organization and germany.related_repr == "WEU"
    assert germany.changes == {
        "organization": [None, "WEU"],
        "nation": [None, "DEU"],
        "joined_on": [None, "1954-10-23"],
        "left_on": [None, "2011-06-30"],
    }
    assert {r.actor for r in records} == {editor} and {r.source for r in records} == {"admin"}


def test_organization_save_replaces_memberships_recording_change_add_and_removal():
    fra, deu, ita = (NationFactory(iso3=c) for c in ("FRA", "DEU", "ITA"))
    organization = OrganizationFactory(acronym="WEU")
    france = MembershipFactory(organization=organization, nation=fra)
    germany = MembershipFactory(organization=organization, nation=deu)
    organization_save(
        organization=organization,
        source="test",
        memberships=[
            {
                "id": france.pk,
                "nation": fra,
                "joined_on": france.joined_on,
                "left_on": "2011-06-30",
            },
            {"nation": ita, "joined_on": "1954-10-23"},
        ],
    )
    records = {(r.model, r.action): r for r in ChangeRecord.objects.about(organization)}
    assert set(records) == {
        ("membership", "update"),
        ("membership", "create"),
        ("membership", "delete"),
    }  # the organization's own fields did not change: no record of it
    assert ChangeRecord.objects.count() == 3
    assert records["membership", "update"].changes == {"left_on": [None, "2011-06-30"]}
    assert records["membership", "delete"].changed_object_id == germany.pk
    assert records["membership", "create"].changes["nation"] == [None, "ITA"]
    assert not Membership.objects.filter(pk=germany.pk).exists()
    # The same list again changes and records nothing.
    rows = [
        {"id": m.pk, "nation": m.nation, "joined_on": m.joined_on, "left_on": m.left_on}
        for m in organization.memberships.all()
    ]
    organization_save(organization=organization, memberships=rows)
    assert ChangeRecord.objects.count() == 3


def test_organization_save_refuses_bad_memberships_by_row_and_writes_nothing():
    fra = NationFactory(iso3="FRA")
    other = MembershipFactory(nation=fra)  # of another organization
    with pytest.raises(ValidationError) as excinfo:
        organization_save(
            acronym="WEU",
            name="",
            kind="alliance",
            memberships=[
                {"nation": fra, "joined_on": "1954-10-23", "left_on": "1950-01-01"},
                {"nation": "ZZZ"},
                {"nation": fra, "joined_on": "not a date"},
                {"id": other.pk, "nation": fra},
            ],
        )
    with pytest.raises(ValidationError) as twice:
        organization_save(
            organization=other.organization,
            memberships=[{"id": other.pk, "nation": fra}, {"id": other.pk, "nation": fra}],
        )
    assert "given twice" in errors_of(twice)["memberships[1]"][0]
    errors = errors_of(excinfo)
    assert "name" in errors
    assert "memberships[0].left_on" in errors
    assert errors["memberships[1].nation"] == ["No nation has the code 'ZZZ'."]
    assert "memberships[2].joined_on" in errors
    assert "No membership" in errors["memberships[3]"][0]
    assert not Organization.objects.filter(acronym="WEU").exists()
    assert not ChangeRecord.objects.exists()


def test_organization_save_refuses_a_member_twice_on_the_same_date():
    fra = NationFactory(iso3="FRA")
    with pytest.raises(ValidationError) as excinfo:
        organization_save(
            acronym="WEU",
            name="Western European Union",
            kind="alliance",
            memberships=[{"nation": fra}, {"nation": "FRA"}],
        )
    assert "FRA" in errors_of(excinfo)["memberships"][0]
    assert not Organization.objects.exists()


def test_organization_delete_records_it_and_its_memberships(editor):
    organization = OrganizationFactory(acronym="WEU")
    membership = MembershipFactory(organization=organization)
    pk = organization.pk
    organization_delete(organization=organization, actor=editor)
    assert not Organization.objects.filter(pk=pk).exists()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    records = ChangeRecord.objects.all()
    assert sorted((r.model, r.action) for r in records) == [
        ("membership", "delete"),
        ("organization", "delete"),
    ]
    deleted = records.get(changed_object_type__model="membership")
    assert (deleted.related_object_id, deleted.related_repr) == (pk, "WEU")


def test_membership_save_names_the_organization_as_related(editor):
    organization = OrganizationFactory(acronym="NATO")
    fin = NationFactory(iso3="FIN")
    membership = membership_save(
        organization=organization, actor=editor, nation=fin, joined_on="2023-04-04"
    )
    created = only_record()
    assert created.changed_object == membership and created.related_object == organization
    assert created.actor == editor and created.source == "web"
    membership_save(membership=membership, left_on=datetime.date(2030, 1, 1), source="test")
    updated = ChangeRecord.objects.get(action="update")
    assert updated.changes == {"left_on": [None, "2030-01-01"]}
    assert updated.related_object == organization and updated.source == "test"
    assert ChangeRecord.objects.about(organization).count() == 2
    membership_delete(membership=membership)
    deleted = ChangeRecord.objects.get(action="delete")
    assert deleted.related_object == organization and deleted.actor is None
    assert deleted.source == "system"


def test_membership_save_refuses_bad_input():
    organization = OrganizationFactory()
    membership = MembershipFactory(organization=organization)
    with pytest.raises(ValidationError) as excinfo:
        membership_save(membership=membership, left_on=membership.joined_on)
    assert "left_on" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        membership_save(membership=membership, organization=OrganizationFactory())
    assert "organization" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        membership_save(nation=NationFactory())
    assert "organization" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        membership_save(organization=organization, nation=None)
    assert "nation" in errors_of(excinfo)
    assert not ChangeRecord.objects.exists()


# Points of contact ----------------------------------------------------------------------------


def test_point_of_contact_save_and_delete_belong_to_the_nation_represented(editor):
    usa, phl = NationFactory(iso3="USA"), NationFactory(iso3="PHL")
    contact = point_of_contact_save(
        actor=editor,
        name="Jane Doe",
        rank="Col.",
        role="defense_attache",
        represents="usa",
        postings=[{"code": "PHL", "active_from": "2025-07-01"}],
        email="jane@example.org",
    )
    assert contact.represents == usa and contact.posted_to == phl
    created = next(r for r in ChangeRecord.objects.all() if r.changed_object == contact)
    assert created.changed_object == contact and created.related_object == usa
    assert created.changes["represents"] == [None, "USA"]
    assert created.changes["posted_to"] == [None, "PHL"]
    posting = contact.postings.get()
    with pytest.raises(ValidationError) as excinfo:  # the posting would outlast the service
        point_of_contact_save(point_of_contact=contact, actor=editor, active_to="2027-01-31")
    assert "The posting to PHL from 2025-07-01" in errors_of(excinfo)["active_to"][0]
    point_of_contact_save(
        point_of_contact=contact,
        actor=editor,
        active_to="2027-01-31",
        postings=[
            {
                "id": posting.pk,
                "code": "PHL",
                "active_from": "2025-07-01",
                "active_to": "2027-01-31",
            }
        ],
    )
    changes = {r.changed_object: r.changes for r in ChangeRecord.objects.filter(action="update")}
    assert changes == {
        contact: {"active_to": [None, "2027-01-31"]},
        posting: {"active_to": [None, "2027-01-31"]},
    }
    assert ChangeRecord.objects.about(usa).count() == 2
    pk = contact.pk
    point_of_contact_delete(point_of_contact=contact, actor=editor)
    assert not PointOfContact.objects.filter(pk=pk).exists()
    deleted = next(
        r for r in ChangeRecord.objects.filter(action="delete") if r.related_object == usa
    )
    assert deleted.related_object == usa and deleted.changes["name"] == ["Jane Doe", None]
    assert ChangeRecord.objects.filter(action="delete").count() == 2  # the posting too


def test_point_of_contact_save_refuses_bad_input_by_field():
    NationFactory(iso3="USA")
    with pytest.raises(ValidationError) as excinfo:
        point_of_contact_save(
            name="Jane Doe",
            role="spy",
            represents="USA",
            email="not an email",
            active_from="2026-01-01",
            active_to="2025-01-01",
        )
    assert {"role", "email", "active_to"} <= set(errors_of(excinfo))
    with pytest.raises(ValidationError) as excinfo:
        point_of_contact_save(name="Jane Doe", role="desk_officer", represents=42)
    assert errors_of(excinfo)["represents"] == ["Expected a nation, got 42."]
    assert not PointOfContact.objects.exists() and not ChangeRecord.objects.exists()
