"""The direct line pages (прямая линия): the list of lines and a new one, a line's card with
its groups, the system's picks with reasons to confirm, answers and promises with deadlines
and state, the question sheet, the import of the hotline's list, and the report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from otklik.analytics.repository import AnalyticsRepository
from otklik.audit.actor import Actor
from otklik.bounds import DbInt, RefId
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import InvalidInput
from otklik.participation import campaigns, promises
from otklik.participation.endpoints import MAX_IMPORT, import_bytes
from otklik.participation.repository import ParticipationRepository
from otklik.participation.schemas import CampaignCreate, PromiseCreate, StageIn
from otklik.web.participation_i18n import translator
from otklik.web.rendering import render
from otklik.web.workspace_common import (
    attempt,
    flash,
    require_actor,
    take_flashes,
    user_context,
)

router = APIRouter(include_in_schema=False)
MOSCOW = ZoneInfo("Europe/Moscow")
Text = Annotated[str, Form()]


def page(request: Request, actor: Actor, session: Session, template: str,
         context: dict[str, Any], status_code: int = 200) -> Response:
    """Render a participation page with its strings."""
    return render(request, template, {
        **user_context(actor, session), "t": translator(request),
        "flashes": take_flashes(request), "moscow": MOSCOW, **context}, status_code)


def _done(request: Request, errors: list[str], target: str, ok: str) -> Response:
    flash(request, errors[0] if errors else ok, "error" if errors else "ok")
    return RedirectResponse(target, status_code=303)


def _when(value: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=MOSCOW)
    except ValueError as exc:
        raise InvalidInput(f"{field}: a date and time (YYYY-MM-DDTHH:MM)") from exc


@router.get("/participation", response_class=HTMLResponse)
def lines_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Direct lines in the caller's scope and the form of a new one."""
    actor = require_actor(actor)
    items, total = campaigns.list_campaigns(session, actor, limit=100)
    return page(request, actor, session, "participation/lines.html", {
        "items": items, "total": total, "can_edit": actor.scope.can("triage"),
        "regions": AnalyticsRepository(session).regions(actor.scope)})


@router.post("/participation/lines")
def create_line(request: Request, actor: OptionalActor, session: SessionDep,
                csrf: Text = "", region_code: Text = "", title: Text = "", opens_at: Text = "",
                closes_at: Text = "", air_at: Text = "", urls: Text = "") -> Response:
    """Open a direct line."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    with attempt(session) as errors:
        try:
            data = CampaignCreate(
                region_code=region_code, title=title, opens_at=_when(opens_at, "opens_at"),
                closes_at=_when(closes_at, "closes_at"), air_at=_when(air_at, "air_at"),
                announcement_urls=[u.strip() for u in urls.splitlines() if u.strip()])
        except ValidationError as exc:
            raise InvalidInput("; ".join(str(e["msg"]) for e in exc.errors())) from exc
        campaign = campaigns.create_campaign(session, actor, data)
    if errors:
        return _done(request, errors, "/participation", "")
    return _done(request, [], f"/participation/lines/{campaign.id}", "Прямая линия создана")


@router.get("/participation/lines/{campaign_id}", response_class=HTMLResponse)
def line_page(request: Request, campaign_id: RefId, actor: OptionalActor,
              session: SessionDep) -> Response:
    """A direct line: groups, picks with reasons, questions, promises, report."""
    actor = require_actor(actor)
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    rows = campaigns.questions(session, actor, campaign.id)
    made = promises.promises(session, actor, campaign.id)
    repo = ParticipationRepository(session)
    return page(request, actor, session, "participation/line.html", {
        "campaign": campaigns.read(session, campaign, len(rows)),
        "groups": campaigns.groups(session, actor, campaign.id)[:30],
        "picks": [q for q in rows if q.picked],
        "questions": rows[:200], "promises": [(p, promises.read(p)) for p in made],
        "report": promises.report(session, actor, campaign.id),
        "organizations": repo.organizations(campaign.region_code),
        "org_names": repo.organization_names([p.organization_id for p in made
                                              if p.organization_id]),
        "can_edit": actor.scope.can("triage") and actor.scope.sees_region_wide(
            campaign.region_code)})


def _action(request: Request, session: Session, csrf: str, target: str, ok: str,
            call: Callable[[], object]) -> Response:
    check_csrf(request, csrf)
    with attempt(session) as errors:
        call()
    return _done(request, errors, target, ok)


@router.post("/participation/lines/{campaign_id}/picks")
def picks(request: Request, campaign_id: RefId, actor: OptionalActor, session: SessionDep,
          csrf: Text = "") -> Response:
    """The system proposes the questions for the air."""
    actor = require_actor(actor)
    return _action(request, session, csrf, f"/participation/lines/{campaign_id}",
                   "Вопросы подобраны", lambda: campaigns.propose_picks(session, actor,
                                                                        campaign_id))


@router.post("/participation/lines/{campaign_id}/collect")
def collect(request: Request, campaign_id: RefId, actor: OptionalActor, session: SessionDep,
            csrf: Text = "") -> Response:
    """Look through the region's messages since the window opened."""
    actor = require_actor(actor)
    return _action(request, session, csrf, f"/participation/lines/{campaign_id}",
                   "Сообщения просмотрены",
                   lambda: campaigns.collect_window(session, actor, campaign_id))


