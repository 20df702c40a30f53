"""No N+1: every list endpoint runs as many queries for 100 rows as for 1."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.groups import REGISTRY_ADMINS
from agreements.choices import ReminderKind
from agreements.models import Reminder
from partners.choices import ContactRole
from partners.models import PointOfContact

from .api_helpers import client_for
from .factories import (
    AgreementFactory,
    MembershipFactory,
    NationFactory,
    OrganizationFactory,
    ProvisionFactory,
    UserFactory,
)

TODAY = datetime.date(2026, 6, 15)


@pytest.fixture
def admin_user(db):
    # Registry admins hold every permission (export and statistics included).
    return UserFactory(username="boss", group=REGISTRY_ADMINS, clearance="secret")


def make_agreements(n, anchor):
    for i in range(n):
        agreement = AgreementFactory(
            parties=[anchor, NationFactory()],
            expires_on=TODAY + datetime.timedelta(days=10 + i % 30),
            next_review_on=TODAY + datetime.timedelta(days=5),
            review_interval_months=12,
        )
        ProvisionFactory(agreement=agreement)
        ProvisionFactory(agreement=agreement, classification="secret")
        agreement.reviews.create(reviewed_on=TODAY, outcome="continue")
        Reminder.objects.create(
            agreement=agreement,
            kind=ReminderKind.EXPIRY,
            due_on=agreement.expires_on,
            days_before=30,
            recipient="boss@example.org",
        )


def make_partners(n):
    org = OrganizationFactory()
    for _ in range(n):
        nation = NationFactory()
        MembershipFactory(nation=nation, organization=OrganizationFactory())
        PointOfContact.objects.create(
            name="Col. Smith", role=ContactRole.DEFENSE_ATTACHE, represents=nation
        )
    return org


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.content[:300])
    return len(ctx)


URLS = [
    ("/api/v1/agreements/", {}),
    ("/api/v1/agreements/", {"party": "USA", "category": "training", "q": "cooperation"}),
    ("/api/v1/provisions/", {}),
    # The agreement filters on provisions: one subquery, whatever the number of rows.
    ("/api/v1/provisions/", {"party": "USA", "in_force_on": "2026-06-15", "region": "Americas"}),
    ("/api/v1/reminders/", {}),
    ("/api/v1/deadlines/", {"within": 60}),
    ("/api/v1/stats/", {}),
    ("/api/v1/stats/", {"group_by": "decade,partner"}),
    ("/api/v1/stats/", {"group_by": "category,region", "format": "csv", "party": "USA"}),
    ("/api/v1/agreements/export/", {}),
    ("/api/v1/agreements/dyad-years/", {"from": 2010, "to": 2026}),
    ("/api/v1/nations/", {}),
    ("/api/v1/organizations/", {}),
    ("/api/v1/points-of-contact/", {}),
]


@pytest.mark.parametrize(("url", "params"), URLS)
def test_list_query_count_does_not_grow(url, params, admin_user, frozen_today, partners):
    client = client_for(admin_user)
    make_agreements(1, partners["USA"])
    make_partners(1)
    small = count_queries(client, url, params)
    make_agreements(99, partners["USA"])
    make_partners(99)
    large = count_queries(client, url, params)
    assert small == large


def test_nested_lists_query_count_does_not_grow(admin_user, partners):
    client = client_for(admin_user)
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    ProvisionFactory(agreement=agreement)
    agreement.reviews.create(reviewed_on=TODAY, outcome="continue")
    # One of each relation the detail shows from the start: a relation with no rows costs no
    # query (``one_with_related``), one with rows a single query, however many.
    agreement.events.create(kind="amended", date=TODAY)
    urls = [
        f"/api/v1/agreements/{agreement.pk}/provisions/",
        f"/api/v1/agreements/{agreement.pk}/reviews/",
        f"/api/v1/agreements/{agreement.pk}/history/",
        f"/api/v1/agreements/{agreement.pk}/",
    ]
    for url in urls:  # warm the per-process caches (content types) first
        count_queries(client, url)
    small = [count_queries(client, url) for url in urls]
    for i in range(99):
        ProvisionFactory(agreement=agreement)
        agreement.reviews.create(reviewed_on=TODAY - datetime.timedelta(days=i), outcome="renew")
        agreement.events.create(kind="amended", date=TODAY)
    large = [count_queries(client, url) for url in urls]
    assert small == large
