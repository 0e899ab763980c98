"""The fakes pages: the registry (list, a new claim), a fake's card (edit, the refutation
with its four-eyes approval, copies, refutations seen, the spread chart, history), the
suspects proposed for checking, the analytics with the XLSX export, and the public "миф или
правда" page (no login). Scope: the caller's regions; out of scope is a 404."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from otklik.analytics.repository import AnalyticsRepository
from otklik.audit.actor import Actor
from otklik.bounds import DbInt, RefId
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import InvalidInput, OtklikError
from otklik.fakes import analytics, service
from otklik.fakes.endpoints import _period
from otklik.fakes.repository import FakeRepository
from otklik.fakes.schemas import FakeCreate, FakeUpdate, RefutationDraft
from otklik.models.fakes import FAKE_STATUSES
from otklik.web.fakes_i18n import install as install_strings
from otklik.web.rendering import render
from otklik.web.workspace_common import flash, require_actor, take_flashes, user_context

router = APIRouter(include_in_schema=False)
install_strings()
PAGE = 50
Text = Annotated[str, Form()]


def _en(request: Request) -> bool:
    return request.cookies.get("lang") == "en"


def _regions(session: SessionDep, actor: Actor) -> dict[str, str]:
    return {r.region_code: r.name for r in AnalyticsRepository(session).regions(actor.scope)}


def _problem(exc: ValidationError | OtklikError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
    return exc.message


@router.get("/fakes", response_class=HTMLResponse)
def registry_page(request: Request, actor: OptionalActor, session: SessionDep,
                  region_code: str | None = Query(default=None, max_length=3),
                  status: str | None = Query(default=None, max_length=16),
                  q: str | None = Query(default=None, max_length=200),
                  page: int = Query(default=1, ge=1, le=10_000)) -> Response:
    """The registry: claims newest first with copies and reach."""
    actor = require_actor(actor)
    region = region_code if region_code and region_code.isdigit() else None
    state = status if status in FAKE_STATUSES else None
    items, total = service.list_fakes(session, actor, region_code=region, status=state, q=q,
                                      limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "fakes/registry.html", {
        **user_context(actor, session), "items": items, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE)), "regions": _regions(session, actor),
        "region_code": region, "status": state, "q": q or "", "statuses": FAKE_STATUSES,
        "can_edit": service.can_edit(actor), "flashes": take_flashes(request),
        "suspects": service.suspects(session, actor, limit=1)[1]})


@router.post("/fakes/new", response_class=HTMLResponse)
def create_fake(request: Request, actor: OptionalActor, session: SessionDep,
                csrf: Text = "", region_code: Text = "", claim: Text = "",
                key_phrases: Text = "", topic: Text = "", status: Text = "suspected"
                ) -> Response:
    """Record a claim and open its card."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    try:
        fake = service.create_fake(session, actor, FakeCreate(
            region_code=region_code, claim=claim, topic=topic.strip() or None,
            key_phrases=[p.strip() for p in key_phrases.split(";") if p.strip()],
            status=status))  # type: ignore[arg-type]
    except (ValidationError, OtklikError) as exc:
        flash(request, _problem(exc), "error")
        return RedirectResponse("/fakes", status_code=303)
    flash(request, "The claim is recorded" if _en(request) else "Утверждение записано в реестр")
    return RedirectResponse(f"/fakes/{fake.id}", status_code=303)


@router.get("/fakes/suspects", response_class=HTMLResponse)
def suspects_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Texts proposed for checking, with the reasons; promote in one click."""
    actor = require_actor(actor)
    return render(request, "fakes/suspects.html", {
        **user_context(actor, session), "items": service.suspects(session, actor)[0],
        "regions": _regions(session, actor), "can_edit": service.can_edit(actor),
        "flashes": take_flashes(request)})


@router.post("/fakes/suspects/{suspect_id}", response_class=HTMLResponse)
def suspect_action(request: Request, suspect_id: DbInt, actor: OptionalActor,
                   session: SessionDep, csrf: Text = "", action: Text = "",
                   region_code: Text = "") -> Response:
    """Promote a suspect to the registry, or dismiss it."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    if action == "promote":
        fake = service.promote_suspect(session, actor, suspect_id, region_code or None)
        flash(request, "Added to the registry" if _en(request) else "Добавлено в реестр")
        return RedirectResponse(f"/fakes/{fake.id}", status_code=303)
    if action != "dismiss":
        raise InvalidInput("promote or dismiss")
    service.dismiss_suspect(session, actor, suspect_id)
    return RedirectResponse("/fakes/suspects", status_code=303)


