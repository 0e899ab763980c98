"""The decisions registry pages (управленческие решения): list with counts per region, a
decision with its effect (messages before and after), create and edit for the center's
analysts. Read-only roles (head, deputy) see the same pages without the forms."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.analytics.repository import AnalyticsRepository
from otklik.analytics.schemas import parse_period
from otklik.analytics.service import topic_namer
from otklik.audit.actor import Actor
from otklik.bounds import MAX_INT32, RefId
from otklik.cases.repository import CaseRepository
from otklik.decisions import service
from otklik.decisions.schemas import DecisionCreate, DecisionRead, DecisionUpdate
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import Forbidden, InvalidInput, OtklikError
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.case import Problem
from otklik.web.rendering import render
from otklik.web.workspace_common import flash, require_actor, take_flashes, user_context

router = APIRouter(include_in_schema=False)
STATUSES = ("adopted", "in_progress", "done", "cancelled")
PAGE = 50


def can_write(actor: Actor) -> bool:
    """True when the actor records decisions (analysts and admins, not heads or deputies)."""
    return actor.scope.can("analytics") and actor.role not in service.READ_ONLY_ROLES


def _period(period: str | None, date_from: str | None, date_to: str | None
            ) -> tuple[date | None, date | None]:
    if period and period.strip():
        return parse_period(period)
    try:
        start = date.fromisoformat(date_from) if date_from else None
        end = date.fromordinal(date.fromisoformat(date_to).toordinal() + 1) if date_to else None
    except ValueError as exc:
        raise InvalidInput("dates are YYYY-MM-DD") from exc
    return start, end


@router.get("/analytics/decisions", response_class=HTMLResponse)
def decisions_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    region_code: str | None = Query(default=None, max_length=3),
    period: str | None = Query(default=None, max_length=16),
    date_from: str | None = Query(default=None, max_length=10),
    date_to: str | None = Query(default=None, max_length=10),
    page: int = Query(default=1, ge=1, le=10_000),
) -> Response:
    """The registry: decisions newest first and their counts per region."""
    actor = require_actor(actor)
    start, end = _period(period, date_from, date_to)
    region = region_code if region_code and region_code.isdigit() else None
    items, total = service.list_decisions(session, actor, region_code=region, start=start,
                                          end=end, limit=PAGE, offset=(page - 1) * PAGE)
    query = urlencode({k: v for k, v in (("region_code", region), ("period", period),
                                         ("date_from", date_from), ("date_to", date_to)) if v})
    return render(request, "an_decisions.html", {
        **user_context(actor, session), "items": items, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE)), "query": query,
        "counts": service.count_by_region(session, actor, start, end),
        "regions": AnalyticsRepository(session).regions(actor.scope),
        "region_code": region, "raw": {"period": period or "", "date_from": date_from or "",
                                       "date_to": date_to or ""},
        "can_write": can_write(actor), "flashes": take_flashes(request),
        "region_names": _region_names(session, actor),
    })


def _region_names(session: Session, actor: Actor) -> dict[str, str]:
    return {r.region_code: r.name for r in AnalyticsRepository(session).regions(actor.scope)}


def _form_context(session: Session, actor: Actor, region_code: str | None) -> dict[str, Any]:
    repo = AnalyticsRepository(session)
    taxonomy = active_taxonomy(session)
    problems: list[Problem] = []
    municipalities = []
    if region_code:
        municipalities = repo.municipalities([region_code])
        problems = list(session.scalars(
            select(Problem).where(Problem.region_code == region_code)
            .order_by(Problem.size.desc(), Problem.id).limit(100)))
    return {"regions": repo.regions(actor.scope), "form_region": region_code,
            "topics": [(c, taxonomy.name(c)) for c in taxonomy.topic_codes],
            "municipalities": municipalities, "problems": problems, "statuses": STATUSES}


@router.get("/analytics/decisions/new", response_class=HTMLResponse)
def new_decision_page(request: Request, actor: OptionalActor, session: SessionDep,
                      region_code: str | None = Query(default=None, max_length=3)) -> Response:
    """The form of a new decision (choose the region first: links are the region's)."""
    actor = require_actor(actor)
    if not can_write(actor):
        raise Forbidden("decisions are recorded by the center's analysts; your role reads them")
    region = region_code if region_code and actor.scope.sees_region(region_code) else None
    return render(request, "an_decision_form.html", {
        **user_context(actor, session), **_form_context(session, actor, region),
        "decision": None, "errors": [], "flashes": take_flashes(request)})


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit() and int(v) <= MAX_INT32]


