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
    columns: list[Column]
    ticks: list[tuple[float, int]]  # (x, year) for the axis labels
    top: int
    width: int
    height: int
    plot_height: int
    first: int
    last: int

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def axis_y(self) -> int:
        return self.plot_height


def year_columns(counts: dict[int, int], url_for, *, width: int = 800) -> ColumnChart | None:
    """A column per year from the first year to the last (empty years stay as gaps), with
    at most about twelve year labels along the axis."""
    counts = {year: n for year, n in counts.items() if year is not None and n > 0}
    if not counts:
        return None
    first, last = min(counts), max(counts)
    years = list(range(first, last + 1))
    top = max(counts.values())
    plot_height, height = 180, 210
    slot = width / len(years)
    gap = min(slot * 0.2, 6)
    columns = []
    for index, year in enumerate(years):
        value = counts.get(year, 0)
        if not value:
            continue
        bar_height = max(plot_height * value / top, 2)
        columns.append(
            Column(
                year=year,
                value=value,
                url=url_for(year),
                x=round(index * slot + gap / 2, 2),
                y=round(plot_height - bar_height, 2),
                width=round(slot - gap, 2),
                height=round(bar_height, 2),
            )
        )
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if len(years) / s <= 12)
    ticks = [
        (round(index * slot + slot / 2, 2), year)
        for index, year in enumerate(years)
        if year % step == 0
    ]
    return ColumnChart(columns, ticks, top, width, height, plot_height, first, last)
