"""Territory routes (read-only; the reference is loaded by the CLI)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from otklik.bounds import DbInt, RefId
from otklik.deps import CurrentActor, SessionDep
from otklik.models.territory import TerritoryLevel
from otklik.territories import service
from otklik.territories.schemas import TerritoryList, TerritoryRead

router = APIRouter(prefix="/api/v1/territories", tags=["territories"])


@router.get("", response_model=TerritoryList)
def list_territories(
    actor: CurrentActor,
    session: SessionDep,
    level: TerritoryLevel | None = None,
    parent_id: RefId | None = None,
    region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
    q: str | None = Query(default=None, max_length=100),
    limit: Annotated[DbInt, Query(ge=1, le=1000)] = 100,
    offset: Annotated[DbInt, Query()] = 0,
) -> TerritoryList:
    """Territories in the caller's scope."""
    rows, total = service.list_territories(
        session, actor, level=level, parent_id=parent_id, region_code=region_code, q=q,
        limit=limit, offset=offset,
    )
    items = [TerritoryRead.model_validate(t) for t in rows]
    return TerritoryList(items=items, total=total, limit=limit, offset=offset)


@router.get("/{territory_id}", response_model=TerritoryRead)
def get_territory(territory_id: RefId, actor: CurrentActor, session: SessionDep) -> TerritoryRead:
    """One territory."""
    return TerritoryRead.model_validate(service.get_territory(session, actor, territory_id))