@router.post("/participation/lines/{campaign_id}/import")
async def import_list(request: Request, campaign_id: RefId, actor: OptionalActor,
                      session: SessionDep, csrf: Text = "",
                      file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Import the hotline's list; the page says how many rows came in and which did not."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    target = f"/participation/lines/{campaign_id}"
    name = (file.filename or "") if file else ""
    fmt = "xlsx" if name.lower().endswith(".xlsx") else "csv"
    body = await file.read(MAX_IMPORT + 1) if file else b""
    if not body or len(body) > MAX_IMPORT:
        return _done(request, ["выберите файл CSV или XLSX до 10 МБ"], target, "")
    with attempt(session) as errors:
        report = import_bytes(session, actor, campaign_id, body, fmt)
    if errors:
        return _done(request, errors, target, "")
    skipped = "; ".join(f"строка {e.row}: {e.reason}" for e in report.errors[:10])
    return _done(request, [], target, f"Строк: {report.rows}, добавлено: {report.added}, "
                 f"повторов: {report.duplicates}, поздних: {report.late}"
                 + (f". Не приняты — {skipped}" if skipped else ""))


@router.post("/participation/lines/{campaign_id}/finish")
def finish(request: Request, campaign_id: RefId, actor: OptionalActor, session: SessionDep,
           csrf: Text = "") -> Response:
    """Close the line: unanswered questions go on control."""
    actor = require_actor(actor)
    return _action(request, session, csrf, f"/participation/lines/{campaign_id}",
                   "Прямая линия завершена",
                   lambda: campaigns.finish(session, actor, campaign_id))


@router.post("/participation/questions/{question_id}/confirm")
def confirm(request: Request, question_id: DbInt, actor: OptionalActor, session: SessionDep,
            csrf: Text = "", confirmed: Text = "1") -> Response:
    """An editor confirms or withdraws a question for the air."""
    actor = require_actor(actor)
    question = campaigns.get_question(session, actor, question_id)
    return _action(request, session, csrf, f"/participation/lines/{question.campaign_id}",
                   "Сохранено", lambda: campaigns.confirm(session, actor, question_id,
                                                          confirmed == "1"))


@router.post("/participation/questions/{question_id}/answer")
def answer(request: Request, question_id: DbInt, actor: OptionalActor, session: SessionDep,
           csrf: Text = "", text: Text = "") -> Response:
    """Record the answer given on air."""
    actor = require_actor(actor)
    question = campaigns.get_question(session, actor, question_id)
    return _action(request, session, csrf, f"/participation/lines/{question.campaign_id}",
                   "Ответ записан",
                   lambda: campaigns.record_answer(session, actor, question_id, text))


@router.post("/participation/questions/{question_id}/promise")
def promise(request: Request, question_id: DbInt, actor: OptionalActor, session: SessionDep,
            csrf: Text = "", text: Text = "", organization_id: Text = "", due_on: Text = "",
            working_days: Text = "", stages: Text = "") -> Response:
    """Record a promise: a case на контроле with its deadline."""
    actor = require_actor(actor)
    question = campaigns.get_question(session, actor, question_id)

    def make() -> object:
        try:
            data = PromiseCreate(
                text=text, organization_id=int(organization_id or 0),
                due_on=date.fromisoformat(due_on) if due_on else None,
                working_days=int(working_days) if working_days.strip() else None,
                stages=[StageIn(title=s.strip()) for s in stages.splitlines() if s.strip()])
        except (ValidationError, ValueError) as exc:
            raise InvalidInput(f"check the promise's fields: {exc}"[:300]) from exc
        return promises.make_promise(session, actor, question_id, data)

    return _action(request, session, csrf, f"/participation/lines/{question.campaign_id}",
                   "Обещание записано и поставлено на контроль", make)


@router.post("/participation/promises/{promise_id}/done")
def promise_done(request: Request, promise_id: RefId, actor: OptionalActor,
                 session: SessionDep, csrf: Text = "") -> Response:
    """The promise is kept."""
    actor = require_actor(actor)
    found = promises.get_promise(session, actor, promise_id)
    return _action(request, session, csrf, f"/participation/lines/{found.campaign_id}",
                   "Обещание выполнено", lambda: promises.mark_done(session, actor, promise_id))


@router.post("/participation/promises/{promise_id}/stages/{index}")
def stage_done(request: Request, promise_id: RefId, index: int, actor: OptionalActor,
               session: SessionDep, csrf: Text = "") -> Response:
    """A stage of a promise is done."""
    actor = require_actor(actor)
    found = promises.get_promise(session, actor, promise_id)
    return _action(request, session, csrf, f"/participation/lines/{found.campaign_id}",
                   "Этап выполнен",
                   lambda: promises.stage_done(session, actor, promise_id, index))
