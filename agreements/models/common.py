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
from django.db.models import Q

from accounts.clearance import ClassifiedQuerySet

from ..choices import AgreementStatus, ReminderKind
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
    """Store the full-text vector of a saved row (PostgreSQL only; SQLite searches with
    ``icontains`` instead)."""
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


class AgreementQuerySet(ClassifiedQuerySet):
    def expiring_within(self, days: int, today: datetime.date | None = None):
        today = today or datetime.date.today()
        return self.filter(
            expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=days)
        )

    def due_between(self, start: datetime.date, end: datetime.date):
        """Agreements with any due date (see ``Agreement.due_dates()``) from ``start`` to
        ``end``, both included."""
        return self.due_in_windows(dict.fromkeys(ReminderKind.values, (start, end)))

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


# The longest periods an agreement may set: beyond them date arithmetic overflows.
MAX_PERIOD_MONTHS = 1200
MAX_PERIOD_DAYS = 36500


def at_most(limit: int, unit: str) -> MaxValueValidator:
    return MaxValueValidator(limit, message=f"Must be at most %(limit_value)s {unit}.")


# Every date field the registry is given carries this (the admin, the API's serializers
# derived from the models, the import and the services all refuse the same dates).
DATE_VALIDATORS = [validate_in_range]
