"""Dyad-years: one CSV row per pair of nations, year and agreement in which both nations were
bound by the agreement, the shape alliance and defense-cooperation data sets (ATOP, DCAD) use.

The rules (docs/api.md, "Dyad-years", says them in words):

- The agreement is in force on a day by the rule of ``AgreementQuerySet.in_force_on``: not a
  draft or under negotiation, entered into force on or before the day, not expired before it,
  not terminated on or before it, not suspended on it (its latest ``suspended`` or
  ``resumed`` event on or before the day is not a suspension), and never after today.
- A nation is bound on a day when one of its stored ``bound`` periods covers it
  (``agreements.party_acts`` derives them from its acts). Organizations are left out.
- Two nations form a dyad in a year when, on at least one common day of that year, both were
  bound and the agreement was in force.

Rows come agreement by agreement, in the order of the agreements given, and within one
agreement by ``party_a``, ``party_b``, then year. Each chunk of agreements costs a fixed
number of queries (bound periods, visible provision categories, suspensions), and only one
chunk is held in memory at a time.
"""

from __future__ import annotations

import csv
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db.models import Q, QuerySet

from .choices import AgreementStatus, EventKind, PartyStatus, ProvisionCategory
from .dates import EARLIEST, LATEST
from .export import _cell, _Echo
from .models import Agreement, AgreementEvent, PartyPeriod, Provision

DYAD_CHUNK = 500
FIRST_YEAR = EARLIEST.year
LAST_YEAR = LATEST.year
MAX_SPAN_YEARS = 500

CATEGORY_COLUMNS = tuple(ProvisionCategory.values)
DYAD_COLUMNS = ("year", "party_a", "party_b", "reference", "type", *CATEGORY_COLUMNS)

ONE_DAY = datetime.timedelta(days=1)
NEVER = datetime.date.max  # the end of an open span

Span = tuple[datetime.date, datetime.date]  # [start, end): the end day is not in it


def intersect(a: list[Span], b: list[Span]) -> list[Span]:
    """The days in both lists of sorted, non-overlapping spans."""
    found, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            found.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return found


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def suspended_spans(events: Iterable[tuple[str, datetime.date]]) -> list[Span]:
    """The days an agreement was suspended, from its ``suspended`` and ``resumed`` events in
    (date, id) order: from a suspension to the next resumption. On a day with several, the
    last one counts (as in ``in_force_on``)."""
    last_of_day: dict[datetime.date, str] = {}
    for kind, day in events:
        last_of_day[day] = kind
    spans, since = [], None
    for day in sorted(last_of_day):
        kind = last_of_day[day]
        if kind == EventKind.SUSPENDED and since is None:
            since = day
        elif kind == EventKind.RESUMED and since is not None:
            spans.append((since, day))
            since = None
    if since is not None:
        spans.append((since, NEVER))
    return spans


def in_force_spans(
    *,
    status: str,
    entered_into_force_on: datetime.date | None,
    expires_on: datetime.date | None,
    terminated_on: datetime.date | None,
    suspended: list[Span],
    until: datetime.date,
) -> list[Span]:
    """The days the agreement was in force, up to ``until`` (exclusive), by the rule of
    ``AgreementQuerySet.in_force_on``."""
    if status in AgreementStatus.pre_signature() or entered_into_force_on is None:
        return []
    end = until
    if expires_on is not None:
        end = min(end, expires_on + ONE_DAY)  # in force on the day it expires
    if terminated_on is not None:
        end = min(end, terminated_on)  # not in force on the day it is terminated
    if end <= entered_into_force_on:
        return []
    spans = [(entered_into_force_on, end)]
    for start, stop in suspended:
        spans = [
            piece
            for span_start, span_end in spans
            for piece in ((span_start, min(span_end, start)), (max(span_start, stop), span_end))
            if piece[0] < piece[1]
        ]
    return spans


def years_of(spans: list[Span]) -> Iterator[int]:
    """The calendar years that the sorted spans touch, each once, in order."""
    last = None
    for start, end in spans:
        for year in range(start.year, (end - ONE_DAY).year + 1):
            if year != last:
                yield year
                last = year


