"""Official pages API: the registry and the weekly rating (scoped like every list)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from otklik.bounds import RefId
from otklik.deps import CurrentActor, SessionDep
from otklik.paging import Limit, Offset
from otklik.publics import service
from otklik.publics.repository import PageFilter
from otklik.publics.schemas import PageCreate, PageList, PageRead, RatingList, RatingRead

router = APIRouter(prefix="/api/v1/publics", tags=["publics"])


def _page_filter(region_code: str | None, page_type: str | None, status: str | None = None
                 ) -> PageFilter:
    return PageFilter(region_code=region_code, page_type=page_type, status=status)


@router.get("/pages", response_model=PageList)
def list_pages(
    actor: CurrentActor, session: SessionDep,
    region_code: Annotated[str | None, Query(pattern=r"^\d{2,3}$")] = None,
    page_type: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageList:
    """Pages of the registry in the caller's scope (a page owner: their own)."""
    rows, total = service.list_pages(session, actor, _page_filter(region_code, page_type,
                                                                  status),
                                     limit=limit, offset=offset)
    return PageList(items=[PageRead.model_validate(p) for p in rows], total=total,
                    limit=limit, offset=offset)


@router.post("/pages", response_model=PageRead, status_code=201)
def add_page(payload: PageCreate, actor: CurrentActor, session: SessionDep) -> PageRead:
    """Add a page to the registry by its link."""
    return PageRead.model_validate(service.add_page(session, actor, payload))


@router.get("/pages/{page_id}", response_model=RatingRead | None)
def page_rating(actor: CurrentActor, session: SessionDep, page_id: RefId,
                week: Annotated[str | None, Query(max_length=8)] = None) -> RatingRead | None:
    """A page's score of a week (the newest by default) with the breakdown and advice;
    null when it has never been rated."""
    card = service.page_card(session, actor, page_id, week)
    return _read(card.rated) if card.rated else None


@router.get("/ratings", response_model=RatingList)
def ratings(
    actor: CurrentActor, session: SessionDep,
    week: Annotated[str | None, Query(max_length=8, description="2026-W49; newest by default")
                    ] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{2,3}$")] = None,
    page_type: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RatingList:
    """A week's ratings in the caller's scope, ranked; ``score`` null = no data."""
    service.require_reader(actor)  # also when nothing is rated yet
    chosen = service.week_or_latest(session, week)
    if chosen is None:
        return RatingList(week=None, methodology_version=None, items=[], total=0, limit=limit,
                          offset=offset)
    rated, total, version = service.rating_list(session, actor, chosen,
                                                _page_filter(region_code, page_type),
                                                limit=limit, offset=offset)
    return RatingList(week=chosen, methodology_version=version,
                      items=[_read(r) for r in rated], total=total, limit=limit,
                      offset=offset)


def _read(rated: service.RatedPage) -> RatingRead:
    r = rated.rating
    return RatingRead(page_id=rated.page.id, name=rated.page.name, week=r.week,
                      methodology_version=rated.version, score=r.score,
                      rank_municipality=r.rank_municipality, rank_region=r.rank_region,
                      movement=r.movement, criteria=rated.criteria)
