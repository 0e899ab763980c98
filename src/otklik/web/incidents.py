"""Incident pages: the list, the incident room (map, timeline, messages arriving live,
alert status, updates editor, people affected, HQ and organizations) and its forms; the
public page residents read without logging in (no personal data on it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.bounds import MAX_INT32, RefId
from otklik.cases import service as cases
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import NotFound
from otklik.incidents import informing, service, thresholds
from otklik.incidents.repository import IncidentRepository
from otklik.models.incident import ACTIVE_INCIDENT_STATUSES, Incident, IncidentStatus
from otklik.notify.repository import NotifyRepository
from otklik.territories.repository import TerritoryRepository
from otklik.web import incidents_i18n  # noqa: F401  (the pages' strings)
from otklik.web import workspace_queries as wq
from otklik.web.analytics_views import GEO_URL
from otklik.web.rendering import render
from otklik.web.workspace_common import attempt, common_context, flash, require_actor

router = APIRouter(include_in_schema=False)
PAGE = 50
STATUSES = [s.value for s in IncidentStatus]


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, actor: OptionalActor, session: SessionDep,
                   status: str | None = Query(default=None, max_length=16),
                   page: int = Query(default=1, ge=1, le=10_000)) -> Response:
    """Incidents in the user's scope, newest first."""
    actor = require_actor(actor)
    chosen = status if status in STATUSES else None
    items, total = service.list_incidents(session, actor, status=chosen, limit=PAGE,
                                          offset=(page - 1) * PAGE)
    repo = IncidentRepository(session)
    return render(request, "incidents/list.html", {
        **common_context(request, actor, session), "items": items, "total": total,
        "page": page, "pages": max(1, -(-total // PAGE)), "status": chosen,
        "statuses": STATUSES, "counts": {i.id: repo.count_messages(i.id) for i in items},
        "places": wq.territory_names(session, [i.settlement_id or i.municipality_id
                                               for i in items]),
    })


def _room(request: Request, actor: Actor, session: Session, incident: Incident,
          errors: list[str], status_code: int = 200) -> Response:
    repo = IncidentRepository(session)
    timeline = repo.timeline(incident.id)
    cases = repo.cases(actor.scope, incident.id)
    acks = [e for e in timeline if e.kind == "acknowledged"]
    places = wq.territory_names(session, incident.territory_ids or [])
    return render(request, "incidents/room.html", {
        **common_context(request, actor, session), "incident": incident,
        "timeline": timeline, "updates": repo.updates(incident.id), "cases": cases,
        "messages": _messages(session, actor, incident), "acks": acks,
        "message_count": repo.count_messages(incident.id), "places": places,
        "orgs": wq.organization_names(session, incident.organization_ids or []),
        "zone": wq.region_timezones(session, [incident.region_code]).get(
            incident.region_code or ""),
        "map": _map(session, incident), "errors": errors,
        "active": incident.status in ACTIVE_INCIDENT_STATUSES
        or incident.status == IncidentStatus.resolved,
        "can_write": actor.scope.can("write"),
        "can_approve": actor.scope.can("moderate") and not actor.scope.narrowed
        and bool(incident.pending_answer)
        and (incident.pending_answer or {}).get("by_id") != actor.user_id,
        "moves": [m for m, sources in service.MOVES.items() if incident.status in sources],
        **_alert_log(session, incident),
    }, status_code=status_code)


def _alert_log(session: Session, incident: Incident) -> dict[str, Any]:
    """The incident's alert thread: who was told, and each delivery with its last attempt."""
    repo = NotifyRepository(session)
    alert = repo.alert_of("incident", incident.id)
    if alert is None:
        return {"alert": None, "recipients": [], "deliveries": [], "attempts": {}}
    deliveries, _ = repo.deliveries(alert_id=alert.id, limit=100)
    return {"alert": alert, "recipients": repo.recipients_of(alert.id),
            "deliveries": deliveries, "attempts": repo.attempts_of([d.id for d in deliveries])}


def _messages(session: Session, actor: Actor, incident: Incident) -> list[Any]:
    """The newest linked messages the user may see (their text is the residents')."""
    visible = actor.scope.sees_region(incident.region_code) and not actor.scope.narrowed
    if not visible:
        return []
    return [m for m, _ in IncidentRepository(session).messages(incident.id, limit=100)]


def _map(session: Session, incident: Incident) -> dict[str, Any]:
    """The affected territory for the map drawn by static/js/dashboard.js: a point at each
    territory's centre (approximate) sized by the people affected."""
    territories = TerritoryRepository(session).many(incident.territory_ids or [])
    points = [{"name": t.name, "lat": t.lat, "lon": t.lon,
               "messages": incident.people_affected or 0, "per_10k": None, "link": None}
              for t in territories.values() if t.lat is not None and t.lon is not None]
    region = TerritoryRepository(session).region(incident.region_code or "")
    return {"geo": GEO_URL, "metric": "messages", "level": "region",
            "focus": [incident.region_code] if incident.region_code else [],
            "regions": [{"code": incident.region_code, "name": region.name if region else "",
                         "messages": incident.people_affected or 0, "per_10k": None,
                         "link": None}],
            "points": points}


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_room(request: Request, incident_id: RefId, actor: OptionalActor,
                  session: SessionDep) -> Response:
    """The incident room."""
    actor = require_actor(actor)
    return _room(request, actor, session, service.get_incident(session, actor, incident_id),
                 [])


@router.get("/incidents/{incident_id}/messages", response_class=HTMLResponse)
def incident_messages(request: Request, incident_id: RefId, actor: OptionalActor,
                      session: SessionDep) -> Response:
    """The linked messages (polled by the room with HTMX)."""
    actor = require_actor(actor)
    incident = service.get_incident(session, actor, incident_id)
    return render(request, "incidents/_messages.html", {
        **common_context(request, actor, session), "incident": incident,
        "messages": _messages(session, actor, incident),
        "message_count": IncidentRepository(session).count_messages(incident.id),
        "zone": wq.region_timezones(session, [incident.region_code]).get(
            incident.region_code or "")})


def _act(request: Request, actor: Actor, session: Session, incident_id: int,
         done: str, step: Any) -> Response:
    incident = service.get_incident(session, actor, incident_id)
    with attempt(session) as errors:
        step(incident)
    if errors:
        return _room(request, actor, session, incident, errors, 400)
    flash(request, done, "ok")
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/incidents/{incident_id}/status", response_class=HTMLResponse)
def incident_status(request: Request, incident_id: RefId, actor: OptionalActor,
                    session: SessionDep, csrf: Annotated[str, Form()] = "",
                    status: Annotated[str, Form(max_length=16)] = "") -> Response:
    """acknowledged / in work / resolved."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    return _act(request, actor, session, incident_id, "Статус изменён",
                lambda i: service.move(session, actor, i, status))


@router.post("/incidents/{incident_id}/edit", response_class=HTMLResponse)
def incident_edit(request: Request, incident_id: RefId, actor: OptionalActor,
                  session: SessionDep, csrf: Annotated[str, Form()] = "",
                  hq_person: Annotated[str, Form(max_length=255)] = "",
                  people_affected: Annotated[str, Form(max_length=12)] = "",
                  severity: Annotated[str, Form(max_length=16)] = "",
                  organization_ids: Annotated[str, Form(max_length=500)] = "") -> Response:
    """The HQ person, the estimate of people affected, severity, organizations."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    changes: dict[str, Any] = {"hq_person": hq_person.strip() or None}
    if people_affected.strip().isdigit() and int(people_affected) <= MAX_INT32:
        changes["people_affected"] = int(people_affected)
    if severity:
        changes["severity"] = severity
    ids = [int(x) for x in organization_ids.replace(",", " ").split()
           if x.isdigit() and int(x) <= MAX_INT32]
    if organization_ids.strip():
        changes["organization_ids"] = ids
    return _act(request, actor, session, incident_id, "Сохранено",
                lambda i: service.edit(session, actor, i, changes))


@router.post("/incidents/{incident_id}/measure", response_class=HTMLResponse)
def incident_measure(request: Request, incident_id: RefId, actor: OptionalActor,
                     session: SessionDep, csrf: Annotated[str, Form()] = "",
                     text: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """A measure on the timeline."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    return _act(request, actor, session, incident_id, "Мера записана",
                lambda i: service.add_measure(session, actor, i, text))


@router.post("/incidents/{incident_id}/update", response_class=HTMLResponse)
def incident_update(request: Request, incident_id: RefId, actor: OptionalActor,
                    session: SessionDep, csrf: Annotated[str, Form()] = "",
                    text: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """A public update (page and channels)."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    return _act(request, actor, session, incident_id, "Опубликовано",
                lambda i: informing.publish_update(session, actor, i, text))


@router.post("/incidents/{incident_id}/answer", response_class=HTMLResponse)
def incident_answer(request: Request, incident_id: RefId, actor: OptionalActor,
                    session: SessionDep, csrf: Annotated[str, Form()] = "",
                    text: Annotated[str, Form(max_length=20000)] = "") -> Response:
    """Propose one answer for every linked case."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    return _act(request, actor, session, incident_id, "Ответ ждёт одобрения",
                lambda i: informing.propose_answer(session, actor, i, text))


@router.post("/incidents/{incident_id}/answer/approve", response_class=HTMLResponse)
def incident_answer_approve(request: Request, incident_id: RefId, actor: OptionalActor,
                            session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    """A second person approves the answer; every linked case gets it."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    return _act(request, actor, session, incident_id, "Ответ отправлен",
                lambda i: informing.approve_answer(session, actor, i))


@router.post("/incidents/{incident_id}/merge", response_class=HTMLResponse)
def incident_merge(request: Request, incident_id: RefId, actor: OptionalActor,
                   session: SessionDep, csrf: Annotated[str, Form()] = "",
                   source_id: Annotated[int, Form(ge=1, le=MAX_INT32)] = 1) -> Response:
    """Fold another incident into this one."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    source = service.get_incident(session, actor, source_id)
    return _act(request, actor, session, incident_id, "Объединено",
                lambda i: service.merge(session, actor, i, source))


@router.post("/incidents/{incident_id}/close", response_class=HTMLResponse)
def incident_close(request: Request, incident_id: RefId, actor: OptionalActor,
                   session: SessionDep, csrf: Annotated[str, Form()] = "",
                   summary: Annotated[str, Form(max_length=10000)] = "") -> Response:
    """Close with a summary."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    return _act(request, actor, session, incident_id, "Закрыто",
                lambda i: service.close(session, actor, i, summary))


