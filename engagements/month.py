"""The month calendar of engagements: weeks from Monday to Sunday, each engagement drawn as
a bar across the days it lasts in each week (lanes packed so that bars never overlap), and
the same month as a list of days for narrow screens. Plain data for the template: no
JavaScript is needed to read it."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.http import urlencode

from agreements.dates import EARLIEST, LATEST

from .models import Engagement

MONTH = re.compile(r"(\d{4})-(\d{2})")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_month(raw: str, today: datetime.date) -> tuple[datetime.date | None, str]:
    """The first day of the month ``raw`` names (``YYYY-MM``; empty: this month), or None
    and the reason it names none."""
    if not raw:
        return today.replace(day=1), ""
    match = MONTH.fullmatch(raw)
    if match is None:
        return None, f"“{raw[:20]}” is not a month: give it as YYYY-MM, for example 2026-06."
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None, f"There is no month {match.group(2)}: give a month from 01 to 12."
    if not EARLIEST.year <= year <= LATEST.year:
        return None, f"Choose a month from {EARLIEST:%Y-%m} to {LATEST:%Y-%m}."
    return datetime.date(year, month, 1), ""


def last_of(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def grid_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The Monday before (or on) the month's first day and the Sunday after (or on) its
    last: the days the grid shows."""
    first = month - datetime.timedelta(days=month.weekday())
    last = last_of(month)
    return first, last + datetime.timedelta(days=6 - last.weekday())


def _shift(month: datetime.date, months: int) -> datetime.date | None:
    index = month.year * 12 + month.month - 1 + months
    shifted = datetime.date(index // 12, index % 12 + 1, 1) if index >= 0 else None
    if shifted is None or not EARLIEST <= shifted <= LATEST:
        return None
    return shifted


def list_url_for(month: datetime.date) -> str:
    """The engagement list of the engagements with a day in ``month``."""
    params = {"ends_after": month.isoformat(), "starts_before": last_of(month).isoformat()}
    return f"{reverse('engagements:list')}?{urlencode(params)}"


@dataclass
class Bar:
    """An engagement's days in one week: from column ``start`` (0, Monday) for ``span``
    days; ``before``/``after``: it goes on before or after this week."""

    engagement: Engagement
    start: int
    span: int
    before: bool
    after: bool


@dataclass
class Cell:
    span: int
    bar: Bar | None = None  # None: empty days


@dataclass
class Day:
    date: datetime.date
    in_month: bool
    today: bool


@dataclass
class Week:
    days: list[Day]
    lanes: list[list[Cell]] = field(default_factory=list)


@dataclass
class AgendaDay:
    """A day of the month on which engagements start (or, on the first day, go on)."""

    date: datetime.date
    engagements: list[Engagement]


@dataclass
class MonthGrid:
    month: datetime.date
    weeks: list[Week]
    agenda: list[AgendaDay]
    previous: datetime.date | None
    next: datetime.date | None
    weekdays: tuple[str, ...] = WEEKDAYS

    @property
    def count(self) -> int:
        return sum(len(day.engagements) for day in self.agenda)


def _lanes(bars: list[Bar]) -> list[list[Cell]]:
    """Bars packed into as few rows as they need, each row the cells of a week."""
    rows: list[list[Bar]] = []
    for bar in sorted(bars, key=lambda b: (b.start, -b.span)):
        for row in rows:
            if row[-1].start + row[-1].span <= bar.start:
                row.append(bar)
                break
        else:
            rows.append([bar])
    lanes = []
    for row in rows:
        cells, column = [], 0
        for bar in row:
            if bar.start > column:
                cells.append(Cell(bar.start - column))
            cells.append(Cell(bar.span, bar))
            column = bar.start + bar.span
        if column < 7:
            cells.append(Cell(7 - column))
        lanes.append(cells)
    return lanes


def month_grid(month: datetime.date, engagements: list[Engagement], today: datetime.date):
    """The grid of ``month`` with ``engagements`` (those with a day in the grid's weeks, in
    the order to list them)."""
    first, last = grid_bounds(month)
    month_last = last_of(month)
    weeks = []
    start = first
    while start <= last:
        end = start + datetime.timedelta(days=6)
        days = [
            Day(day, day.month == month.month, day == today)
            for day in (start + datetime.timedelta(days=n) for n in range(7))
        ]
        bars = []
        for engagement in engagements:
            begins, ends = engagement.starts_on, engagement.last_day
            if begins > end or ends < start:
                continue
            shown_from, shown_to = max(begins, start), min(ends, end)
            bars.append(
                Bar(
                    engagement,
                    (shown_from - start).days,
                    (shown_to - shown_from).days + 1,
                    begins < start,
                    ends > end,
                )
            )
        weeks.append(Week(days, _lanes(bars)))
        start = end + datetime.timedelta(days=1)

    by_day: dict[datetime.date, list[Engagement]] = {}
    for engagement in engagements:
        if engagement.starts_on > month_last or engagement.last_day < month:
            continue
        by_day.setdefault(max(engagement.starts_on, month), []).append(engagement)
    agenda = [AgendaDay(day, rows) for day, rows in sorted(by_day.items())]
    return MonthGrid(month, weeks, agenda, _shift(month, -1), _shift(month, 1))
