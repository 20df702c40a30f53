"""The agreement detail as the API answers a read of it, built from flat rows.

``AgreementDetailSerializer`` describes the detail (the schema). A read, and the answer to
a create or an update, builds the same document (the same keys in the same
order, the same values: ``tests/test_api_detail_rows.py``) from one query for the agreement,
which also says which of its relations have rows, and one flat query per relation that has
some, without model instances, prefetch machinery or a serializer field call per value. The
most common of those queries are compiled once and run again (``statements.Statement``): what an
analyst's read of one agreement costs is mostly its round trips."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from accounts.clearance import level_of
from engagements.selectors import engagements_in_short
from history.versioning import revision_at

from ..models import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    PartyAct,
    PartyPeriod,
    Provision,
    Review,
)
from ..selectors import has_rows_sql, reminders_for
from ..statements import Statement

# The agreement's own columns, in the detail's order where it shows them; the first two
# groups are also a list item's (``AgreementListRows``).
HEAD_COLUMNS = ("id", "reference", "title", "type", "status", "classification")
DATE_COLUMNS = (
    "signed_on",
    "entered_into_force_on",
    "expires_on",
    "notice_deadline",
    "next_review_on",
)
_COLUMNS = (
    *HEAD_COLUMNS,
    *DATE_COLUMNS,
    "short_title",
    "summary",
    "source_url",
    "terminated_on",
    "auto_renews",
    "renewal_period_months",
    "notice_period_days",
    "notice_given_on",
    "review_interval_months",
    "office_email",
    "reminder_offsets",
    "version",
    "revisions",
    "created_at",
    "updated_at",
    "owner__username",
)
_PARTY_DATES = ("signed_on", "ratified_on", "entered_into_force_on", "withdrawn_on")
_LINKS = ("supersedes", "parent")
_LINK_COLUMNS = tuple(
    f"{link}__{name}" for link in _LINKS for name in ("id", "reference", "title", "classification")
)
# The relations the detail lists: whether each has rows is asked in the agreement's query.
_RELATIONS = (
    "parties",
    "parties__acts",
    "provisions",
    "reviews",
    "events",
    "reminders",
    "watchers",
    "contacts",
    "engagements",
)

_datetime = serializers.DateTimeField().to_representation


def iso(day: datetime.date | None) -> str | None:
    """A date as the API writes it (None stays None)."""
    return None if day is None else day.isoformat()


class DetailUrls:
    """Absolute URLs of API details by route and primary key: one ``reverse`` per route,
    the key put in its place."""

    sentinel = 999_999_999

    def __init__(self, request):
        self.request, self.routes = request, {}

    def __call__(self, route: str, pk: int) -> str:
        if route not in self.routes:
            url = self.request.build_absolute_uri(reverse(route, args=[self.sentinel]))
            self.routes[route] = url.rsplit(str(self.sentinel), 1)
        head, tail = self.routes[route]
        return f"{head}{pk}{tail}"


def _agreement_query(ids, user, today):
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    flags = {
        f"_has_{name}": RawSQL(has_rows_sql(name, vendor), (), output_field=BooleanField())
        for name in _RELATIONS
    }
    return (
        Agreement.objects.visible_to(user)
        .filter(pk__in=ids)
        .annotate(**flags)
        .values(*_COLUMNS, *_LINK_COLUMNS, *flags)
    )


_AGREEMENT = Statement(_agreement_query)


def agreement_detail(request, pk) -> tuple[dict, str] | None:
    """(The detail of agreement ``pk`` as ``request.user`` may see it, its ETag), or None
    when it is out of their reach."""
    user = request.user
    rows = _AGREEMENT.rows(pk, user)
    row = rows[0] if rows else None
    if row is None:
        return None
    has = {name: row[f"_has_{name}"] for name in _RELATIONS}
    link = DetailUrls(request)
    today = timezone.localdate()
    parties = _parties(pk, user, today, has["parties__acts"]) if has["parties"] else []
    provisions = _PROVISIONS.rows(pk, user) if has["provisions"] else []
    version, updated_at = _seen_by(row, user)
    document = {
        **{name: row[name] for name in HEAD_COLUMNS},
        **{name: iso(row[name]) for name in DATE_COLUMNS},
        "parties": parties,
        "provision_categories": sorted({p["category"] for p in provisions}),
        "url": link("api:agreement-detail", pk),
        "short_title": row["short_title"],
        "summary": row["summary"],
        "source_url": row["source_url"],
        "terminated_on": iso(row["terminated_on"]),
        "auto_renews": row["auto_renews"],
        "renewal_period_months": row["renewal_period_months"],
        "notice_period_days": row["notice_period_days"],
        "notice_given_on": iso(row["notice_given_on"]),
        "review_interval_months": row["review_interval_months"],
        **{name: _linked(row, name, user, link) for name in _LINKS},
        "owner": row["owner__username"],
        "watchers": _watchers(pk) if has["watchers"] else [],
        "contacts": _contacts(pk, link) if has["contacts"] else [],
        "office_email": row["office_email"],
        "reminder_offsets": row["reminder_offsets"],
        "lateral": "bilateral" if len(parties) == 2 else "multilateral" if parties[2:] else "",
        "version": version,
        "created_at": _datetime(row["created_at"]),
        "updated_at": _datetime(updated_at),
        "provisions": provisions,
        "reviews": _reviews(pk) if has["reviews"] else [],
        "events": _events(pk) if has["events"] else [],
        "reminders": _reminders(pk, user) if has["reminders"] else [],
        "engagements": _engagements(pk, user, link) if has["engagements"] else [],
    }
    return document, f'"{version}"'


def _acts_query(ids, user, today):
    return PartyAct.objects.filter(party__agreement_id__in=ids).values(
        "party_id", "kind", "date", "effective_on", "note", "source_url"
    )


def _parties_query(ids, user, today):
    status_today = (
        PartyPeriod.objects.covering(today)
        .filter(party=OuterRef("pk"))
        .order_by("starts_on")
        .values("status")[:1]
    )
    return (
        AgreementParty.objects.filter(agreement_id__in=ids)
        .annotate(status_today=Subquery(status_today))
        .values(
            "id",
            "nation_id",
            "nation__iso3",
            "nation__name",
            "organization__acronym",
            "organization__name",
            "signed_on",
            "ratified_on",
            "entered_into_force_on",
            "withdrawn_on",
            "status_today",
        )
    )


def _provisions_query(ids, user, today):
    # The agreement was read within the reader's clearance: the provisions' own level is
    # the rest of the rule (``of_visible_agreements``).
    return (
        Provision.objects.of_visible_agreements(user)
        .filter(agreement_id__in=ids)
        .values("id", "category", "title", "article", "text", "classification")
    )


_ACTS = Statement(_acts_query)
_PARTIES = Statement(_parties_query, by_day=True)
_PROVISIONS = Statement(_provisions_query)


def _parties(pk, user, today, has_acts: bool) -> list[dict]:
    """The parties in order, each with its acts and its status on ``today`` (from its
    periods, in the parties' query)."""
    acts = defaultdict(list)
    for act in _ACTS.rows(pk, user) if has_acts else ():
        acts[act.pop("party_id")].append(act)
    return [_party(row, acts[row["id"]]) for row in _PARTIES.rows(pk, user, today)]


def _party(row, acts) -> dict:
    nation = row["nation_id"] is not None
    return {
        "code": row["nation__iso3"] if nation else row["organization__acronym"] or "",
        "name": row["nation__name"] if nation else row["organization__name"] or "",
        "kind": "nation" if nation else "organization",
        **{name: iso(row[name]) for name in _PARTY_DATES},
        "status": row["status_today"],
        "acts": [
            {**act, "date": iso(act["date"]), "effective_on": iso(act["effective_on"])}
            for act in acts
        ],
    }


def _seen_by(row, user):
    """The version and update time ``user`` sees (``Versioned.version_for``)."""
    level = level_of(user)
    if not level:
        return 0, row["updated_at"]
    version, moment = revision_at(row["version"], row["revisions"], row["updated_at"], level)
    return version, (moment and parse_datetime(moment)) or row["updated_at"]


def _linked(row, name: str, user, link) -> dict | None:
    """A linked agreement, only when the user may see it."""
    pk = row[f"{name}__id"]
    if pk is None or not user.is_cleared_for(row[f"{name}__classification"]):
        return None
    return {
        "id": pk,
        "reference": row[f"{name}__reference"],
        "title": row[f"{name}__title"],
        "url": link("api:agreement-detail", pk),
    }


def _watchers(pk) -> list[str]:
    through = Agreement.watchers.through.objects.filter(agreement_id=pk)
    return sorted(through.values_list("user__username", flat=True))


def _contacts(pk, link) -> list[dict]:
    through = Agreement.contacts.through.objects.filter(agreement_id=pk)
    rows = through.order_by("pointofcontact__represents__name", "pointofcontact__name").values_list(
        "pointofcontact_id",
        "pointofcontact__name",
        "pointofcontact__rank",
        "pointofcontact__role",
        "pointofcontact__represents__iso3",
    )
    return [
        {
            "id": cid,
            "name": name,
            "rank": rank,
            "role": role,
            "represents": iso3,
            "url": link("api:point-of-contact-detail", cid),
        }
        for cid, name, rank, role, iso3 in rows
    ]


def _reviews(pk) -> list[dict]:
    rows = Review.objects.filter(agreement_id=pk).values_list(
        "id", "reviewed_on", "reviewer__username", "outcome", "notes"
    )
    return [
        {"id": rid, "reviewed_on": iso(day), "reviewer": who, "outcome": outcome, "notes": notes}
        for rid, day, who, outcome, notes in rows
    ]


def _events(pk) -> list[dict]:
    rows = AgreementEvent.objects.filter(agreement_id=pk).values_list("id", "kind", "date", "note")
    return [
        {"id": eid, "kind": kind, "date": iso(day), "note": note} for eid, kind, day, note in rows
    ]


def _reminders(pk, user) -> list[dict]:
    rows = (
        reminders_for(user)
        .filter(agreement_id=pk)
        .order_by("-due_on", "kind", "recipient")
        .values_list(
            "id", "kind", "due_on", "days_before", "recipient", "status", "attempts", "sent_at"
        )
    )
    return [
        {
            "id": rid,
            "kind": kind,
            "due_on": iso(due),
            "days_before": days,
            "recipient": recipient,
            "status": status,
            "attempts": attempts,
            "sent_at": None if sent is None else _datetime(sent),
        }
        for rid, kind, due, days, recipient, status, attempts, sent in rows
    ]


def _engagements(pk, user, link) -> list[dict]:
    rows = (
        engagements_in_short(user)
        .filter(agreements=pk)
        .values_list("id", "title", "kind", "status", "starts_on", "ends_on")
    )
    return [
        {
            "id": eid,
            "title": title,
            "kind": kind,
            "status": status,
            "starts_on": iso(starts),
            "ends_on": iso(ends),
            "url": link("api:engagement-detail", eid),
        }
        for eid, title, kind, status, starts, ends in rows
    ]
