"""An agreement's detail, as the API answers a read of it, is built from flat rows
(``agreements.api.detail``); it must say exactly what ``AgreementDetailSerializer`` says of
the agreement read with its relations (what a write answers), key order included, with the
same ETag, for every reader, and in one query per relation that has rows."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from agreements import statements
from agreements.api.detail import agreement_detail
from agreements.api.serializers import AgreementDetailSerializer
from agreements.api.views import AgreementViewSet
from agreements.choices import PartyActKind, ReminderKind
from agreements.models import Agreement, PartyAct, Reminder
from config.etags import etag_of

from .factories import AgreementFactory, EngagementFactory

pytestmark = pytest.mark.django_db

READERS = ("viewer", "editor", "analyst", "registrar")


def drf_request(user, pk) -> Request:
    request = Request(APIRequestFactory().get(f"/api/v1/agreements/{pk}/", secure=True))
    request.user = user
    return request


def through_the_serializer(user, pk):
    """The detail as DRF serializes the agreement read with what it shows, and its ETag."""
    view = AgreementViewSet(request=drf_request(user, pk), action="retrieve", format_kwarg=None)
    view.kwargs = {"pk": pk}
    agreement = view.get_object()
    data = AgreementDetailSerializer(agreement, context={"request": view.request}).data
    return data, etag_of(agreement, user)


@pytest.fixture
def everything(world, analyst, registrar):
    """``public`` with every relation: watchers, a contact, events, reminders to two readers,
    an engagement, acts of its parties, an owner, a visible parent and a secret predecessor."""
    public = world["public"]
    Agreement.objects.filter(pk=public.pk).update(
        owner=analyst, parent=world["colombia"], supersedes=world["secret"]
    )
    public.watchers.add(analyst, registrar)
    public.contacts.add(world["contact"])
    public.events.create(kind="amended", date=datetime.date(2025, 1, 1), note="Annex added")
    for user, due in ((analyst, datetime.date(2030, 1, 1)), (registrar, datetime.date(2029, 1, 1))):
        Reminder.objects.create(
            agreement=public,
            kind=ReminderKind.EXPIRY,
            due_on=due,
            days_before=30,
            recipient=user.email,
            recipient_user=user,
        )
    for party in public.parties.all():
        PartyAct.objects.create(
            party=party,
            kind=PartyActKind.SIGNATURE,
            date=datetime.date(2015, 3, 1),
            note="At Manila",
        )
    EngagementFactory(title="Balikatan test").agreements.add(public)
    EngagementFactory(title="Secret drill", classification="secret").agreements.add(public)
    return world


@pytest.mark.parametrize("reader", READERS)
def test_the_serializers_document_for_every_reader(everything, reader, request):
    user = request.getfixturevalue(reader)
    compared = 0
    for key in ("public", "colombia", "confidential", "secret"):
        pk = everything[key].pk
        found = agreement_detail(drf_request(user, pk), pk)
        if not user.is_cleared_for(everything[key].classification):
            assert found is None  # out of reach: the view answers 404
            continue
        document, etag = found
        expected, expected_etag = through_the_serializer(user, pk)
        assert json.dumps(document) == json.dumps(expected)  # the same keys, in the same order
        assert etag == expected_etag
        compared += 1
    assert compared >= 2


def test_what_the_public_detail_shows(everything, analyst, viewer):
    pk = everything["public"].pk
    document, _ = agreement_detail(drf_request(analyst, pk), pk)
    assert document["watchers"] == ["analyst", "registrar"]
    assert [r["recipient"] for r in document["reminders"]] == [analyst.email]  # their own
    assert [e["title"] for e in document["engagements"]] == ["Balikatan test", "Secret drill"]
    assert {p["code"]: p["acts"][0]["note"] for p in document["parties"]} == {
        "USA": "At Manila",
        "PHL": "At Manila",
        "NATO": "At Manila",
    }
    assert document["supersedes"]["reference"] == "SEC-0001"
    assert document["parent"]["reference"] == "US-CO-DCA"
    low, _ = agreement_detail(drf_request(viewer, pk), pk)
    assert low["supersedes"] is None  # secret: not shown to an uncleared reader
    assert [e["title"] for e in low["engagements"]] in ([], ["Balikatan test"])
    assert "Zanzibar signals annex" not in json.dumps(low)


def test_one_query_per_relation_with_rows(everything, analyst):
    pk = everything["public"].pk
    bare = AgreementFactory()

    def count(agreement_pk) -> int:
        request = drf_request(analyst, agreement_pk)
        agreement_detail(request, agreement_pk)  # warm: content types, permissions
        with CaptureQueriesContext(connection) as ctx:
            assert agreement_detail(request, agreement_pk) is not None
        return len(ctx)

    # The agreement (with whether each relation has rows), then its parties (each with its
    # status today): the bare one has no provision.
    assert count(bare.pk) == 2
    # … and the acts, provisions, reviews, events, reminders, watchers, contacts and
    # engagements of the one that has them all.
    assert count(pk) == 2 + 8


def test_out_of_reach_and_unknown_are_404(everything, viewer):
    from .api_helpers import client_for

    api = client_for(viewer)
    assert api.get(f"/api/v1/agreements/{everything['secret'].pk}/").status_code == 404
    assert api.get("/api/v1/agreements/999999/").status_code == 404
    assert api.get(f"/api/v1/agreements/{2**63}/").status_code == 404
    response = api.get(f"/api/v1/agreements/{everything['public'].pk}/")
    assert response.status_code == 200
    assert response["ETag"] == f'"{response.json()["version"]}"'


def test_the_reads_are_compiled_once_per_level(everything, analyst, viewer, monkeypatch):
    """The agreement's, its parties', acts' and provisions' statements are compiled once
    (per thread, database and reader's levels) and run again for the next agreement; a
    reader of another clearance gets statements of their own, so a secret reader's read
    first changes nothing for an uncleared one after."""
    public, colombia = everything["public"].pk, everything["colombia"].pk
    statements.Statement._compiled.__dict__.clear()  # what earlier tests compiled
    agreement_detail(drf_request(analyst, colombia), colombia)
    compiled = []
    original = statements.Statement._compile

    def counting(self, *args):
        compiled.append(self.build.__name__)
        return original(self, *args)

    monkeypatch.setattr(statements.Statement, "_compile", counting)
    secret_read, _ = agreement_detail(drf_request(analyst, public), public)
    # colombia has parties and (to a secret reader) a provision, but no acts: public's acts
    # are the one statement not compiled yet at the secret level.
    assert compiled == ["_acts_query"]
    compiled.clear()
    agreement_detail(drf_request(analyst, public), public)
    assert compiled == []
    low_read, _ = agreement_detail(drf_request(viewer, public), public)
    assert sorted(compiled) == ["_acts_query", "_agreement_query", "_parties_query",
                                "_provisions_query"]  # fmt: skip
    assert "Zanzibar signals annex" in json.dumps(secret_read)
    assert "Zanzibar signals annex" not in json.dumps(low_read)
    secret = everything["secret"].pk
    assert agreement_detail(drf_request(viewer, secret), secret) is None


def test_a_partys_status_is_the_one_of_the_day_asked(partners, frozen_today, analyst):
    """The parties' statement depends on the day: compiled for one day, it is not reused on
    the next, so a withdrawal that takes effect overnight shows the next morning."""
    import time_machine

    from agreements.models import PartyPeriod

    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    usa = agreement.parties.get(nation=partners["USA"])
    usa.periods.all().delete()
    for status, starts, ends in (
        ("bound", datetime.date(2015, 6, 1), datetime.date(2026, 6, 16)),
        ("withdrawn", datetime.date(2026, 6, 16), None),
    ):
        PartyPeriod.objects.create(
            agreement=agreement, party=usa, status=status, starts_on=starts, ends_on=ends
        )

    def status_of_usa():
        document, _ = agreement_detail(drf_request(analyst, agreement.pk), agreement.pk)
        return {p["code"]: p["status"] for p in document["parties"]}["USA"]

    assert status_of_usa() == "bound"
    with time_machine.travel(datetime.datetime(2026, 6, 16, 12, 0, tzinfo=datetime.UTC)):
        assert status_of_usa() == "withdrawn"


def test_another_days_statements_are_dropped(partners, frozen_today, analyst):
    import time_machine

    from agreements.api import detail

    agreement = AgreementFactory()
    statements.Statement._compiled.__dict__.clear()

    def days_held() -> set:
        held = statements.Statement._compiled.statements
        return {key[-1] for key in held if key[0] is detail._PARTIES}

    agreement_detail(drf_request(analyst, agreement.pk), agreement.pk)
    assert days_held() == {datetime.date(2026, 6, 15)}
    with time_machine.travel(datetime.datetime(2026, 6, 16, 12, 0, tzinfo=datetime.UTC)):
        agreement_detail(drf_request(analyst, agreement.pk), agreement.pk)
    assert days_held() == {datetime.date(2026, 6, 16)}