@router.get("/fakes/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, actor: OptionalActor, session: SessionDep,
                   region_code: str | None = Query(default=None, max_length=3),
                   period: str | None = Query(default=None, max_length=16)) -> Response:
    """Unique fakes, copies and reach by topic, territory and month; the top channels."""
    actor = require_actor(actor)
    region = region_code if region_code and region_code.isdigit() else None
    start, end = _period(period.strip() if period and period.strip() else None)
    data = analytics.summary(session, actor, region_code=region, start=start, end=end)
    query = "&".join(f"{k}={v}" for k, v in (("region_code", region), ("period", period))
                     if v)
    return render(request, "fakes/analytics.html", {
        **user_context(actor, session), "data": data, "regions": _regions(session, actor),
        "region_code": region, "period": period or "", "query": query})


@router.get("/fakes/{fake_id}", response_class=HTMLResponse)
def fake_page(request: Request, fake_id: RefId, actor: OptionalActor,
              session: SessionDep) -> Response:
    """A fake's card: claim, verdict, refutation, copies, the spread chart, history."""
    actor = require_actor(actor)
    fake = service.get_fake(session, actor, fake_id)
    repo = FakeRepository(session)
    links = repo.copies(actor.scope, fake.id)
    return render(request, "fakes/card.html", {
        **user_context(actor, session), "fake": service.read(session, fake),
        "copies": [(c, m) for c, m in links if c.kind == "copy"],
        "refutations": [(c, m) for c, m in links if c.kind == "refutation"],
        "history": repo.revisions(fake.id), "replies": repo.replies(fake.id),
        "chart": analytics.timeline(session, fake), "statuses": FAKE_STATUSES,
        "region_name": _regions(session, actor).get(fake.region_code, fake.region_code),
        "can_edit": service.can_edit(actor),
        "can_approve": service.can_edit(actor) and fake.refutation_state == "on_approval"
        and fake.refutation_author_id != actor.user_id,
        "flashes": take_flashes(request), "today": date.today().isoformat()})


@router.post("/fakes/{fake_id}", response_class=HTMLResponse)
def fake_action(request: Request, fake_id: RefId, actor: OptionalActor, session: SessionDep,
                csrf: Text = "", action: Text = "", claim: Text = "", status: Text = "",
                topic: Text = "", key_phrases: Text = "", version: Text = "",
                text: Text = "", source_url: Text = "", refutation_date: Text = "",
                comment: Text = "") -> Response:
    """Edit the claim; draft, submit, approve or return the refutation."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    try:
        if action == "edit":
            service.update_fake(session, actor, fake_id, FakeUpdate(
                claim=claim, status=status or None, topic=topic.strip() or None,  # type: ignore[arg-type]
                key_phrases=[p.strip() for p in key_phrases.split(";") if p.strip()]),
                int(version) if version.isdigit() else None)
        elif action == "refutation":
            service.draft_refutation(session, actor, fake_id, RefutationDraft(
                text=text, source_url=source_url,  # type: ignore[arg-type]
                date=refutation_date or date.today().isoformat()))  # type: ignore[arg-type]
        elif action == "submit":
            service.submit_refutation(session, actor, fake_id)
        elif action == "approve":
            service.approve_refutation(session, actor, fake_id)
        elif action == "return":
            service.return_refutation(session, actor, fake_id, comment)
        else:
            raise InvalidInput("unknown action")
    except (ValidationError, OtklikError) as exc:
        if isinstance(exc, OtklikError) and exc.status_code == 404:
            raise
        flash(request, _problem(exc), "error")
    else:
        flash(request, "Saved" if _en(request) else "Сохранено")
    return RedirectResponse(f"/fakes/{fake_id}", status_code=303)


@router.get("/myths", response_class=HTMLResponse)
def myths_page(request: Request, session: SessionDep,
               region_code: str | None = Query(default=None, max_length=3)) -> Response:
    """Миф или правда: the refuted fakes with their official refutations (no login)."""
    region = region_code if region_code and region_code.isdigit() else None
    return render(request, "fakes/myths.html", {
        "items": FakeRepository(session).refuted(region), "actor": None, "user": None})
