"""The personal calendar feed holds the engagements the user owns or watches and may see, as
all-day events over their dates (DTEND the day after the last day)."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from accounts.choices import Classification
from engagements.choices import EngagementStatus

from .conftest import TODAY
from .factories import EngagementFactory, NationFactory, UserFactory

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def feed_url(client, user) -> str:
    client.force_login(user)
    client.post(reverse("agreements:calendar_token"), {"action": "regenerate"})
    html = client.get("/deadlines/").content.decode()
    client.logout()
    return re.search(r'href="http://testserver(/calendar/[^"]+\.ics)"', html).group(1)


def events(client, url) -> dict[str, object]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {
        str(event["summary"]): event
        for event in calendar.walk("VEVENT")
        if "Engagement" in [str(c) for c in event["categories"].cats]
    }


def test_owned_and_watched_engagements_span_their_days(client, viewer, frozen_today):
    phl = NationFactory(iso3="PHL", name="Philippines")
    usa = NationFactory(iso3="USA", name="United States")
    owned = EngagementFactory(
        title="Balikatan",
        owner=viewer,
        starts_on=days(10),
        ends_on=days(20),
        location="Luzon",
        location_nation=phl,
        participants=[phl, usa],
    )
    watched = EngagementFactory(
        title="Staff talks", starts_on=days(3), ends_on=None, status=EngagementStatus.PROPOSED
    )
    watched.watchers.add(viewer)
    EngagementFactory(title="Someone else's", starts_on=days(5))
    EngagementFactory(title="Called off", owner=viewer, status=EngagementStatus.CANCELLED)
    EngagementFactory(title="Put off", owner=viewer, status=EngagementStatus.POSTPONED)
    EngagementFactory(title="Long ago", owner=viewer, starts_on=days(-500), ends_on=days(-400))
    EngagementFactory(title="Far ahead", owner=viewer, starts_on=days(800), ends_on=days(801))
    found = events(client, feed_url(client, viewer))
    assert sorted(found) == ["Balikatan", "Staff talks"]

    event = found["Balikatan"]
    assert event["dtstart"].dt == days(10) and event["dtend"].dt == days(21)  # exclusive
    assert event["dtstart"].params.get("VALUE") == "DATE"
    assert not isinstance(event["dtstart"].dt, datetime.datetime)  # all day
    assert str(event["uid"]).startswith(f"engagement-{owned.pk}@")
    assert str(event["location"]) == "Luzon, Philippines"
    assert "Philippines" in str(event["description"]) and "United States" in event["description"]
    assert str(event["url"]) == f"https://registry.example.test/engagements/{owned.pk}/"
    assert str(event["status"]) == "CONFIRMED"

    one_day = found["Staff talks"]  # no end date: its one day
    assert (one_day["dtstart"].dt, one_day["dtend"].dt) == (days(3), days(4))
    assert str(one_day["status"]) == "TENTATIVE"


def test_an_engagement_under_way_or_just_ended_stays_on_the_feed(client, viewer, frozen_today):
    EngagementFactory(title="Under way", owner=viewer, starts_on=days(-3), ends_on=days(3))
    EngagementFactory(
        title="Done last month",
        owner=viewer,
        status=EngagementStatus.COMPLETED,
        starts_on=days(-40),
        ends_on=days(-30),
    )
    assert sorted(events(client, feed_url(client, viewer))) == ["Done last month", "Under way"]


def test_clearance_applies_to_the_feed_even_for_the_owner(client, viewer, analyst, frozen_today):
    secret = EngagementFactory(
        title="Secret exercise",
        owner=analyst,
        classification=Classification.SECRET,
        starts_on=days(5),
    )
    secret.watchers.add(viewer)  # named on it once, and then reclassified above them
    EngagementFactory(title="Open exercise", owner=viewer, starts_on=days(5))
    body = client.get(feed_url(client, viewer)).content.decode()
    assert "Open exercise" in body and "Secret exercise" not in body
    assert "Secret exercise" in events(client, feed_url(client, analyst))


def test_engagements_need_their_own_read_permission(client, frozen_today):
    papers = UserFactory(username="papers", permissions=["agreements.view_agreement"])
    EngagementFactory(title="Exercise", owner=papers, starts_on=days(5))
    url = feed_url(client, papers)
    assert events(client, url) == {}
    # With the engagements' permission only: the engagements, and no deadlines.
    papers.user_permissions.set(
        [Permission.objects.get(codename="view_engagement", content_type__app_label="engagements")]
    )
    assert sorted(events(client, url)) == ["Exercise"]
    papers.user_permissions.clear()
    assert client.get(url).status_code == 404


def test_feed_query_count_does_not_grow_with_engagements(client, viewer, frozen_today):
    url = feed_url(client, viewer)
    nations = [NationFactory(), NationFactory()]

    def make(n):
        for _ in range(n):
            engagement = EngagementFactory(starts_on=days(5), participants=nations)
            engagement.watchers.add(viewer)

    make(1)
    with CaptureQueriesContext(connection) as one:
        assert len(events(client, url)) == 1
    make(99)
    with CaptureQueriesContext(connection) as hundred:
        assert len(events(client, url)) == 100
    assert len(hundred) == len(one)
