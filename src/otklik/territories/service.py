"""Territory rules: loading the shipped reference, scoped reads, finding a region by name."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.errors import InvalidInput, NotFound
from otklik.models.territory import Territory, TerritoryLevel
from otklik.nlp.gazetteer_data import load_territory_data
from otklik.territories.repository import TerritoryRepository
from otklik.territories.schemas import LoadSummary

Progress = Callable[[int], None]
BATCH = 5000


def load_territories(
    session: Session,
    actor: Actor,
    region_codes: Collection[str] | None = None,
    progress: Progress | None = None,
) -> LoadSummary:
    """Upsert regions, municipalities and settlements from the shipped reference.

    Idempotent: running it twice changes nothing; keys (OKTMO where valid) identify rows.
    ``progress`` is called with the number of rows handled since the last call.
    """
    data = load_territory_data()
    wanted = set(region_codes) if region_codes else None
    known = {r["code"] for r in data["regions"]}
    if wanted and (missing := sorted(wanted - known)):
        raise InvalidInput(f"unknown region code(s): {', '.join(missing)}")
    repo = TerritoryRepository(session)
    existing = repo.keys_to_ids()
    counts = {"inserted": 0, "updated": 0}

    def upsert(rows: list[dict[str, Any]]) -> None:
        new = [r for r in rows if r["key"] not in existing]
        old = [{**r, "id": existing[r["key"]]} for r in rows if r["key"] in existing]
        repo.insert_many(new)
        repo.update_many(old)
        counts["inserted"] += len(new)
        counts["updated"] += len(old)
        if progress:
            progress(len(rows))

    regions = [r for r in data["regions"] if wanted is None or r["code"] in wanted]
    upsert([_region_row(r) for r in regions])
    existing.update(repo.keys_to_ids())
    region_ids = {r["code"]: existing[r["code"]] for r in regions}
    region_tz = {r["code"]: r.get("timezone") for r in regions}

    municipalities = data["municipalities"]
    upsert(
        [
            _municipality_row(m, region_ids[m["region"]], region_tz[m["region"]])
            for m in municipalities
            if m["region"] in region_ids
        ]
    )
    existing.update(repo.keys_to_ids())

    columns = data["settlements"]["columns"]
    batch: list[dict[str, Any]] = []
    for row in data["settlements"]["rows"]:
        settlement = dict(zip(columns, row, strict=True))
        municipality = municipalities[settlement["municipality"]]
        if municipality["region"] not in region_ids:
            continue
        batch.append(
            _settlement_row(settlement, municipality, existing[municipality["key"]],
                            region_tz[municipality["region"]])
        )
        if len(batch) >= BATCH:
            upsert(batch)
            batch = []
    upsert(batch)
    audit.record(
        session, actor, "territories.load", "territory", None,
        details={"version": data["version"], **counts, "regions": sorted(region_ids)},
    )
    return LoadSummary(version=data["version"], regions=len(region_ids), **counts)


def territory_row_count(region_codes: Collection[str] | None = None) -> int:
    """How many rows a load will handle (for a progress bar)."""
    data = load_territory_data()
    wanted = set(region_codes) if region_codes else None
    munis = data["municipalities"]
    if wanted is None:
        return len(data["regions"]) + len(munis) + len(data["settlements"]["rows"])
    index = data["settlements"]["columns"].index("municipality")
    return (
        len(wanted)
        + sum(1 for m in munis if m["region"] in wanted)
        + sum(1 for s in data["settlements"]["rows"] if munis[s[index]]["region"] in wanted)
    )


def _region_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": r["code"],
        "level": TerritoryLevel.region,
        "parent_id": None,
        "region_code": r["code"],
        "name": r["name"],
        "short_name": r.get("short_name"),
        "kind": r.get("type"),
        "oktmo": r.get("oktmo"),
        "population": r.get("population"),
        "lat": r.get("lat"),
        "lon": r.get("lon"),
        "timezone": r.get("timezone"),
        "federal_district": r.get("federal_district"),
        "iso_code": r.get("iso"),
        "names": {"capital": r.get("capital")} if r.get("capital") else {},
    }


def _municipality_row(m: dict[str, Any], parent_id: int, tz: str | None) -> dict[str, Any]:
    return {
        "key": m["key"],
        "level": TerritoryLevel.municipality,
        "parent_id": parent_id,
        "region_code": m["region"],
        "name": m["name"],
        "short_name": m.get("short_name"),
        "kind": m.get("kind"),
        "oktmo": m.get("oktmo"),
        "population": m.get("population"),
        "lat": m.get("lat"),
        "lon": m.get("lon"),
        "timezone": tz,
        "federal_district": None,
        "iso_code": None,
        "names": {"source": m["source_name"]} if m.get("source_name") != m["name"] else {},
    }


def _settlement_row(
    s: dict[str, Any], m: dict[str, Any], parent_id: int, tz: str | None
) -> dict[str, Any]:
    return {
        "key": s["key"],
        "level": TerritoryLevel.settlement,
        "parent_id": parent_id,
        "region_code": m["region"],
        "name": s["name"],
        "short_name": None,
        "kind": s.get("type"),
        "oktmo": s.get("oktmo"),
        "population": s.get("population"),
        "lat": s.get("lat"),
        "lon": s.get("lon"),
        "timezone": tz,
        "federal_district": None,
        "iso_code": None,
        "names": {},
    }


def list_territories(
    session: Session,
    actor: Actor,
    *,
    level: TerritoryLevel | None = None,
    parent_id: int | None = None,
    region_code: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Territory], int]:
    """Territories the actor may see, filtered and paged."""
    actor.require("read")
    return TerritoryRepository(session).page(
        actor.scope, level=level, parent_id=parent_id, region_code=region_code, q=q,
        limit=limit, offset=offset,
    )


def get_territory(session: Session, actor: Actor, territory_id: int) -> Territory:
    """One territory; outside the actor's scope it does not exist."""
    actor.require("read")
    territory = TerritoryRepository(session).get(territory_id)
    if territory is None or not actor.scope.sees_region(territory.region_code):
        raise NotFound(f"territory {territory_id} not found")
    return territory


def resolve_region_code(name_or_code: str) -> str:
    """Find a region's code from a code ("68") or a name in a common form ("Тамбовская")."""
    value = name_or_code.strip().lower().replace("ё", "е")
    regions = load_territory_data()["regions"]
    for region in regions:
        candidates = {
            region["code"],
            region["name"].lower().replace("ё", "е"),
            (region.get("short_name") or "").lower().replace("ё", "е"),
            (region.get("iso") or "").lower(),
        }
        if value in candidates:
            return str(region["code"])
    matches = [r for r in regions if value and value in r["name"].lower().replace("ё", "е")]
    if len(matches) == 1:
        return str(matches[0]["code"])
    raise InvalidInput(
        f"unknown region {name_or_code!r}: give a 2-digit code (e.g. 68) or a name "
        "such as «Тамбовская область»"
    )