def _open_from(request: Request, actor: Actor, session: Session, back: str, title: str,
               severity: str, *, case_id: int | None = None, problem_id: int | None = None
               ) -> Response:
    with attempt(session) as errors:
        incident = service.open_by_hand(session, actor, case_id=case_id, problem_id=problem_id,
                                        title=title.strip() or None,
                                        severity=severity or "high")
    if errors:
        flash(request, errors[0], "error")
        return RedirectResponse(back, status_code=303)
    flash(request, f"Открыто происшествие № {incident.id}", "ok")
    return RedirectResponse(service.url_path(incident.id), status_code=303)


@router.post("/cases/{case_id}/incident", response_class=HTMLResponse)
def incident_from_case(request: Request, case_id: RefId, actor: OptionalActor,
                       session: SessionDep, csrf: Annotated[str, Form()] = "",
                       title: Annotated[str, Form(max_length=300)] = "",
                       severity: Annotated[str, Form(max_length=16)] = "") -> Response:
    """Open an incident by hand from a case card (the case and its messages join it)."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    cases.get_case(session, actor, case_id)  # another region's case: 404, not a message
    return _open_from(request, actor, session, f"/cases/{case_id}", title, severity,
                      case_id=case_id)


@router.post("/problems/{problem_id}/incident", response_class=HTMLResponse)
def incident_from_problem(request: Request, problem_id: RefId, actor: OptionalActor,
                          session: SessionDep, csrf: Annotated[str, Form()] = "",
                          title: Annotated[str, Form(max_length=300)] = "",
                          severity: Annotated[str, Form(max_length=16)] = "") -> Response:
    """Open an incident by hand from a problem page (its cases and messages join it)."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    cases.get_problem(session, actor, problem_id)
    return _open_from(request, actor, session, f"/problems/{problem_id}", title, severity,
                      problem_id=problem_id)


