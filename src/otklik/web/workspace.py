"""The workspace: the operators' queue, the case card, the executor's cabinet.

Thin views: each reads through :mod:`otklik.web.workspace_queries` (or a cases query) and
changes things only through the same services the API calls (``actions.perform``,
``service.edit``, ``service.merge``). Forms carry the session's CSRF token as ``csrf``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.answers.templates import MissingPlaceholderError, describe, get_template
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.bounds import MAX_INT32, DbInt, RefId
from otklik.cases import actions, service
from otklik.cases.answers import answer_context
from otklik.cases.queries import case_detail
from otklik.cases.schemas import CaseAction
from otklik.cases.workflow import REJECT_REASONS
from otklik.channels.schemas import Source
from otklik.db.base import utcnow
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import Forbidden, InvalidInput
from otklik.language.taxonomy_service import active_taxonomy
from otklik.media import service as media
from otklik.models.case import OPEN_STATUSES, CaseStatus
from otklik.nlp.relevance import KINDS
from otklik.web import workspace_queries as wq
from otklik.web.rendering import locale_of, render
from otklik.web.workspace_common import (
    as_utc,
    attempt,
    common_context,
    decisions,
    display_maps,
    flash,
    label,
    local_redirect,
    require_actor,
)
from otklik.workspace import service as saved_views
from otklik.workspace.confidence import UNCERTAIN
from otklik.workspace.confidence import confidences as case_confidences

router = APIRouter(include_in_schema=False)
PAGE = 50
URGENCIES = ("critical", "high", "normal", "low")
CsrfField = Annotated[str, Form()]


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except ValueError:
        return None
    return number if number is None or 0 <= number <= MAX_INT32 else None


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), time(), UTC) if value else None
    except ValueError:
        return None


# -- the queue -----------------------------------------------------------------------------------


def _open_count(counts: dict[str, int]) -> int | None:
    """Open cases under the other filters (None when a status was not counted: capped)."""
    parts = [counts.get(s.value) for s in CaseStatus if s in OPEN_STATUSES]
    return None if any(p is None for p in parts) else sum(p or 0 for p in parts)


@router.get("/cases", response_class=HTMLResponse)
def queue_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    status: list[str] = Query(default=[]),
    topic: str | None = Query(default=None, max_length=64),
    municipality: str | None = None, executor: str | None = None,
    urgency: str | None = Query(default=None, max_length=16),
    source: str | None = Query(default=None, max_length=16),
    overdue: str | None = None, mine: str | None = None,
    date_from: str | None = Query(default=None, alias="from", max_length=10),
    date_to: str | None = Query(default=None, alias="to", max_length=10),
    q: str | None = Query(default=None, max_length=200),
    sort: str = Query(default="deadline", max_length=16),
    after: str | None = Query(default=None, max_length=80),
) -> Response:
    """The queue: filters, full-text search, capped counters, saved views, keyset pages."""
    actor = require_actor(actor)
    actor.require("read")
    if actor.scope.organization_id is not None:
        return RedirectResponse("/my", status_code=303)
    known = {s.value for s in CaseStatus}
    chosen = [s for s in status if s]
    # By default the queue is what is still to be done; "all" shows answered and closed too.
    mode = "open" if not chosen else "all" if "all" in chosen else "chosen"
    statuses = ([s for s in CaseStatus if s in OPEN_STATUSES] if mode == "open" else []
                if mode == "all" else [CaseStatus(s) for s in chosen if s in known])
    until = _day(date_to)
    f = wq.QueueFilter(
        statuses=statuses, topic=topic or None,
        municipality_id=_int(municipality), executor_id=_int(executor),
        assignee_id=actor.user_id if mine else None,
        urgency=urgency or None, source=source or None, overdue=bool(overdue),
        date_from=_day(date_from), date_to=until + timedelta(days=1) if until else None,
        q=q or None, sort=sort if sort in wq.SORTS else "deadline")
    now = utcnow()
    result = wq.queue(session, actor.scope, f, now, limit=PAGE, after=after)
    rows = list(result.rows)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("after", "page")]
    filters = urlencode(params)
    return render(request, "ws_queue.html", {
        **common_context(request, actor, session), **display_maps(session, rows),
        "rows": rows, "total": result.total, "counts": result.counts, "f": f,
        "confidence": (case_confidences(session, [c.id for c in rows])
                       if f.sort == UNCERTAIN else {}),
        "count_cap": wq.COUNT_CAP, "status_cap": result.status_cap, "mine": bool(mine),
        "raw": {"from": date_from or "", "to": date_to or "", "q": q or ""},
        "statuses": list(CaseStatus), "urgencies": URGENCIES, "sources": [s.value for s in Source],
        "status_mode": mode, "open_count": _open_count(result.counts),
        "municipalities": wq.municipalities(session, actor.scope),
        "organizations": wq.organizations(session, actor.scope),
        "assignees": wq.people(session, actor.scope, [c.executor_id for c in rows]),
        "assignee_names": wq.user_names(session, [c.assignee_id for c in rows]),
        "views": saved_views.list_views(session, actor),
        "filters": saved_views.clean_query(filters), "after": after,
        "next_url": f"/cases?{urlencode([*params, ('after', result.next_key)])}"
        if result.next_key else None,
        "first_url": f"/cases?{filters}",
        "status_query": urlencode([(k, v) for k, v in params if k != "status"]),
        "now": now, "loaded_at": now.isoformat(), "reject_reasons": REJECT_REASONS,
        "can_triage": actor.scope.can("triage"),
    })


@router.post("/cases/views")
def save_view(request: Request, actor: OptionalActor, session: SessionDep,
              csrf: CsrfField = "", name: Annotated[str, Form(max_length=100)] = "",
              query: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Keep the queue's current filters under a name."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        view = saved_views.save_view(session, actor, name, query)
        session.flush()
    if errors:
        flash(request, errors[0], "error")
        return RedirectResponse(f"/cases?{saved_views.clean_query(query)}", status_code=303)
    flash(request, f"Вид «{view.name}» сохранён", "ok")
    return RedirectResponse(f"/cases?{view.query}", status_code=303)


@router.post("/cases/views/{view_id}/delete")
def delete_view(request: Request, view_id: RefId, actor: OptionalActor, session: SessionDep,
                csrf: CsrfField = "") -> Response:
    """Delete one of the user's saved views."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    saved_views.delete_view(session, actor, view_id)
    flash(request, "Вид удалён", "ok")
    return RedirectResponse("/cases", status_code=303)


