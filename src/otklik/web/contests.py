"""Contest pages (конкурсы): the list, the contest card (tracks, criteria, experts,
applications; status, experts and imports for admins and curators), an application with the
expert's scoring form, and the results with spread, outliers, ties, grants and the protocol.

Experts reach only their assignments (accounts/scope.py): anything else is a 404."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.bounds import RefId
from otklik.contests import importer, results, service
from otklik.contests.schemas import (
    ContestUpdate,
    ExpertAssign,
    ReviewSubmit,
    ScoreIn,
)
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import InvalidInput, NotFound
from otklik.models.contests import ContestApplication
from otklik.territories.repository import TerritoryRepository
from otklik.web.rendering import locale_of, render
from otklik.web.workspace_common import (
    attempt,
    flash,
    require_actor,
    take_flashes,
    user_context,
)

router = APIRouter(include_in_schema=False)
STATUSES = ("draft", "open", "scoring", "closed")
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _page(request: Request, session: Session, actor: Actor, template: str,
          context: dict[str, Any], status_code: int = 200) -> Response:
    locale = locale_of(request)

    def c(ru: str, en: str) -> str:
        return ru if locale == "ru" else en

    return render(request, f"contests/{template}", {
        **user_context(actor, session), "c": c, "manager": actor.scope.can("contests"),
        "flashes": take_flashes(request), **context}, status_code=status_code)


@router.get("/contests", response_class=HTMLResponse)
def contests_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The contests the user sees (an expert: those they are assigned to)."""
    actor = require_actor(actor)
    territories = TerritoryRepository(session)
    regions = [t.name for t in (territories.region(code)
                                for code in sorted(actor.scope.region_codes)) if t]
    return _page(request, session, actor, "list.html",
                 {"contests": service.list_contests(session, actor), "regions": regions})


@router.get("/contests/{contest_id}", response_class=HTMLResponse)
def contest_page(contest_id: RefId, request: Request, actor: OptionalActor,
                 session: SessionDep) -> Response:
    """The contest card."""
    actor = require_actor(actor)
    contest = service.read_contest(session, service.get_contest(session, actor, contest_id))
    manager = actor.scope.can("contests")
    experts = service.list_experts(session, actor, contest_id) if manager else []
    candidates = service.expert_candidates(session, actor) if manager else []
    return _page(request, session, actor, "card.html", {
        "contest": contest, "experts": experts, "candidates": candidates,
        "applications": service.list_applications(session, actor, contest_id),
        "tracks": {t.id: t.title for t in contest.tracks}, "statuses": STATUSES})


@router.post("/contests/{contest_id}/status")
def contest_status(contest_id: RefId, request: Request, actor: OptionalActor,
                   session: SessionDep, status: Annotated[str, Form(max_length=16)],
                   csrf: Annotated[str, Form()] = "") -> Response:
    """Move a contest to another status."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}")
    service.update_contest(session, actor, contest_id, ContestUpdate(status=status))  # type: ignore[arg-type]
    flash(request, "Статус изменён" if locale_of(request) == "ru" else "Status changed")
    return RedirectResponse(f"/contests/{contest_id}", status_code=303)


@router.post("/contests/{contest_id}/experts")
def contest_expert(contest_id: RefId, request: Request, actor: OptionalActor,
                   session: SessionDep, user_id: Annotated[RefId, Form()],
                   track_id: Annotated[RefId, Form()],
                   csrf: Annotated[str, Form()] = "") -> Response:
    """Put an expert on a track."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    with attempt(session) as errors:
        service.assign_expert(session, actor, contest_id,
                              ExpertAssign(user_id=user_id, track_id=track_id))
    flash(request, errors[0] if errors else "Эксперт назначен", "error" if errors else "ok")
    return RedirectResponse(f"/contests/{contest_id}", status_code=303)


