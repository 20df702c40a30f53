from django.core.management import call_command

from partners.models import Membership, Nation, Organization

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


def test_seed_loads_countries_former_states_and_organizations(db, capsys):
    call_command("seed_reference_data")
    first = capsys.readouterr().out
    assert "nations created" in first
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


def test_seed_twice_changes_nothing(db, capsys):
    call_command("seed_reference_data")
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