@router.get("/cases/new-count")
def new_count(actor: OptionalActor, session: SessionDep,
              since: str = Query(max_length=40)) -> Response:
    """How many cases arrived since the queue was loaded (polled by otklik.js)."""
    actor = require_actor(actor)
    actor.require("read")
    try:
        moment = as_utc(datetime.fromisoformat(since))
    except ValueError as exc:
        raise InvalidInput("since must be an ISO date-time") from exc
    return JSONResponse({"count": wq.count_new_since(session, actor.scope, moment)})


@router.post("/cases/bulk")
def bulk_action(
    request: Request, actor: OptionalActor, session: SessionDep, csrf: CsrfField = "",
    op: Annotated[str, Form(max_length=16)] = "",
    ids: Annotated[list[DbInt], Form()] = [],  # noqa: B006 - FastAPI reads the default
    executor_id: Annotated[str, Form()] = "",
    assignee_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/cases",
) -> Response:
    """Assign, route, reject or merge the checked cases; each succeeds or fails on its own."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    actor.require("triage")
    cases = list(wq.cases_by_ids(session, actor.scope, ids[:500]))
    target = local_redirect(back, "/cases")
    if not cases:
        flash(request, "Не выбрано ни одного обращения", "error")
        return RedirectResponse(target, status_code=303)
    done, failures = 0, list[str]()
    if op == "merge":
        with attempt(session) as errors:
            service.merge(session, actor, cases[0], cases[1:])
        done, failures = (len(cases) - 1, errors) if not errors else (0, errors)
    elif op in ("route", "reject", "assign"):
        payload = CaseAction(executor_id=_int(executor_id), reason=reason or None)
        for case in cases:
            with attempt(session) as errors:
                if op == "assign":
                    service.assign(session, actor, case, _int(assignee_id))
                else:
                    actions.perform(session, actor, case, op, payload)
            if errors:
                failures.append(f"№ {case.id}: {errors[0]}")
            else:
                done += 1
    else:
        failures.append(f"unknown bulk action {op!r}")
    flash(request, f"Выполнено: {done}", "ok")
    for failure in failures[:10]:
        flash(request, failure, "error")
    return RedirectResponse(target, status_code=303)


# -- the case card -------------------------------------------------------------------------------


def _template_text(code: str | None, case: Any, organization: Any) -> str | None:
    """A built-in template filled from the case; fields only a person knows stay as [marks]."""
    if not code:
        return None
    try:
        template = get_template(code)
    except InvalidInput:
        return None
    context: dict[str, Any] = dict(answer_context(case, organization))
    try:
        return template.render(context)
    except MissingPlaceholderError as exc:
        # What only a person knows (the action taken, the reason) stays as a visible mark.
        context.update({name: f"[{name}]" for name in exc.names})
    try:
        return template.render(context)
    except InvalidInput:
        return template.text


def _card_context(request: Request, actor: Actor, session: Session, case_id: int,
                  errors: list[str] | None = None, template: str | None = None,
                  draft: str | None = None) -> dict[str, Any]:
    detail = case_detail(session, actor, case_id)
    case = service.get_case(session, actor, case_id)
    messages = detail.messages
    primary = messages[0].id if messages else None
    enrichment = wq.enrichment_of(session, primary)
    routing = detail.routing or {}
    learned = routing.get("learned") or {}
    suggested = routing.get("executor_id") or learned.get("executor_id")
    organization = wq.organizations(session, actor.scope, case.region_code, limit=2000)
    current = next((a for a in reversed(detail.answers)
                    if a.kind == "final" and a.status in ("draft", "returned")), None)
    editor_text = draft if draft is not None else (
        _template_text(template, case, next((o for o in organization
                                             if o.id == case.executor_id), None))
        or (current.text if current else ""))
    can_audit = actor.scope.can("audit")
    ids = [case.executor_id, suggested, learned.get("executor_id")]
    may_assign = case.status in OPEN_STATUSES and (actor.scope.can("triage") or (
        actor.scope.can("answer") and actor.scope.organization_id == case.executor_id))
    return {
        **common_context(request, actor, session), "d": detail, "case": case,
        "decided": decisions(enrichment.result if enrichment else None),
        "enrichment": enrichment, "routing": routing, "learned": learned,
        "suggested": suggested, "org_names": wq.organization_names(session, ids),
        "place_names": wq.territory_names(session, [case.municipality_id, case.settlement_id]),
        "zone": wq.region_timezones(session, [case.region_code]).get(case.region_code or ""),
        "parents": wq.parent_messages(session, messages),
        "photos": media.photos_by_message(session, [m.id for m in messages]),
        "publications": wq.publications_of(session, [a.id for a in detail.answers]),
        "organizations": organization,
        "municipalities": [m for m in wq.municipalities(session, actor.scope)
                           if m.region_code == case.region_code],
        "taxonomy": active_taxonomy(session), "urgencies": URGENCIES, "kinds": KINDS,
        "templates": describe(), "template": template or "", "editor_text": editor_text,
        "current_answer": current, "reject_reasons": REJECT_REASONS,
        "audit": audit.list_entries(session, actor, object_type="case",
                                    object_id=str(case.id), limit=50) if can_audit else [],
        "errors": errors or [], "can_edit": actor.scope.can("triage")
        and case.status in {s for s in OPEN_STATUSES},
        "overdue": detail.remaining_seconds is not None and detail.remaining_seconds < 0,
        "today": utcnow().date().isoformat(),
        "assignees": service.assignable(session, actor, case) if may_assign else [],
        "assignee_names": wq.user_names(session, [case.assignee_id]),
        "can_assign": may_assign,
        "can_split": actor.scope.can("triage") and len(messages) > 1,
    }


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: DbInt, actor: OptionalActor, session: SessionDep,
              template: str | None = Query(default=None, max_length=32)) -> Response:
    """The case card: messages, decisions with reasons, routing, clock, history, answer."""
    actor = require_actor(actor)
    return render(request, "ws_case.html",
                  _card_context(request, actor, session, case_id, template=template))


def _until(value: str, zone: str | None) -> datetime | None:
    """The end of a working day (18:00 local) as the requested deadline."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("the new deadline must be a date (YYYY-MM-DD)") from exc
    return datetime.combine(day, time(18), ZoneInfo(zone or "Europe/Moscow")).astimezone(UTC)


