"""The nation and organization pages show the partner's change history: its own changes and
those of the records belonging to it (memberships, points of contact), within clearance, at
a fixed number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from history.models import ChangeRecord
from partners.services import (
    membership_save,
    nation_save,
    organization_save,
    point_of_contact_save,
)

from .factories import NationFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def history_of(html: str) -> str:
    start = html.index('id="history-heading"')
    return html[start : html.index("</section>", start)]


def test_nation_page_shows_its_history(client, editor, viewer):
    nation = NationFactory(iso3="FRA", name="France")
    nation_save(nation=nation, actor=editor, official_name="French Republic")
    point_of_contact_save(
        actor=editor, name="Jean Dupont", role="defense_attache", represents=nation
    )
    history = history_of(page(client, viewer, "/nations/FRA/"))
    assert "French Republic" in history and "editor" in history
    assert "Point of contact added: Jean Dupont" in history


def test_organization_page_shows_its_memberships_history(client, editor, viewer):
    organization = OrganizationFactory(acronym="WEU", name="Western European Union")
    organization_save(organization=organization, actor=editor, name="Western European Union (WEU)")
    membership_save(
        organization=organization,
        nation=NationFactory(iso3="ITA"),
        joined_on=datetime.date(1955, 5, 6),
        source="seed_reference_data",
    )
    history = history_of(page(client, viewer, "/organizations/WEU/"))
    assert "Western European Union (WEU)" in history and "editor" in history
    assert "Membership added: Nation ITA in WEU" in history
    assert "Joined</span>: <ins>6 May 1955</ins>" in history
    assert "seed_reference_data" in history


def test_partner_history_keeps_the_clearance_rule(client, viewer, analyst):
    nation = NationFactory(iso3="FRA")
    nation_save(nation=nation, name="Visible rename")
    classified = ChangeRecord.objects.get()
    classified.pk = None
    classified.changes = {"name": ["x", "Classified rename"]}
    classified.classification = "secret"
    classified.save()
    assert "Classified rename" not in history_of(page(client, viewer, "/nations/FRA/"))
    assert "Visible rename" in history_of(page(client, viewer, "/nations/FRA/"))
    assert "Classified rename" in history_of(page(client, analyst, "/nations/FRA/"))


@pytest.mark.parametrize("url", ["/nations/FRA/", "/organizations/WEU/"])
def test_partner_page_history_adds_no_query_per_record(client, viewer, editor, url):
    nation = NationFactory(iso3="FRA")
    organization = OrganizationFactory(acronym="WEU")

    made = []

    def changes(n):
        for _ in range(n):
            made.append(len(made))
            nation_save(nation=nation, actor=editor, official_name=f"Name {len(made)}")
            membership_save(
                organization=organization,
                actor=editor,
                nation=nation,
                joined_on=datetime.date(1950 + len(made), 1, 1),
            )

    changes(1)
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    changes(20)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(one)
    assert response.content.decode().count("<td>editor</td>") == 21  # every change is shown
