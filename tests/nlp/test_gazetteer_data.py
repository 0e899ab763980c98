"""The shipped territory reference: shape, keys and the demo regions' counts."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from otklik.nlp.gazetteer_data import (
    load_region_outlines,
    load_territory_data,
    settlement_records,
)

# From ../shared/data/geo/ru-settlements-rosstat/README.md.
DEMO_REGIONS = {
    "86": (831, 18, 621_581),  # Карелия
    "36": (1334, 37, 3_210_637),  # Самарская
    "68": (1584, 30, 1_015_966),  # Тамбовская
    "07": (929, 34, 2_799_655),  # Ставропольский
    "85": (264, 14, 272_647),  # Калмыкия
}


def test_counts_and_demo_regions() -> None:
    data = load_territory_data()
    munis = data["municipalities"]
    rows = data["settlements"]["rows"]
    assert len(data["regions"]) == 86
    assert len(rows) == 155_921
    per_region_munis = Counter(m["region"] for m in munis)
    per_region_settlements = Counter(munis[r[0]]["region"] for r in rows)
    regions = {r["code"]: r for r in data["regions"]}
    for code, (n_settlements, n_munis, population) in DEMO_REGIONS.items():
        assert per_region_settlements[code] == n_settlements, code
        assert per_region_munis[code] == n_munis, code
        assert regions[code]["population"] == population, code


def test_keys_unique_and_well_formed() -> None:
    data = load_territory_data()
    munis = data["municipalities"]
    assert len({m["key"] for m in munis}) == len(munis)
    assert len({r["code"] for r in data["regions"]}) == len(data["regions"])
    keys = [r[1] for r in data["settlements"]["rows"]]
    assert len(set(keys)) == len(keys)
    for row in data["settlements"]["rows"]:
        oktmo = row[7]
        assert oktmo is None or (len(oktmo) == 11 and oktmo.isdigit())
    kinds = {m["kind"] for m in munis}
    assert kinds <= {"municipal_district", "municipal_okrug", "city_okrug", "city_district",
                     "other"}


def test_regions_have_valid_timezones_and_capitals() -> None:
    regions = {r["code"]: r for r in load_territory_data()["regions"]}
    for region in regions.values():
        ZoneInfo(region["timezone"])
    assert regions["36"]["timezone"] == "Europe/Samara"
    assert regions["98"]["timezone"] == "Asia/Yakutsk"
    assert regions["86"]["capital"] == "Петрозаводск"
    assert regions["86"]["iso"] == "RU-KR"
    assert regions["86"]["federal_district"] == "Северо-Западный"


def test_display_names_follow_source_style() -> None:
    by_key = {m["key"]: m for m in load_territory_data()["municipalities"]}
    assert by_key["86624"]["name"] == "Медвежьегорский район"
    assert by_key["86624"]["kind"] == "municipal_district"
    assert by_key["85701"]["name"] == "городской округ Элиста"
    assert by_key["85701"]["kind"] == "city_okrug"
    assert by_key["68715"]["short_name"] == "Мичуринск"


def test_settlement_records_and_outlines() -> None:
    records = settlement_records()
    medvezhyegorsk = [r for r in records if r["name"] == "Медвежьегорск"]
    assert medvezhyegorsk and medvezhyegorsk[0]["type"] == "г"
    outlines = load_region_outlines()
    assert len(outlines["features"]) == 83
    assert {"iso", "code", "name"} == set(outlines["features"][0]["properties"])
