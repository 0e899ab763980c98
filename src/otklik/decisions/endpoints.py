"""Decisions registry routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from otklik.analytics.schemas import parse_period
from otklik.bounds import DbInt, RefId
from otklik.decisions import service
from otklik.decisions.schemas import (
    DecisionCountList,
    DecisionCreate,
    DecisionList,
    DecisionRead,
    DecisionUpdate,
    Effect,
    EffectMessage,
    EffectMessageList,
)
from otklik.deps import CurrentActor, SessionDep
from otklik.paging import Limit, Offset

router = APIRouter(prefix="/api/v1/decisions", tags=["decisions"])


def _period(period: str | None) -> tuple[date | None, date | None]:
    return parse_period(period) if period else (None, None)


@router.get("", response_model=DecisionList)
def list_decisions(
    actor: CurrentActor, session: SessionDep,
    region_code: Annotated[str | None, Query(pattern=r"^\d{2,3}$")] = None,
    period: Annotated[str | None, Query(description="2026, 2026-Q4, 2026-11")] = None,
    problem_id: DbInt | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DecisionList:
    """Decisions in the caller's scope, newest first."""
    start, end = _period(period)
    items, total = service.list_decisions(session, actor, region_code=region_code, start=start,
                                          end=end, problem_id=problem_id, limit=limit,
                                          offset=offset)
    return DecisionList(items=items, total=total, limit=limit, offset=offset)


@router.get("/counts", response_model=DecisionCountList)
def counts(actor: CurrentActor, session: SessionDep, period: str | None = None,
           region_code: Annotated[str | None, Query(pattern=r"^\d{2,3}$")] = None,
           limit: Limit = 50, offset: Offset = 0) -> DecisionCountList:
    """Decisions and budgets per region in a period (the yearly figures centers report): one
    row per region with decisions, so a list (of the caller's regions, or one of them)."""
    start, end = _period(period)
    rows = [r for r in service.count_by_region(session, actor, start, end)
            if region_code is None or r.region_code == region_code]
    return DecisionCountList.of(rows, limit, offset)


@router.post("", response_model=DecisionRead, status_code=201)
def create(payload: DecisionCreate, actor: CurrentActor, session: SessionDep) -> DecisionRead:
    """Record a decision."""
    decision = service.create_decision(session, actor, payload)
    return service.read(session, decision)


@router.get("/{decision_id}", response_model=DecisionRead)
def get(decision_id: RefId, actor: CurrentActor, session: SessionDep) -> DecisionRead:
    """One decision with its links."""
    return service.read(session, service.get_decision(session, actor, decision_id))


@router.patch("/{decision_id}", response_model=DecisionRead)
def update(decision_id: RefId, payload: DecisionUpdate, actor: CurrentActor,
           session: SessionDep) -> DecisionRead:
    """Change a decision."""
    return service.read(session, service.update_decision(session, actor, decision_id, payload))


@router.delete("/{decision_id}", status_code=204)
def delete(decision_id: RefId, actor: CurrentActor, session: SessionDep) -> Response:
    """Remove a decision recorded by mistake."""
    service.delete_decision(session, actor, decision_id)
    return Response(status_code=204)


@router.get("/{decision_id}/effect", response_model=Effect)
def effect(decision_id: RefId, actor: CurrentActor, session: SessionDep,
           window: Annotated[int, Query(ge=1, le=366)] = service.DEFAULT_WINDOW) -> Effect:
    """Messages on the decision's subjects per day before and after it."""
    return service.effect(session, actor, decision_id, window)


@router.get("/{decision_id}/messages", response_model=EffectMessageList)
def messages(decision_id: RefId, actor: CurrentActor, session: SessionDep,
             side: Literal["before", "after"] = "after",
             window: Annotated[int, Query(ge=1, le=366)] = service.DEFAULT_WINDOW,
             limit: Limit = 50, offset: Offset = 0) -> EffectMessageList:
    """The messages counted on one side of the effect."""
    rows, total = service.effect_messages(session, actor, decision_id, side, window, limit,
                                          offset)
    return EffectMessageList(items=[EffectMessage(id=i, at=at, text=text)
                                    for i, at, text in rows],
                             total=total, limit=limit, offset=offset)
