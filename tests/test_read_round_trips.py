"""Round trips of one read: an agreement's detail (API) and page fetch only the relations
that have rows (``one_with_related``); the permission check reads the user's permissions in
one query (``accounts.backends.PermissionsInOneQuery``) and builds no queryset; whether the
user is a registry admin is asked inside the reminders' query. Counted, never timed."""

import datetime

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import PermissionsInOneQuery
from accounts.groups import REGISTRY_ADMINS
from accounts.models import User
from agreements.choices import ReminderKind
from agreements.models import Reminder
from agreements.selectors import reminders_for

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory, UserFactory

pytestmark = pytest.mark.django_db


def queries_of(get) -> tuple[int, list[str]]:
    get()  # warm: content types, the session
    with CaptureQueriesContext(connection) as ctx:
        response = get()
    assert response.status_code == 200, response.content[:300]
    return len(ctx), [q["sql"] for q in ctx]


@pytest.fixture
def bare(db):
    """Parties (with their periods) and provisions, nothing else."""
    agreement = AgreementFactory()
    ProvisionFactory(agreement=agreement)
    return agreement


def add_everything(agreement, user):
    agreement.reviews.create(reviewed_on=datetime.date(2026, 1, 5), outcome="continue")
    agreement.events.create(kind="amended", date=datetime.date(2025, 1, 1))
    agreement.watchers.add(user)
    Reminder.objects.create(
        agreement=agreement,
        kind=ReminderKind.EXPIRY,
        due_on=datetime.date(2030, 1, 1),
        days_before=30,
        recipient=user.email,
    )


def test_api_detail_fetches_only_relations_with_rows(bare, analyst):
    api = client_for(analyst)
    url = f"/api/v1/agreements/{bare.pk}/"
    count, sql = queries_of(lambda: api.get(url))
    # The token and its user, the permissions, the agreement (with an EXISTS per relation),
    # then its parties (each with its status today, from its periods) and the provisions;
    # no reviews, events, reminders, watchers, contacts or acts to fetch, no registry-admin
    # group look-up.
    assert count == 5, "\n".join(q[:150] for q in sql)
    assert not any("auth_group" in q and "Registry admins" in q for q in sql)
    add_everything(bare, analyst)
    count_all, sql = queries_of(lambda: api.get(url))
    assert count_all == count + 4, sql  # reviews, events, reminders, watchers


def test_agreement_page_fetches_only_relations_with_rows(client, bare, analyst):
    client.force_login(analyst)
    url = f"/agreements/{bare.pk}/"
    count, sql = queries_of(lambda: client.get(url))
    # The session, the user, the permissions, the agreement, parties, periods, provisions,
    # the change records; no linked agreements to look for; and the engagements under it
    # (none: its provisions' activity is known without reading them again).
    assert count == 9, sql
    page = client.get(url).content.decode()
    activities = page[page.index('id="activities-heading"') :]
    assert "Dormant" in activities and "none completed" in activities
    child = AgreementFactory(parent=bare)
    count_linked, sql = queries_of(lambda: client.get(url))
    assert count_linked == count + 1, sql
    assert child.reference in client.get(url).content.decode()


def test_the_same_detail_either_way(bare, analyst):
    """The relations skipped when empty read the same as when fetched: empty lists."""
    body = client_for(analyst).get(f"/api/v1/agreements/{bare.pk}/").json()
    assert body["reviews"] == body["events"] == body["reminders"] == []
    assert body["watchers"] == body["contacts"] == []
    assert len(body["provisions"]) == 1 and len(body["parties"]) == 2
    add_everything(bare, analyst)
    body = client_for(analyst).get(f"/api/v1/agreements/{bare.pk}/").json()
    assert [len(body[k]) for k in ("reviews", "events", "reminders", "watchers")] == [1] * 4