@router.post("/contests/{contest_id}/import")
async def contest_import(contest_id: RefId, request: Request, actor: OptionalActor,
                         session: SessionDep, file: Annotated[UploadFile, File()],
                         csrf: Annotated[str, Form()] = "") -> Response:
    """Import applications from a CSV or XLSX file; the report is shown row by row."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    content = await file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput("the file is larger than 20 MB")
    suffix = Path(file.filename or "x.csv").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInput("a CSV or XLSX file is expected")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"import{suffix}"
        path.write_bytes(content)
        report = importer.import_applications(session, actor, contest_id, path)
    contest = service.read_contest(session, service.get_contest(session, actor, contest_id))
    return _page(request, session, actor, "import.html", {"contest": contest,
                                                          "report": report})


@router.get("/contests/{contest_id}/applications/{application_id}",
            response_class=HTMLResponse)
def application_page(contest_id: RefId, application_id: RefId, request: Request,
                     actor: OptionalActor, session: SessionDep) -> Response:
    """An application: its text and files; the expert's scoring form; the reviews once the
    expert has submitted theirs (managers always)."""
    actor = require_actor(actor)
    return _application_page(request, session, actor, contest_id, application_id, [])


def _application_of(session: Session, actor: Actor, contest_id: int, application_id: int
                    ) -> ContestApplication:
    """The application the actor sees, of the contest the path names (else 404: another
    contest's id in the path must not reach it)."""
    found = service.get_application(session, actor, application_id)
    if found.contest_id != contest_id:
        raise NotFound(f"application {application_id} does not exist or is outside "
                       "your scope")
    return found


def _application_page(request: Request, session: Session, actor: Actor, contest_id: int,
                      application_id: int, errors: list[str], status_code: int = 200
                      ) -> Response:
    found = _application_of(session, actor, contest_id, application_id)
    contest = service.read_contest(session, service.get_contest(session, actor, contest_id))
    application = service.read_applications(session, actor, [found])[0]
    can_see = actor.scope.can("contests") or application.my_review
    reviews = service.reviews_of(session, actor, application_id) if can_see else []
    return _page(request, session, actor, "application.html", {
        "contest": contest, "application": application, "reviews": reviews,
        "tracks": {t.id: t.title for t in contest.tracks},
        "criteria": {str(c.id): c.title for c in contest.criteria},
        "can_score": actor.scope.expert_id is not None and not application.my_review
                     and contest.status in service.SCORING,
        "errors": errors}, status_code=status_code)


@router.post("/contests/{contest_id}/applications/{application_id}/review")
async def review_submit(contest_id: RefId, application_id: RefId, request: Request,
                        actor: OptionalActor, session: SessionDep) -> Response:
    """The expert's scores from the form (``score_<criterion id>`` fields)."""
    actor = require_actor(actor)
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    _application_of(session, actor, contest_id, application_id)
    scores: list[ScoreIn] = []
    for key, value in form.items():
        if key.startswith("score_") and key[6:].isdigit():
            text = str(value).strip()
            if not text.lstrip("-").isdigit() or len(text) > 6:
                return _application_page(request, session, actor, contest_id, application_id,
                                         [f"«{text[:20]}» is not a whole number"], 422)
            scores.append(ScoreIn(criterion_id=int(key[6:]), value=int(text)))
    if not scores:
        raise InvalidInput("no scores in the form")
    comment = str(form.get("comment", ""))[:5000]
    with attempt(session) as errors:
        service.submit_review(session, actor, application_id,
                              ReviewSubmit(scores=scores, comment=comment))
    if errors:
        status = 409 if "already" in errors[0] or "no longer" in errors[0] else 422
        return _application_page(request, session, actor, contest_id, application_id, errors,
                                 status)
    flash(request, "Оценки отправлены" if locale_of(request) == "ru" else "Scores submitted")
    return RedirectResponse(f"/contests/{contest_id}/applications/{application_id}",
                            status_code=303)


@router.post("/contests/{contest_id}/applications/{application_id}/conflict")
def conflict_submit(contest_id: RefId, application_id: RefId, request: Request,
                    actor: OptionalActor, session: SessionDep,
                    reason: Annotated[str, Form(min_length=3, max_length=2000)],
                    csrf: Annotated[str, Form()] = "") -> Response:
    """The expert declares a conflict of interest and leaves the application."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    _application_of(session, actor, contest_id, application_id)
    service.declare_conflict(session, actor, application_id, reason)
    flash(request, "Конфликт интересов заявлен: вы отведены от заявки"
          if locale_of(request) == "ru" else "Conflict declared: you are recused")
    return RedirectResponse(f"/contests/{contest_id}", status_code=303)


@router.get("/contests/{contest_id}/results", response_class=HTMLResponse)
def results_page(contest_id: RefId, request: Request, actor: OptionalActor,
                 session: SessionDep) -> Response:
    """Ranking per track with spread and outliers, ties explained, grants, the protocol."""
    actor = require_actor(actor)
    data = results.contest_results(session, actor, contest_id)
    return _page(request, session, actor, "results.html", {"results": data})
