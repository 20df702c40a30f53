"""The world map of the partner pages: country shapes by ISO alpha-3 code, shaded by a count
per nation (the agreements in force with it, counted by the caller: ``partners`` knows
nothing of agreements).

The shapes are ``data/world-110m.json``, built by ``bin/build_world_map.py`` from Natural
Earth's 1:110m countries (see ``data/WORLD_MAP_SOURCES.md``); they are read once per process.
The map is drawn on the server as inline SVG (``templates/includes/world_map.html``): each
country a link to its nation page with a ``<title>``, shades set by CSS classes (light and
dark schemes), and a table of the same numbers beside it."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from django.urls import reverse

from .models import Nation

SHAPES_FILE = Path(__file__).parent / "data" / "world-110m.json"

# The shades: (lowest count, legend label). Each step doubles, since a few partners have
# many agreements and most have one or two.
BUCKETS = ((1, "1"), (2, "2–3"), (4, "4–7"), (8, "8–15"), (16, "16 or more"))


@dataclass(frozen=True)
class Shape:
    iso3: str  # "" for land Natural Earth draws without an ISO code
    name: str
    d: str  # SVG path data in the map's coordinates


@dataclass(frozen=True)
class Shapes:
    width: int
    height: int
    source: str
    shapes: tuple[Shape, ...]


@functools.cache
def world_shapes() -> Shapes:
    data = json.loads(SHAPES_FILE.read_text(encoding="utf-8"))
    return Shapes(
        width=data["width"],
        height=data["height"],
        source=data["source"],
        shapes=tuple(Shape(s["iso3"], s["name"], s["d"]) for s in data["shapes"]),
    )


def bucket(count: int) -> int:
    """The shade of a count: 0 for none, then 1 to len(BUCKETS)."""
    shade = 0
    for index, (lowest, _label) in enumerate(BUCKETS, start=1):
        if count >= lowest:
            shade = index
    return shade


@dataclass(frozen=True)
class MapCountry:
    iso3: str
    name: str
    d: str
    count: int
    shade: int
    url: str  # "" when the registry has no such nation
    is_self: bool = False


@dataclass(frozen=True)
class LegendEntry:
    shade: int
    label: str


@dataclass(frozen=True)
class WorldMap:
    width: int
    height: int
    countries: list[MapCountry]
    rows: list[tuple[str, str, int, str]]  # (name, nation URL, count, list URL) with count > 0
    legend: list[LegendEntry]
    source: str
    unmapped: int  # nations with a count but no shape at this scale (small islands)
    highlight: str = ""


def world_map(
    counts: dict[str, int], *, count_url=None, highlight: Nation | None = None
) -> WorldMap:
    """Every country shaded by ``counts`` (ISO alpha-3 to a number); ``count_url(iso3)``: the
    link for a number in the table; ``highlight``: the nation the map is drawn for (its own
    shape marked, not counted). One query: the names and codes of the nations."""
    shapes = world_shapes()
    codes = {s.iso3 for s in shapes.shapes if s.iso3} | set(counts)
    names = dict(Nation.objects.filter(iso3__in=codes).values_list("iso3", "name"))
    own = highlight.iso3 if highlight is not None else ""
    countries = []
    for shape in shapes.shapes:
        known = shape.iso3 in names
        count = counts.get(shape.iso3, 0)
        countries.append(
            MapCountry(
                iso3=shape.iso3,
                name=names.get(shape.iso3, shape.name),
                d=shape.d,
                count=count,
                shade=bucket(count),
                url=reverse("partners:nation", args=[shape.iso3]) if known else "",
                is_self=bool(own) and shape.iso3 == own,
            )
        )
    drawn = {s.iso3 for s in shapes.shapes}
    rows = sorted(
        (
            (
                names[iso3],
                reverse("partners:nation", args=[iso3]),
                count,
                count_url(iso3) if count_url else "",
            )
            for iso3, count in counts.items()
            if count > 0 and iso3 in names and iso3 != own
        ),
        key=lambda row: (-row[2], row[0]),
    )
    return WorldMap(
        width=shapes.width,
        height=shapes.height,
        countries=countries,
        rows=rows,
        legend=[LegendEntry(0, "none")]
        + [LegendEntry(i, label) for i, (_, label) in enumerate(BUCKETS, start=1)],
        source=shapes.source,
        unmapped=sum(1 for iso3, n in counts.items() if n > 0 and iso3 not in drawn),
        highlight=highlight.name if highlight is not None else "",
    )
