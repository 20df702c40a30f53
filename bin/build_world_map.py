#!/usr/bin/env python3
"""Build partners/data/world-110m.json, the country shapes of the partner maps, from the npm
package world-atlas (Natural Earth 1:110m admin-0 countries as TopoJSON).

Run by hand when the source changes, never at install or run time (the output is committed,
so ``make run`` needs no npm)::

    cd "$(mktemp -d)" && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    .venv/bin/python bin/build_world_map.py "$PWD/package/countries-110m.json"

What it does: decodes the TopoJSON arcs, drops Antarctica, cuts the rings that jump across
the 180th meridian (Fiji, Chukotka) into pieces closed along it, projects longitude and latitude
with the Natural Earth I projection (Šavrič, Jenny, Patterson, Petrovič and Hurni, 2011: a
polynomial in latitude), scales the world to 1000 units wide, rounds to whole units and
writes each country as one compact SVG path (relative moves) keyed by its ISO 3166-1
alpha-3 code (from the numeric code world-atlas gives, through pycountry). The few shapes
Natural Earth draws without an ISO code (Kosovo, N. Cyprus, Somaliland) are kept as land
without a code. See partners/data/WORLD_MAP_SOURCES.md for the licences.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pycountry

OUTPUT = Path(__file__).resolve().parent.parent / "partners" / "data" / "world-110m.json"
SOURCE = "world-atlas 2.0.2 (npm), countries-110m.json: Natural Earth 4.1.0 admin-0 countries"
WIDTH = 1000
LEFT_OUT = {"010"}  # Antarctica: no partner there, and it takes a fifth of the height


def natural_earth(lon: float, lat: float) -> tuple[float, float]:
    """The Natural Earth I projection of a point in degrees (x east, y north, in radians of
    the unit sphere)."""
    lam, phi = math.radians(lon), math.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Every arc as a list of (longitude, latitude): quantized, delta-encoded positions."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _crossing(a, b) -> float:
    """The latitude where the edge from ``a`` to ``b`` (which jumps across the antimeridian)
    meets it."""
    (lon_a, lat_a), (lon_b, lat_b) = a, b
    lon_b += 360 if lon_a > 0 else -360
    edge = 180 if lon_a > 0 else -180
    t = (edge - lon_a) / (lon_b - lon_a) if lon_b != lon_a else 0
    return lat_a + t * (lat_b - lat_a)


def split_at_antimeridian(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A ring cut where it jumps across the 180th meridian (Fiji, Chukotka): each piece
    closed along the meridian, so no edge runs across the whole map."""
    if points and points[0] == points[-1]:
        points = points[:-1]
    jumps = [i for i in range(len(points)) if abs(points[i][0] - points[i - 1][0]) > 180]
    if not jumps:
        return [points]
    start = jumps[0]
    cyclic = points[start:] + points[:start] + [points[start]]
    first = cyclic[0]
    previous = points[start - 1]
    pieces = [[(180.0 if first[0] > 0 else -180.0, _crossing(previous, first)), first]]
    for a, b in zip(cyclic, cyclic[1:], strict=False):
        if abs(b[0] - a[0]) > 180:
            lat = _crossing(a, b)
            pieces[-1].append((180.0 if a[0] > 0 else -180.0, lat))
            pieces.append([(180.0 if b[0] > 0 else -180.0, lat)])
        if b is not cyclic[-1]:
            pieces[-1].append(b)
    return [piece for piece in pieces if len(piece) >= 3]


def polygons(geometry: dict) -> list[list[list[int]]]:
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def alpha3(numeric: str | None) -> str:
    if not numeric:
        return ""
    country = pycountry.countries.get(numeric=numeric)
    return country.alpha_3 if country else ""


def path_data(rings: list[list[tuple[int, int]]]) -> str:
    """An SVG path of closed rings in relative moves, with no separator a sign makes
    unnecessary ("m12 3l4-1 2 0z")."""

    def pair(dx: int, dy: int) -> str:
        return f"{dx}{'' if dy < 0 else ' '}{dy}"

    out = []
    cursor = (0, 0)
    for points in rings:
        start = points[0]
        out.append("m" + pair(start[0] - cursor[0], start[1] - cursor[1]))
        steps = [pair(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:], strict=False)]
        if steps:
            joined = steps[0]
            for step in steps[1:]:
                joined += step if step.startswith("-") else " " + step
            out.append("l" + joined)
        out.append("z")
        cursor = start  # after "z" the current point is the ring's start
    return "".join(out)


def build(topology: dict) -> dict:
    arcs = decode_arcs(topology)
    countries = topology["objects"]["countries"]["geometries"]
    projected = []
    for geometry in countries:
        if geometry.get("id") in LEFT_OUT:
            continue
        shape = [
            [natural_earth(lon, lat) for lon, lat in piece]
            for polygon in polygons(geometry)
            for indexes in polygon
            for piece in split_at_antimeridian(ring(indexes, arcs))
        ]
        projected.append((geometry, shape))
    xs = [x for _, shape in projected for points in shape for x, _ in points]
    ys = [y for _, shape in projected for points in shape for _, y in points]
    scale = WIDTH / (max(xs) - min(xs))
    left, top = min(xs), max(ys)
    height = round((max(ys) - min(ys)) * scale)
    shapes = []
    for geometry, shape in projected:
        rings = []
        for points in shape:
            rounded = []
            for x, y in points:
                point = (round((x - left) * scale), round((top - y) * scale))
                if not rounded or rounded[-1] != point:
                    rounded.append(point)
            if len(rounded) > 1 and rounded[0] == rounded[-1]:
                rounded.pop()
            if len(set(rounded)) >= 3:
                rings.append(rounded)
        if rings:
            shapes.append(
                {
                    "iso3": alpha3(geometry.get("id")),
                    "name": geometry["properties"]["name"],
                    "d": path_data(rings),
                }
            )
    shapes.sort(key=lambda s: (s["iso3"] or "~", s["name"]))
    return {
        "source": SOURCE,
        "licence": "Natural Earth: public domain; world-atlas: ISC (see WORLD_MAP_SOURCES.md)",
        "projection": "Natural Earth I, Antarctica left out",
        "width": WIDTH,
        "height": height,
        "shapes": shapes,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    topology = json.loads(Path(argv[1]).read_text())
    data = build(topology)
    OUTPUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{OUTPUT}: {len(data['shapes'])} shapes, {OUTPUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
