"""Queues that need a decision: triage, moderation, extension requests, problems.

Views stay thin: reads go through workspace_queries and the cases repository, changes through
the cases services (``actions.perform``, ``service.decide_extension``,
``answers.answer_problem``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.bounds import DbInt, RefId
from otklik.cases import answers, service
from otklik.cases.repository import CaseRepository
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.models.case import Case, CaseStatus, Problem
from otklik.models.message import Message
from otklik.territories.repository import TerritoryRepository
from otklik.web import workspace_queries as wq
from otklik.web.analytics_views import GEO_URL
from otklik.web.rendering import render
from otklik.web.workspace_common import (
    attempt,
    common_context,
    display_maps,
    flash,
    local_redirect,
    require_actor,
)

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/triage", response_class=HTMLResponse)
def triage_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Cases without an executor, with the routing suggestion preselected."""
    actor = require_actor(actor)
    actor.require("triage")
    rows = list(wq.cases_in_status(session, actor.scope, [CaseStatus.new, CaseStatus.triage]))
    suggested = {c.id: (c.routing or {}).get("executor_id")
                 or ((c.routing or {}).get("learned") or {}).get("executor_id") for c in rows}
    return render(request, "ws_triage.html", {
        **common_context(request, actor, session), **display_maps(session, rows), "rows": rows,
        "suggested": suggested, "organizations": wq.organizations(session, actor.scope),
        "extensions": wq.pending_extensions(session, actor.scope)
        if actor.scope.can("approve_extension") else [],
    })


@router.get("/moderation", response_class=HTMLResponse)
def moderation_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Answers waiting for moderation, with their brush-off flags."""
    actor = require_actor(actor)
    actor.require("moderate")
    rows = list(wq.cases_in_status(session, actor.scope, [CaseStatus.on_moderation]))
    return render(request, "ws_moderation.html", {
        **common_context(request, actor, session), **display_maps(session, rows), "rows": rows,
        "pending": wq.pending_answers(session, [c.id for c in rows]),
    })


@router.post("/extensions/{extension_id}/decide")
def decide_extension(request: Request, extension_id: RefId, actor: OptionalActor,
                     session: SessionDep, csrf: Annotated[str, Form()] = "",
                     approve: Annotated[str, Form()] = "",
                     back: Annotated[str, Form(max_length=2000)] = "/triage") -> Response:
    """A curator approves or declines a request for more time."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        service.decide_extension(session, actor, extension_id, approve == "1")
    for error in errors:
        flash(request, error, "error")
    if not errors:
        flash(request, "Решение о продлении сохранено", "ok")
    return RedirectResponse(local_redirect(back, "/triage"), status_code=303)


# -- problems ------------------------------------------------------------------------------------


@router.get("/problems", response_class=HTMLResponse)
def problems_page(request: Request, actor: OptionalActor, session: SessionDep,
                  page: int = Query(default=1, ge=1, le=100_000)) -> Response:
    """Problems (clusters of cases), biggest first."""
    actor = require_actor(actor)
    actor.require("read")
    rows, total = CaseRepository(session).problems(actor.scope, limit=PAGE,
                                                   offset=(page - 1) * PAGE)
    return render(request, "ws_problems.html", {
        **common_context(request, actor, session), "rows": rows, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE)), "query": "",
        "place_names": wq.territory_names(session, [p.municipality_id for p in rows]),
    })


@router.get("/problems/{problem_id}", response_class=HTMLResponse)
def problem_page(request: Request, problem_id: DbInt, actor: OptionalActor,
                 session: SessionDep) -> Response:
    """A problem: its cases on a timeline and a bulk answer form."""
    actor = require_actor(actor)
    actor.require("read")
    return _problem_response(request, actor, session, problem_id, [])


def _problem_response(request: Request, actor: Actor, session: Session, problem_id: int,
                      errors: list[str], status_code: int = 200) -> Response:
    problem = service.get_problem(session, actor, problem_id)
    cases = list(CaseRepository(session).cases_of_problem(actor.scope, problem.id))
    first = CaseRepository(session).first_messages([c.id for c in cases[:200]])
    first_text = {case_id: message for case_id, (message, _) in first.items()}
    return render(request, "ws_problem.html", {
        "map": _problem_map(session, problem, cases, first_text),
        **common_context(request, actor, session), **display_maps(session, cases),
        "problem": problem, "cases": cases, "first_text": first_text,
        "zone": wq.region_timezones(session, [problem.region_code]).get(
            problem.region_code or ""),
        "can_answer": actor.scope.can("moderate") and not actor.scope.narrowed,
        "errors": errors,
    }, status_code=status_code)


def _problem_map(session: Session, problem: Problem, cases: list[Case],
                 first: dict[int, Message]) -> dict[str, Any]:
    """Where the problem's cases are, for the map (drawn by static/js/dashboard.js): a point
    per place — the message's own coordinates when the resident shared them, else the centre
    of the case's settlement or municipality (approximate, and labelled so)."""
    places = TerritoryRepository(session).many(
        t for c in cases for t in (c.settlement_id, c.municipality_id) if t is not None)
    points: dict[tuple[float, float], dict[str, Any]] = {}
    for case in cases:
        message = first.get(case.id)
        place = places.get(case.settlement_id or 0) or places.get(case.municipality_id or 0)
        if message is not None and message.lat is not None and message.lon is not None:
            at, name = (message.lat, message.lon), f"№ {case.id}"
        elif place is not None and place.lat is not None and place.lon is not None:
            at, name = (place.lat, place.lon), place.name
        else:
            continue
        point = points.setdefault(at, {"name": name, "lat": at[0], "lon": at[1],
                                       "messages": 0, "per_10k": None, "link": None})
        point["messages"] += 1
    region = TerritoryRepository(session).region(problem.region_code or "")
    return {"geo": GEO_URL, "metric": "messages", "level": "region",
            "focus": [problem.region_code] if problem.region_code else [],
            "regions": [{"code": problem.region_code, "name": region.name if region else "",
                         "messages": len(cases), "per_10k": None, "link": None}],
            "points": list(points.values())}


@router.post("/problems/{problem_id}/answer", response_class=HTMLResponse)
def problem_answer(request: Request, problem_id: DbInt, actor: OptionalActor,
                   session: SessionDep, csrf: Annotated[str, Form()] = "",
                   text: Annotated[str, Form(max_length=20000)] = "") -> Response:
    """One answer for every open case of the problem (published once per message)."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    problem = service.get_problem(session, actor, problem_id)
    with attempt(session) as errors:
        answers.answer_problem(session, actor, problem, text)
    if errors:
        return _problem_response(request, actor, session, problem_id, errors, 400)
    flash(request, "Ответ отправлен по всем обращениям проблемы", "ok")
    return RedirectResponse(f"/problems/{problem_id}", status_code=303)
