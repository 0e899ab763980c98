"""Analytics API: the dashboard, its parts, the drill-down, ratings, comparison, the map."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from otklik.analytics import ratings as ratings_mod
from otklik.analytics import service
from otklik.analytics.schemas import (
    AnalyticsFilter,
    CompareList,
    Dashboard,
    DrillPage,
    FindingList,
    Ratings,
)
from otklik.bounds import DbInt, RefId
from otklik.deps import CurrentActor, SessionDep
from otklik.paging import Limit, Offset

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


def analytics_filter(
    period: Annotated[str | None, Query(description="2026-11, 2026-W47, 2026-Q4, 2026")] = None,
    date_from: date | None = None,
    date_to: Annotated[date | None, Query(description="last day, inclusive")] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{2,3}$")] = None,
    okrug: str | None = None,
    municipality_id: RefId | None = None,
    topic: str | None = None,
    source: str | None = None,
) -> AnalyticsFilter:
    """The filter from query parameters (the last 30 days by default)."""
    return AnalyticsFilter.from_params(
        period=period, date_from=date_from, date_to=date_to, region_code=region_code,
        okrug=okrug, municipality_id=municipality_id, topic=topic, source=source)


FilterDep = Annotated[AnalyticsFilter, Depends(analytics_filter)]


@router.get("/dashboard", response_model=Dashboard)
def get_dashboard(actor: CurrentActor, session: SessionDep, flt: FilterDep) -> Dashboard:
    """Every part of the dashboard for the filter, in the caller's scope."""
    return service.dashboard(session, actor, flt)


@router.get("/findings", response_model=FindingList)
def get_findings(actor: CurrentActor, session: SessionDep, flt: FilterDep, limit: Limit = 50,
                 offset: Offset = 0) -> FindingList:
    """Generated statements with their numbers and drill-downs."""
    return FindingList.of(service.dashboard(session, actor, flt).findings, limit, offset)


@router.get("/ratings/{subject}", response_model=Ratings)
def get_ratings(subject: Literal["executor", "municipality"], actor: CurrentActor,
                session: SessionDep, flt: FilterDep) -> Ratings:
    """Executors or municipalities ranked by the published formula."""
    builder = service.DashboardBuilder(session, actor, flt)
    return ratings_mod.rate(builder.performance(subject), subject)


@router.get("/compare", response_model=CompareList)
def compare(actor: CurrentActor, session: SessionDep, flt: FilterDep,
            regions: Annotated[list[str] | None, Query()] = None, limit: Limit = 50,
            offset: Offset = 0) -> CompareList:
    """Regions side by side (the named ones, or every visible one of the okrug)."""
    return CompareList.of(service.compare_regions(session, actor, flt, regions), limit, offset)


@router.get("/map/regions")
def map_regions(actor: CurrentActor, session: SessionDep, flt: FilterDep) -> dict[str, Any]:
    """Region outlines (GeoJSON) with messages and messages per 10,000 residents."""
    return service.region_map(session, actor, flt)


@router.get("/drill", response_model=DrillPage)
def drill(
    actor: CurrentActor,
    session: SessionDep,
    flt: FilterDep,
    kind: Literal["messages", "cases"] = "messages",
    sentiment: str | None = None,
    problem_id: DbInt | None = None,
    executor_id: RefId | None = None,
    metric: str | None = None,
    performance: bool = False,
    as_of: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DrillPage:
    """The messages or cases behind a dashboard number (pass the number's ``drill``)."""
    return service.drill_down(session, actor, kind, flt, sentiment=sentiment,
                              problem_id=problem_id, executor_id=executor_id, metric=metric,
                              performance=performance, as_of=as_of, limit=limit,
                              offset=offset)