def test_permissions_are_one_query(analyst):
    user = User.objects.get(pk=analyst.pk)  # nothing cached
    with CaptureQueriesContext(connection) as ctx:
        assert user.has_perm("agreements.view_agreement")
        assert not user.has_perm("agreements.no_such_permission")  # ModelBackend asked too
        assert user.has_perms(["agreements.view_agreement", "agreements.view_provision"])
    assert len(ctx) == 1, [q["sql"] for q in ctx]
    assert user.get_all_permissions() == User.objects.get(pk=analyst.pk).get_all_permissions()


def test_permissions_sql_is_built_once(analyst):
    """The permissions' SQL is built through the ORM the first time only."""
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    User.objects.get(pk=analyst.pk).get_all_permissions()  # built, if not yet
    user = User.objects.get(pk=analyst.pk)
    with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("built again")):
        assert "agreements.view_agreement" in PermissionsInOneQuery().get_all_permissions(user)


def test_permissions_own_and_through_groups(db):
    """The same set as ``ModelBackend``'s: own and through groups; none when inactive."""
    user = UserFactory(permissions=["agreements.view_reminder"], group=REGISTRY_ADMINS)
    expected = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert "agreements.view_reminder" in expected and len(expected) > 1
    assert PermissionsInOneQuery().get_all_permissions(User.objects.get(pk=user.pk)) == expected
    inactive = User.objects.get(pk=user.pk)
    inactive.is_active = False
    assert PermissionsInOneQuery().get_all_permissions(inactive) == set()
    assert not inactive.has_perm("agreements.view_reminder")


def test_registry_admin_reminders_in_the_reminders_query(db, analyst):
    admin = UserFactory(username="boss", group=REGISTRY_ADMINS, clearance="secret")
    agreement = AgreementFactory()
    Reminder.objects.create(
        agreement=agreement,
        kind=ReminderKind.EXPIRY,
        due_on=datetime.date(2030, 1, 1),
        days_before=30,
        recipient="someone@example.org",
    )
    admin = User.objects.get(pk=admin.pk)
    admin.has_perm("agreements.view_reminder")  # the permissions, read once
    with CaptureQueriesContext(connection) as ctx:
        assert reminders_for(admin).count() == 1
    assert len(ctx) == 1
    assert reminders_for(analyst).count() == 0  # not an admin, not a recipient


def test_relations_without_rows_are_set_empty_without_compiling_a_query(bare, analyst):
    """``one_with_related`` records a relation with no rows as fetched and empty without
    building or compiling its query (a compile per empty relation cost more than the round
    trips saved); the empty relation stays empty when filtered further, without a query."""
    from unittest import mock

    from django.db.models import Prefetch
    from django.db.models.sql.compiler import SQLCompiler

    from agreements.models import Agreement
    from agreements.selectors import Later, one_with_related

    made = []
    related = [
        Prefetch("parties"),
        "parties__acts",
        "reviews",
        "watchers",
        "engagements",
        Later("reminders", lambda: made.append(1) or reminders_for(analyst), "mine"),
    ]
    bare.parties.first().acts.all().delete()
    real = SQLCompiler.execute_sql
    with (
        mock.patch.object(SQLCompiler, "execute_sql", autospec=True, side_effect=real) as run,
        CaptureQueriesContext(connection) as ctx,
    ):
        agreement = one_with_related(Agreement.objects.all(), related, pk=bare.pk)
        assert list(agreement.reviews.all()) == []
        assert list(agreement.watchers.all()) == [] and list(agreement.engagements.all()) == []
        assert agreement.mine == []
        assert all(list(p.acts.all()) == [] for p in agreement.parties.all())
    # The agreement and its parties: nothing compiled for the four empty relations, and the
    # reminders' queryset never built.
    assert run.call_count == len(ctx) == 2, [q["sql"][:120] for q in ctx]
    assert made == []
    with CaptureQueriesContext(connection) as ctx:
        assert list(agreement.reviews.filter(outcome="continue")) == []
    assert len(ctx) == 0
    add_everything(bare, analyst)
    agreement = one_with_related(Agreement.objects.all(), related, pk=bare.pk)
    assert made == [1] and len(agreement.mine) == 1 and agreement.reviews.count() == 1