THRESHOLDS = "/admin/incidents/thresholds"


def _thresholds_page(request: Request, actor: Actor, session: Session,
                     errors: list[str] | None = None) -> Response:
    from otklik.nlp.taxonomy import load_taxonomy

    actor.require("admin")
    taxonomy = load_taxonomy()
    return render(request, "incidents/thresholds.html", {
        **common_context(request, actor, session),
        "defaults": thresholds.defaults(), "rows": thresholds.visible_thresholds(session, actor),
        "regions": wq.regions(session, actor.scope),
        "topic_codes": [(c, taxonomy.name(c)) for c in taxonomy.topic_codes],
        "errors": errors or []}, status_code=400 if errors else 200)


@router.get(THRESHOLDS, response_class=HTMLResponse)
def thresholds_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The detector's thresholds: defaults, the stored overrides, a form to change them."""
    actor = require_actor(actor)
    return _thresholds_page(request, actor, session)


@router.post(THRESHOLDS, response_class=HTMLResponse)
async def thresholds_save(request: Request, actor: OptionalActor, session: SessionDep
                          ) -> Response:
    """Store (or, with every field empty, remove) the overrides of a region and/or topic."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    actor = require_actor(actor)
    actor.require("admin")
    region_code = str(form.get("region_code") or "")[:3]
    topic = str(form.get("topic") or "")[:64]
    values = {name: str(form.get(name) or "").strip()[:32] for name in thresholds.defaults()}
    with attempt(session) as errors:
        thresholds.set_thresholds(session, actor, region_code, topic, values)
    if errors:
        return _thresholds_page(request, actor, session, errors)
    flash(request, "Пороги сохранены", "ok")
    return RedirectResponse(THRESHOLDS, status_code=303)


@router.get("/public/incidents/{incident_id}", response_class=HTMLResponse)
def public_incident(request: Request, incident_id: RefId, session: SessionDep) -> Response:
    """What residents may read: what, where, how many, the updates; no message, author or
    person. Only an incident the center has published an update about is public."""
    repo = IncidentRepository(session)
    incident = repo.get(incident_id)
    updates = repo.updates(incident_id) if incident is not None else []
    if incident is None or not updates or incident.status == IncidentStatus.merged:
        raise NotFound(f"incident {incident_id} not found")
    return render(request, "incidents/public.html", {
        "incident": incident, "updates": updates,
        "places": wq.territory_names(session, incident.territory_ids or []),
        "zone": wq.region_timezones(session, [incident.region_code]).get(
            incident.region_code or "")})
