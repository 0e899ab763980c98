"""Access to the territory reference shipped with the package.

The file ``otklik/territories/data/territories.json.gz`` is built by
``scripts/build_territories.py`` from open data (see the README next to it). It holds
regions, municipalities and all settlements of Russia; settlements are stored as a
column table (``{"columns": [...], "rows": [[...], ...]}``) to stay small.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib import resources
from typing import Any

DATA_PACKAGE = "otklik"
DATA_PATH = ("territories", "data")
TERRITORIES_FILE = "territories.json.gz"
REGIONS_GEOJSON_FILE = "regions.geojson.gz"


def _read_gzip_json(name: str) -> Any:
    resource = resources.files(DATA_PACKAGE).joinpath(*DATA_PATH, name)
    with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def load_territory_data() -> dict[str, Any]:
    """Return the territory reference (cached per process; treat it as read-only)."""
    return read_territory_data()


def read_territory_data() -> dict[str, Any]:
    """Read the territory reference afresh (not cached: ~90 MB once decoded)."""
    data: dict[str, Any] = _read_gzip_json(TERRITORIES_FILE)
    return data


@lru_cache(maxsize=1)
def load_region_outlines() -> dict[str, Any]:
    """Return the simplified region outlines as a GeoJSON FeatureCollection (cached)."""
    data: dict[str, Any] = _read_gzip_json(REGIONS_GEOJSON_FILE)
    return data


def settlement_records(data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Expand the settlement column table into one dict per settlement (not cached)."""
    data = data if data is not None else load_territory_data()
    columns: list[str] = data["settlements"]["columns"]
    return [dict(zip(columns, row, strict=True)) for row in data["settlements"]["rows"]]