@router.post("/cases/{case_id}/do/{action}", response_class=HTMLResponse)
def case_action(
    request: Request, case_id: DbInt, action: str, actor: OptionalActor, session: SessionDep,
    csrf: CsrfField = "", version: Annotated[str, Form()] = "",
    executor_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    question: Annotated[str, Form(max_length=5000)] = "",
    text: Annotated[str, Form(max_length=20000)] = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Run one workflow action through actions.perform; errors show on the card."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    case = service.get_case(session, actor, case_id)
    zone = wq.region_timezones(session, [case.region_code]).get(case.region_code or "")
    with attempt(session) as errors:
        payload = CaseAction(
            version=_int(version), executor_id=_int(executor_id), reason=reason or None,
            question=question or None, text=text or None, comment=comment or None,
            until=_until(until, zone))
        actions.perform(session, actor, case, action, payload)
        session.flush()
    if errors:
        context = _card_context(request, actor, session, case_id, errors=errors,
                                draft=text if action == "draft_answer" else None)
        return render(request, "ws_case.html", context, status_code=errors.status)
    flash(request, f"{label('act', action, locale_of(request))}: готово", "ok")
    return RedirectResponse(local_redirect(back, f"/cases/{case_id}"), status_code=303)


@router.post("/cases/{case_id}/assign", response_class=HTMLResponse)
def case_assign(request: Request, case_id: DbInt, actor: OptionalActor, session: SessionDep,
                csrf: CsrfField = "", version: Annotated[str, Form()] = "",
                assignee_id: Annotated[str, Form()] = "") -> Response:
    """Give the case to a person (an empty choice takes it back)."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    case = service.get_case(session, actor, case_id)
    with attempt(session) as errors:
        service.assign(session, actor, case, _int(assignee_id), version=_int(version))
        session.flush()
    if errors:
        return render(request, "ws_case.html",
                      _card_context(request, actor, session, case_id, errors=errors),
                      status_code=errors.status)
    flash(request, "Ответственный назначен" if assignee_id else "Ответственный снят", "ok")
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/split", response_class=HTMLResponse)
def case_split(request: Request, case_id: DbInt, actor: OptionalActor, session: SessionDep,
               csrf: CsrfField = "",
               message_ids: Annotated[list[DbInt], Form()] = [],  # noqa: B006 - FastAPI default
               ) -> Response:
    """Move the checked messages into a new case of their own (service.split)."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    case = service.get_case(session, actor, case_id)
    with attempt(session) as errors:
        new = service.split(session, actor, case, message_ids[:500])
        session.flush()
    if errors:
        return render(request, "ws_case.html",
                      _card_context(request, actor, session, case_id, errors=errors),
                      status_code=errors.status)
    flash(request, f"Сообщения выделены в обращение № {new.id}", "ok")
    return RedirectResponse(f"/cases/{new.id}", status_code=303)


@router.post("/cases/{case_id}/edit", response_class=HTMLResponse)
def case_edit(
    request: Request, case_id: DbInt, actor: OptionalActor, session: SessionDep,
    csrf: CsrfField = "", version: Annotated[str, Form()] = "",
    fields: Annotated[str, Form(max_length=200)] = "",
    topic: Annotated[str, Form(max_length=64)] = "",
    urgency: Annotated[str, Form(max_length=16)] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    municipality_id: Annotated[str, Form()] = "",
    street: Annotated[str, Form(max_length=255)] = "",
    house: Annotated[str, Form(max_length=32)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Correct what the machine decided (service.edit stores each change as a label)."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    case = service.get_case(session, actor, case_id)
    submitted: dict[str, Any] = {
        "urgency": urgency or None, "kind": kind or None,
        "municipality_id": _int(municipality_id), "street": street.strip() or None,
        "house": house.strip() or None, "title": title.strip() or None,
    }
    if topic:
        # One select offers topics and subtopics: "roads" or "roads.potholes".
        submitted["topic"] = topic.split(".", 1)[0]
        submitted["subtopic"] = topic if "." in topic else None
    wanted = [name for name in fields.split(",") if name]
    if "topic" in wanted:
        wanted.append("subtopic")
    changes = {name: submitted.get(name) for name in wanted if name in submitted}
    with attempt(session) as errors:
        if not changes:
            raise InvalidInput("nothing to correct")
        service.edit(session, actor, case, changes, _int(version))
        session.flush()
    if errors:
        return render(request, "ws_case.html",
                      _card_context(request, actor, session, case_id, errors=errors),
                      status_code=errors.status)
    flash(request, "Исправление сохранено (станет примером для обучения)", "ok")
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


# -- the executor's cabinet ----------------------------------------------------------------------


@router.get("/my", response_class=HTMLResponse)
def my_cases(request: Request, actor: OptionalActor, session: SessionDep,
             closed: str | None = None, mine: str | None = None,
             after: str | None = Query(default=None, max_length=80)) -> Response:
    """The executor's cabinet: only their organization's cases, deadlines first."""
    actor = require_actor(actor)
    actor.require("answer")
    if actor.scope.organization_id is None:
        raise Forbidden("the cabinet is for executors: operators use the queue")
    statuses = [CaseStatus.answered, CaseStatus.closed] if closed else [
        s for s in CaseStatus if s in OPEN_STATUSES]
    f = wq.QueueFilter(statuses=statuses, assignee_id=actor.user_id if mine else None)
    now = utcnow()
    result = wq.queue(session, actor.scope, f, now, limit=PAGE, after=after,
                      with_counts=False)
    rows = list(result.rows)
    params = [(k, v) for k, v in (("closed", closed), ("mine", mine)) if v]
    return render(request, "ws_my.html", {
        **common_context(request, actor, session), **display_maps(session, rows), "rows": rows,
        "total": result.total, "count_cap": wq.COUNT_CAP, "closed": bool(closed),
        "mine": bool(mine), "now": now, "after": after,
        "assignee_names": wq.user_names(session, [c.assignee_id for c in rows]),
        "next_url": f"/my?{urlencode([*params, ('after', result.next_key)])}"
        if result.next_key else None,
        "first_url": f"/my?{urlencode(params)}",
    })


def _include_sub_routers() -> None:
    # The review and admin pages live in their own modules (each under ~800 lines).
    from otklik.web.workspace_admin import router as admin_pages
    from otklik.web.workspace_review import router as review_pages

    router.include_router(review_pages)
    router.include_router(admin_pages)


_include_sub_routers()