def _budget(value: str) -> int | None:
    digits = value.replace(" ", "").replace("\u00a0", "")
    if not digits:
        return None
    if not digits.isdigit():
        raise InvalidInput("the budget is a whole number of rubles")
    return int(digits)


def _payload(title: str, decided_on: str, decided_by: str, budget_rub: str, text: str,
             status: str, source_url: str, topics: list[str], problem_ids: list[str],
             territory_ids: list[str]) -> dict[str, Any]:
    return {"title": title.strip(), "decided_on": decided_on, "decided_by": decided_by.strip(),
            "budget_rub": _budget(budget_rub), "text": text.strip(), "status": status,
            "source_url": source_url.strip() or None, "topics": [t for t in topics if t],
            "problem_ids": _ints(problem_ids), "territory_ids": _ints(territory_ids)}


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


FormList = Annotated[list[str], Form()]


@router.post("/analytics/decisions/new", response_class=HTMLResponse)
def create_decision(
    request: Request, actor: OptionalActor, session: SessionDep,
    csrf: Annotated[str, Form()] = "", region_code: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "", decided_on: Annotated[str, Form()] = "",
    decided_by: Annotated[str, Form()] = "", budget_rub: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "adopted",
    source_url: Annotated[str, Form()] = "", topics: FormList = [],  # noqa: B006
    problem_ids: FormList = [], territory_ids: FormList = [],  # noqa: B006
) -> Response:
    """Record a decision and open it."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    try:
        data = DecisionCreate(region_code=region_code, **_payload(
            title, decided_on, decided_by, budget_rub, text, status, source_url, topics,
            problem_ids, territory_ids))
        decision = service.create_decision(session, actor, data)
    except (ValidationError, OtklikError) as exc:
        message = (_validation_message(exc) if isinstance(exc, ValidationError)
                   else exc.message)
        return render(request, "an_decision_form.html", {
            **user_context(actor, session), **_form_context(session, actor, region_code or None),
            "decision": None, "errors": [message], "flashes": [], "values": {
                "title": title, "decided_on": decided_on, "decided_by": decided_by,
                "budget_rub": budget_rub, "text": text, "source_url": source_url}},
            status_code=400)
    flash(request, "Решение записано" if not request.cookies.get("lang") == "en"
          else "The decision is recorded")
    return RedirectResponse(f"/analytics/decisions/{decision.id}", status_code=303)


@router.get("/analytics/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(request: Request, decision_id: RefId, actor: OptionalActor,
                  session: SessionDep,
                  window: int = Query(default=service.DEFAULT_WINDOW, ge=1, le=366)
                  ) -> Response:
    """A decision, its links, and its effect: messages on its subjects before and after."""
    actor = require_actor(actor)
    decision = service.get_decision(session, actor, decision_id)
    current: DecisionRead = service.read(session, decision)
    effect, effect_error = None, None
    try:
        effect = service.effect(session, actor, decision_id, window)
    except InvalidInput as exc:
        effect_error = exc.message
    repo = AnalyticsRepository(session)
    problems = CaseRepository(session).visible_problems(actor.scope, current.problem_ids)
    return render(request, "an_decision.html", {
        **user_context(actor, session), **_form_context(session, actor, decision.region_code),
        "decision": current, "effect": effect, "effect_error": effect_error, "window": window,
        "linked_problems": problems,
        "linked_places": repo.territories(current.territory_ids),
        "topic_name": topic_namer(session),
        "region_name": _region_names(session, actor).get(decision.region_code,
                                                         decision.region_code),
        "can_write": can_write(actor), "flashes": take_flashes(request), "errors": [],
    })


@router.post("/analytics/decisions/{decision_id}", response_class=HTMLResponse)
def update_decision(
    request: Request, decision_id: RefId, actor: OptionalActor, session: SessionDep,
    csrf: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "", decided_on: Annotated[str, Form()] = "",
    decided_by: Annotated[str, Form()] = "", budget_rub: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "adopted",
    source_url: Annotated[str, Form()] = "", topics: FormList = [],  # noqa: B006
    problem_ids: FormList = [], territory_ids: FormList = [],  # noqa: B006
) -> Response:
    """Change a decision (its links are replaced by the form's)."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    try:
        data = DecisionUpdate(**_payload(title, decided_on, decided_by, budget_rub, text,
                                         status, source_url, topics, problem_ids,
                                         territory_ids))
        service.update_decision(session, actor, decision_id, data)
    except ValidationError as exc:
        raise InvalidInput(_validation_message(exc)) from exc
    flash(request, "Изменения сохранены" if not request.cookies.get("lang") == "en"
          else "Saved")
    return RedirectResponse(f"/analytics/decisions/{decision_id}", status_code=303)
