"""What the agreement models share: the search index, the due-date rule, the agreement
queryset and the limits on dates and periods."""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Mapping
from typing import NamedTuple

from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator
from django.db import connections, models
from django.db.models import Exists, ExpressionWrapper, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Least

from accounts.clearance import ClassifiedQuerySet

from ..choices import AgreementStatus, EventKind, ReminderKind
from ..dates import validate_in_range

SEARCH_CONFIG = "english"


class SearchIndex(GinIndex):
    """A GIN index on PostgreSQL; elsewhere (SQLite) a plain index on the unused column, so
    the same migrations run on both."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return models.Index.create_sql(self, model, schema_editor, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


def _update_search_vector(instance, vector) -> None:
    """Store the full-text vector of a saved row (PostgreSQL only; on SQLite an FTS5 table
    follows the row by triggers, see ``agreements.search``)."""
    if connections[instance._state.db or "default"].vendor != "postgresql":
        return
    type(instance)._base_manager.filter(pk=instance.pk).update(search_vector=vector)


class DueDateRule(NamedTuple):
    kind: str  # a ReminderKind value
    field: str  # the agreement's date field
    statuses: tuple[str, ...]  # the statuses in which the date is due
    moot_once: str = ""  # a field that, once set, means the date is no longer due


# Which dates of an agreement are due, and in which statuses: the one rule behind
# ``Agreement.due_dates()`` and ``AgreementQuerySet.due_between()``, so every deadline list,
# the calendar feed and the reminder sweep agree. Expiry and notice deadline are due while the
# agreement is live (the notice deadline only until notice is given), the review also before
# signature; in a final status (expired, terminated, superseded) nothing is due.
DUE_DATE_RULES = (
    DueDateRule(ReminderKind.EXPIRY, "expires_on", tuple(AgreementStatus.live())),
    DueDateRule(
        ReminderKind.NOTICE_DEADLINE,
        "notice_deadline",
        tuple(AgreementStatus.live()),
        moot_once="notice_given_on",
    ),
    DueDateRule(
        ReminderKind.REVIEW,
        "next_review_on",
        tuple(AgreementStatus.pre_signature() + AgreementStatus.live()),
    ),
)


FAR_FUTURE = datetime.date(9999, 12, 31)


def _span(prefix: str = "", day: datetime.date | None = None) -> dict:
    """The days an agreement counts for membership questions, as annotations for a query
    whose rows reach the agreement through ``prefix``: ``_span_start`` (its entry into force;
    its signature when it never entered into force; today before signature), ``_span_last``
    (the last day: its expiry or today, whichever is first) and ``_span_stop`` (its
    termination: the first day it was no longer in force). With ``day``: just that day."""
    date = models.DateField()
    if day is not None:
        values = (Value(day), Value(day), Value(day + datetime.timedelta(days=1)))
    else:
        today = datetime.date.today()
        values = (
            Coalesce(f"{prefix}entered_into_force_on", f"{prefix}signed_on", Value(today)),
            Least(Coalesce(f"{prefix}expires_on", Value(today)), Value(today)),
            Coalesce(f"{prefix}terminated_on", Value(FAR_FUTURE)),
        )
    names = ("_span_start", "_span_last", "_span_stop")
    return {n: ExpressionWrapper(v, output_field=date) for n, v in zip(names, values, strict=True)}


def _member_during_span() -> Q:
    """A membership that overlaps the span annotated by ``_span`` on the outer query."""
    return (
        Q(joined_on__isnull=True)
        | Q(joined_on__lte=OuterRef("_span_last"), joined_on__lt=OuterRef("_span_stop"))
    ) & (Q(left_on__isnull=True) | Q(left_on__gt=OuterRef("_span_start")))


class AgreementQuerySet(ClassifiedQuerySet):
    def expiring_within(self, days: int, today: datetime.date | None = None):
        today = today or datetime.date.today()
        return self.filter(
            expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=days)
        )

    def due_between(self, start: datetime.date, end: datetime.date):
        """Agreements with any due date (see ``Agreement.due_dates()``) from ``start`` to
        ``end``, both included."""
        return self.due_in_windows(dict.fromkeys(ReminderKind.of_agreements(), (start, end)))

    def due_in_windows(self, windows: Mapping[str, tuple[datetime.date, datetime.date]]):
        """Agreements with a due date of some kind inside that kind's window (both ends
        included); kinds missing from ``windows`` are not looked at. An OR of one bounded
        range per kind, each on an indexed date column, so the date indexes stay usable."""
        conditions = []
        for rule in DUE_DATE_RULES:
            if rule.kind not in windows:
                continue
            condition = Q(status__in=rule.statuses, **{f"{rule.field}__range": windows[rule.kind]})
            if rule.moot_once:
                condition &= Q(**{f"{rule.moot_once}__isnull": True})
            conditions.append(condition)
        if not conditions:
            return self.none()
        return self.filter(functools.reduce(operator.or_, conditions))

    # Questions about a day: the one place their rules are written (docs/api.md says them
    # in words). Each is one EXISTS or a scalar subquery: the query count does not grow with
    # the number of parties, acts or members.

    def in_force_on(self, day: datetime.date):
        """In force on ``day``: signed, entered into force on or before it, not expired
        before it, not terminated on or before it, and not suspended on it (its latest
        ``suspended`` or ``resumed`` event on or before the day is not a suspension). The
        dyad-years read the same rule as spans of days (``dyad_years.in_force_spans``;
        tests/test_dyad_years.py checks that the two agree)."""
        from .reviews import AgreementEvent

        latest = (
            AgreementEvent.objects.filter(
                agreement=OuterRef("pk"),
                kind__in=[EventKind.SUSPENDED, EventKind.RESUMED],
                date__lte=day,
            )
            .order_by("-date", "-id")
            .values("kind")[:1]
        )
        queryset = self
        if day >= datetime.date.today():
            # Finished today with no date to say since when (terminated, expired or
            # superseded without a termination date or a past expiry): not in force today.
            queryset = queryset.exclude(
                Q(expires_on__isnull=True) | Q(expires_on__gte=day),
                status__in=AgreementStatus.final(),
                terminated_on__isnull=True,
            )
        return (
            queryset.exclude(status__in=AgreementStatus.pre_signature())
            .filter(
                Q(entered_into_force_on__lte=day),
                Q(expires_on__isnull=True) | Q(expires_on__gte=day),
                Q(terminated_on__isnull=True) | Q(terminated_on__gt=day),
            )
            .annotate(_suspension=Coalesce(Subquery(latest), Value("")))
            .exclude(_suspension=EventKind.SUSPENDED)
        )

    def with_party_bound_on(self, kind: str, pk: int, day: datetime.date):
        """The partner (``kind`` "nation" or "organization") was bound on ``day`` by its
        own acts (``agreements.party_acts``, stored as periods)."""
        from .parties import PartyPeriod

        periods = PartyPeriod.objects.bound_on(day).filter(
            agreement=OuterRef("pk"), **{f"party__{kind}_id": pk}
        )
        return self.filter(Exists(periods))

    def with_organization(self, organization_ids, day: datetime.date | None = None):
        """The organization is a party, or a party nation was a member of it while the
        agreement was in force: from its entry into force (its signature when it never
        entered into force; today before signature) to its end (termination or expiry) or
        today. With ``day``: a member on that day, and a party bound that day."""
        from partners.models import Membership

        from .parties import AgreementParty

        members = Membership.objects.filter(
            _member_during_span(),
            nation=OuterRef("nation_id"),
            organization_id__in=organization_ids,
        )
        parties = (
            AgreementParty.objects.filter(agreement=OuterRef("pk"))
            .annotate(**_span("agreement__", day))
            .filter(Q(organization_id__in=organization_ids) | Exists(members))
        )
        if day is not None:  # and that party was itself bound that day
            from .parties import PartyPeriod

            bound = PartyPeriod.objects.bound_on(day).filter(party=OuterRef("pk"))
            parties = parties.filter(Exists(bound))
        return self.filter(Exists(parties))

    def through_memberships_of(self, nation_id: int):
        """An organization is a party of which the nation was a member while the agreement
        was in force (the same span as ``with_organization``)."""
        from partners.models import Membership

        from .parties import AgreementParty

        memberships = Membership.objects.filter(
            _member_during_span(),
            nation_id=nation_id,
            organization_id=OuterRef("organization_id"),
        )
        parties = (
            AgreementParty.objects.filter(agreement=OuterRef("pk"), organization__isnull=False)
            .annotate(**_span("agreement__"))
            .filter(Exists(memberships))
        )
        return self.filter(Exists(parties))


# The longest periods an agreement may set: beyond them date arithmetic overflows.
MAX_PERIOD_MONTHS = 1200
MAX_PERIOD_DAYS = 36500


def at_most(limit: int, unit: str) -> MaxValueValidator:
    return MaxValueValidator(limit, message=f"Must be at most %(limit_value)s {unit}.")


# Every date field the registry is given carries this (the admin, the API's serializers
# derived from the models, the import and the services all refuse the same dates).
DATE_VALIDATORS = [validate_in_range]