def dyads(bound: dict[str, list[Span]]) -> Iterator[tuple[int, str, str]]:
    """(year, party_a, party_b) for the nations' bound spans (already cut to the agreement's
    in-force days and the years asked for): pairs in code order, then years."""
    codes = sorted(bound)
    for n, a in enumerate(codes):
        for b in codes[n + 1 :]:
            for year in years_of(intersect(bound[a], bound[b])):
                yield year, a, b


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(rows, size)):
        yield batch


class _Chunk:
    """The bound periods, visible categories and suspensions of one chunk of agreements:
    three queries, whatever the number of agreements, parties or provisions."""

    def __init__(self, pks: list[int], *, user, window: Span):
        start, end = window
        self.periods: dict[int, dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))
        periods = PartyPeriod.objects.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=start),
            agreement_id__in=pks,
            status=PartyStatus.BOUND,
            party__nation__isnull=False,
            starts_on__lt=end,
        ).values_list("agreement_id", "party__nation__iso3", "starts_on", "ends_on")
        for agreement_id, iso3, starts_on, ends_on in periods.order_by():
            self.periods[agreement_id][iso3].append((starts_on, ends_on or NEVER))
        self.categories: dict[int, set[str]] = defaultdict(set)
        categories = (
            Provision.objects.visible_to(user)
            .filter(agreement_id__in=pks)
            .order_by()
            .values_list("agreement_id", "category")
            .distinct()
        )
        for agreement_id, category in categories:
            self.categories[agreement_id].add(category)
        self.events: dict[int, list[tuple[str, datetime.date]]] = defaultdict(list)
        events = (
            AgreementEvent.objects.filter(
                agreement_id__in=pks, kind__in=[EventKind.SUSPENDED, EventKind.RESUMED]
            )
            .order_by("agreement_id", "date", "id")
            .values_list("agreement_id", "kind", "date")
        )
        for agreement_id, kind, day in events:
            self.events[agreement_id].append((kind, day))


AGREEMENT_VALUES = (
    "pk",
    "reference",
    "type",
    "status",
    "entered_into_force_on",
    "expires_on",
    "terminated_on",
)


def dyad_year_rows(
    agreements: QuerySet[Agreement],
    *,
    user,
    first: int,
    last: int,
    today: datetime.date,
    chunk: int | None = None,
) -> Iterator[list]:
    """The rows (without the header) for the years ``first`` to ``last``, both included.
    ``agreements``: those the user may see (``visible_to``), filtered as wished."""
    window = (datetime.date(first, 1, 1), datetime.date(last + 1, 1, 1))
    until = min(today + ONE_DAY, window[1])
    size = chunk or DYAD_CHUNK
    values = agreements.prefetch_related(None).values_list(*AGREEMENT_VALUES)
    for batch in _batches(values.iterator(chunk_size=size), size):
        found = _Chunk([row[0] for row in batch], user=user, window=window)
        for pk, reference, type_, status, entered, expires, terminated in batch:
            nations = found.periods.get(pk)
            if not nations or len(nations) < 2:
                continue
            in_force = in_force_spans(
                status=status,
                entered_into_force_on=entered,
                expires_on=expires,
                terminated_on=terminated,
                suspended=suspended_spans(found.events.get(pk, ())),
                until=until,
            )
            in_force = intersect(in_force, [window])
            if not in_force:
                continue
            bound = {code: intersect(_union(spans), in_force) for code, spans in nations.items()}
            flags = [int(c in found.categories.get(pk, ())) for c in CATEGORY_COLUMNS]
            reference = _cell(reference)
            for year, a, b in dyads(bound):
                yield [year, a, b, reference, type_, *flags]


def dyad_year_lines(agreements: QuerySet[Agreement], **kwargs) -> Iterator[str]:
    """The header line, then one CSV line per dyad-year (``dyad_year_rows``)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(DYAD_COLUMNS)
    for row in dyad_year_rows(agreements, **kwargs):
        yield writer.writerow(row)
