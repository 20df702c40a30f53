"""seed_reference_data: every country, the former states, the organizations and their
members; idempotent. The seed is loaded once for the module (``tests/module_data.py``)."""

import io

import pytest
from django.core.management import call_command

from partners.models import Membership, Nation, Organization

from .module_data import module_transaction

REQUIRED = {
    "NATO",
    "EU",
    "AU",
    "ASEAN",
    "UN",
    "OAS",
    "OSCE",
    "SCO",
    "CSTO",
    "GCC",
    "ECOWAS",
    "SADC",
}


@pytest.fixture(scope="module")
def seed_load(request, django_db_setup, django_db_blocker):
    """The reference data, seeded once for the module; what the command printed."""
    with module_transaction(request, django_db_blocker):
        out = io.StringIO()
        with django_db_blocker.unblock():
            call_command("seed_reference_data", stdout=out)
        yield out.getvalue()


@pytest.fixture
def seeded(seed_load, db):
    return seed_load


def test_seed_loads_countries_former_states_and_organizations(seeded):
    assert "nations created" in seeded
    assert Nation.objects.filter(is_historical=False).count() >= 249
    phl = Nation.objects.get(iso3="PHL")
    assert (phl.iso2, phl.region, phl.subregion) == ("PH", "Asia", "South-eastern Asia")
    for code in ("SUN", "YUG", "CSK", "DDR"):
        former = Nation.objects.get(iso3=code)
        assert former.is_historical and former.region == "Europe"
    assert set(Organization.objects.values_list("acronym", flat=True)) >= REQUIRED
    nato = Organization.objects.get(acronym="NATO")
    assert nato.memberships.filter(left_on__isnull=True).count() == 32
    finland = nato.memberships.get(nation__iso3="FIN")
    assert finland.joined_on.isoformat() == "2023-04-04"
    uk_in_eu = Membership.objects.get(organization__acronym="EU", nation__iso3="GBR")
    assert uk_in_eu.left_on.isoformat() == "2020-01-31"


def test_seed_twice_changes_nothing(seeded, capsys):
    counts = (Nation.objects.count(), Organization.objects.count(), Membership.objects.count())
    capsys.readouterr()
    call_command("seed_reference_data")
    out = capsys.readouterr().out
    assert "created" not in out and "updated" not in out
    assert (
        Nation.objects.count(),
        Organization.objects.count(),
        Membership.objects.count(),
    ) == counts


def test_seed_records_its_changes_once_and_nothing_on_a_second_run(db, capsys):
    from history.models import ChangeRecord

    call_command("seed_reference_data")
    records = ChangeRecord.objects.all()
    assert set(records.values_list("source", flat=True)) == {"seed_reference_data"}
    assert not records.exclude(actor=None).exists()
    assert records.filter(action="create", changed_object_type__model="nation").count() == (
        Nation.objects.count()
    )
    assert records.filter(changed_object_type__model="membership").count() == (
        Membership.objects.count()
    )
    nato = Organization.objects.get(acronym="NATO")
    finland = nato.memberships.get(nation__iso3="FIN")
    record = ChangeRecord.objects.about(nato).get(changed_object_id=finland.pk)
    assert record.related_object == nato and record.changes["joined_on"] == [None, "2023-04-04"]
    total = records.count()

    call_command("seed_reference_data")
    assert ChangeRecord.objects.count() == total  # a second run records nothing

    Nation.objects.filter(iso3="PHL").update(name="Filipinas")  # an edit outside the services
    capsys.readouterr()
    call_command("seed_reference_data")
    assert "nations updated: 1" in capsys.readouterr().out
    restored = ChangeRecord.objects.get(action="update", changed_object_type__model="nation")
    assert restored.changes == {"name": ["Filipinas", "Philippines"]}
    assert restored.source == "seed_reference_data"
