"""Review of issue 13 ("what users of the best registries expect"): the partner pages, the
search, the list's sorting and the pages at 390 px. Each test pins a finding of that review
(it failed before the fix) and says in its docstring what was wrong and how much it mattered.
Most read the world of tests/world.py (frozen on 15 June 2026)."""

import pytest

from accounts.groups import POLICY_STAFF
from partners.choices import ContactRole
from partners.services import point_of_contact_save

from .factories import UserFactory

READER_ONLY = ["agreements.view_agreement"]


def get(client, user, url, status=200) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content[:800]
    return response.content.decode()


# Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/nations/USA/", "/nations/PHL/", "/organizations/NATO/"])
def test_partner_pages_show_contacts_only_with_the_permission_to_view_them(client, world, url):
    """MEDIUM. The search leaves points of contact out for a reader without
    ``partners.view_pointofcontact`` (and the API answers 403), but the nation and
    organization pages listed the same people, with their e-mail addresses, to anyone who
    may read agreements: Col. Jane Doe (represents the USA, posted to the Philippines, USA a
    NATO member) was on all three pages for a reader with ``view_agreement`` alone."""
    reader = UserFactory(username="reader", permissions=READER_ONLY)
    html = get(client, reader, url)
    assert "Jane Doe" not in html and "jane.doe@example.org" not in html
    assert 'id="contacts-heading"' not in html


def test_partner_pages_still_show_contacts_to_those_who_may_see_them(client, world, viewer):
    for url in ("/nations/USA/", "/nations/PHL/", "/organizations/NATO/"):
        assert "jane.doe@example.org" in get(client, viewer, url)


def test_partner_history_leaves_contacts_out_without_the_permission(client, partners):
    """MEDIUM, with the one above. A contact's records belong to the nation it represents,
    so the nation page's change history also told a reader without the permission who the
    contact is and their e-mail address ("Point of contact added: Maj. Ann Roe")."""
    point_of_contact_save(
        name="Ann Roe",
        rank="Maj.",
        role=ContactRole.DEFENSE_ATTACHE,
        represents="USA",
        email="ann.roe@example.org",
    )
    reader = UserFactory(username="reader", permissions=READER_ONLY)
    html = get(client, reader, "/nations/USA/")
    assert "Ann Roe" not in html and "ann.roe@example.org" not in html
    viewer = UserFactory(username="viewer2", group=POLICY_STAFF)
    assert "ann.roe@example.org" in get(client, viewer, "/nations/USA/")


def test_dashboard_changes_leave_contacts_out_without_the_permission(client, partners):
    """MEDIUM, the same on the dashboard: its ten newest changes named the contact."""
    point_of_contact_save(
        name="Ann Roe", role=ContactRole.DEFENSE_ATTACHE, represents="USA", email="a@example.org"
    )
    reader = UserFactory(username="reader", permissions=READER_ONLY)
    assert "Ann Roe" not in get(client, reader, "/")
    viewer = UserFactory(username="viewer2", group=POLICY_STAFF)
    assert "Ann Roe" in get(client, viewer, "/")
