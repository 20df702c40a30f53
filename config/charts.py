"""Chart geometry for the pages: plain numbers the templates draw as SVG.

No inline style attributes (the Content-Security-Policy forbids them): bar lengths are SVG
attributes, computed here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    url: str
    length: float  # 0-100, the share of the longest bar

    @property
    def length_str(self) -> str:
        return f"{self.length:.2f}"


def bars(rows: Iterable[tuple[str, int, str]]) -> list[Bar]:
    """Horizontal bars from (label, value, url) rows, longest first; rows of 0 are dropped."""
    rows = [row for row in rows if row[1] > 0]
    top = max((value for _, value, _ in rows), default=0)
    return [
        Bar(label, value, url, 100.0 * value / top if top else 0.0)
        for label, value, url in sorted(rows, key=lambda row: (-row[1], row[0]))
    ]


@dataclass(frozen=True)
class Column:
    year: int
    value: int
    url: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ColumnChart:
    """Columns in a ``width`` x ``height`` plot (drawn stretched to the box the stylesheet
    gives it), a y scale of three values (0, half, top) for gridlines at the bottom, middle
    and top, and one x-axis slot per year, labelled every ``step`` years."""

    columns: list[Column]
    years: list[tuple[int, str]]  # every year of the axis, with its label or ""
    top: int  # the busiest year's count
    scale: int  # the value at the top of the plot: ``top`` rounded up to an even number
    width: int
    height: int
    first: int
    last: int

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def y_labels(self) -> list[int]:
        """Top to bottom, as the gridlines are drawn."""
        return [self.scale, self.scale // 2, 0]

    @property
    def middle(self) -> float:
        return self.height / 2


def _label_step(years: int) -> int:
    """Every how many years an axis label goes: about eight labels at most, so that four
    digits each fit a phone's width."""
    return next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500) if years / s <= 8)


def year_columns(counts: dict[int, int], url_for, *, width: int = 800) -> ColumnChart | None:
    """A column per year from the first year to the last (empty years stay as gaps)."""
    counts = {year: n for year, n in counts.items() if year is not None and n > 0}
    if not counts:
        return None
    first, last = min(counts), max(counts)
    years = list(range(first, last + 1))
    top = max(counts.values())
    scale = top + top % 2  # even, so that the middle gridline is a whole number
    height = 180
    slot = width / len(years)
    gap = min(slot * 0.2, 6)
    columns = []
    for index, year in enumerate(years):
        value = counts.get(year, 0)
        if not value:
            continue
        bar_height = max(height * value / scale, 2)
        columns.append(
            Column(
                year=year,
                value=value,
                url=url_for(year),
                x=round(index * slot + gap / 2, 2),
                y=round(height - bar_height, 2),
                width=round(slot - gap, 2),
                height=round(bar_height, 2),
            )
        )
    step = _label_step(len(years))
    labels = [(year, str(year) if year % step == 0 else "") for year in years]
    return ColumnChart(columns, labels, top, scale, width, height, first, last)
