"""Build the compact region map the analytics dashboard draws (development time only).

Reads ``../shared/data/geo`` (geoBoundaries RUS ADM1 outlines, ODbL 1.0; HFLabs region codes,
CC BY-SA 4.0) and writes ``src/otklik/web/static/geo/ru-regions.json``: a GeoJSON
FeatureCollection of the 83 regions with ``code`` (Otklik's region code, the OKATO prefix),
``iso`` and ``name`` (Russian), simplified for a country choropleth in a browser:

* Douglas-Peucker simplification with a tolerance of ``--tolerance`` degrees (0.04 by default,
  about 3-4 km: invisible at country scale, far too coarse for point-in-polygon);
* rings smaller than ``--min-area`` square degrees dropped (tiny Arctic islands), except a
  region's largest ring;
* longitudes west of 0 shifted by +360 so Chukotka is not cut in two at the antimeridian
  (the dashboard's map reads longitudes 19..191);
* coordinates rounded to 2 decimals (about 1 km).

The attribution the ODbL requires is shown under the map and in docs/data-sources.md.

    python scripts/build_geo.py [--source ../shared/data/geo] [--out src/otklik/web/static/geo]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "geo"
DEFAULT_OUT = ROOT / "src" / "otklik" / "web" / "static" / "geo"
OUTLINES = Path("geoboundaries-rus-adm1") / "russia_adm1_geoboundaries_simplified.geojson"
REGIONS = Path("hflabs-region") / "region.csv"
ATTRIBUTION = ("Границы регионов: © участники OpenStreetMap (ODbL 1.0), через geoBoundaries — "
               "Runfola D. et al. (2020) geoBoundaries. PLoS ONE 15(4): e0231866")

Point = tuple[float, float]


def _distance(p: Point, a: Point, b: Point) -> float:
    """Distance from ``p`` to the segment ``a``-``b`` (planar, in degrees)."""
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return float(((x - x1) ** 2 + (y - y1) ** 2) ** 0.5)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return float(((x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2) ** 0.5)


def douglas_peucker(points: list[Point], tolerance: float) -> list[Point]:
    """The Douglas-Peucker simplification of a polyline (iterative: rings are long)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack.extend(((first, index), (index, last)))
    return [p for p, k in zip(points, keep, strict=True) if k]


def ring_area(ring: list[Point]) -> float:
    """Unsigned area of a ring in square degrees (shoelace)."""
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1],
                                                                    strict=True))) / 2


def _shift(ring: list[list[float]]) -> list[Point]:
    return [(x + 360.0 if x < 0 else x, y) for x, y in ring]


def simplify_polygons(polygons: list[list[list[list[float]]]], tolerance: float,
                      min_area: float) -> list[list[list[list[float]]]]:
    """Simplify a MultiPolygon's coordinates; keep the largest ring of the region always."""
    areas = [ring_area(_shift(poly[0])) for poly in polygons]
    largest = max(range(len(polygons)), key=lambda i: areas[i])
    out = []
    for i, poly in enumerate(polygons):
        if i != largest and areas[i] < min_area:
            continue
        rings = []
        for j, ring in enumerate(poly):
            simple = douglas_peucker(_shift(ring), tolerance)
            if len(simple) < 4:
                if j == 0 and i == largest:
                    simple = _shift(ring)
                else:
                    continue
            rings.append([[round(x, 2), round(y, 2)] for x, y in simple])
        if rings:
            out.append(rings)
    return out


def build(source: Path, tolerance: float, min_area: float) -> dict[str, Any]:
    """The compact FeatureCollection."""
    with (source / REGIONS).open(encoding="utf-8") as handle:
        regions = {row["iso_code"]: row for row in csv.DictReader(handle)}
    raw = json.loads((source / OUTLINES).read_text(encoding="utf-8"))
    features = []
    for feature in raw["features"]:
        iso = feature["properties"]["shapeISO"]
        region = regions[iso]
        geometry = feature["geometry"]
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        features.append({"type": "Feature", "properties": {
            "code": region["okato"][:2], "iso": iso, "name": region["name_with_type"]},
            "geometry": {"type": "MultiPolygon",
                         "coordinates": simplify_polygons(polygons, tolerance, min_area)}})
    features.sort(key=lambda f: f["properties"]["code"])
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--tolerance", type=float, default=0.04)
    parser.add_argument("--min-area", type=float, default=0.05)
    args = parser.parse_args()
    collection = build(args.source, args.tolerance, args.min_area)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "ru-regions.json"
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")
    vertices = sum(len(r) for f in collection["features"]
                   for p in f["geometry"]["coordinates"] for r in p)
    print(f"{path}: {len(collection['features'])} regions, {vertices} vertices, "
          f"{path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
