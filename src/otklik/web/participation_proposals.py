"""The proposals pages: the list and card for the center and the responsible body (status
changes, meetings, notices to moderate), and the public page of proposals and their
statuses, open to everyone, without personal data."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from otklik.bounds import DbInt, RefId
from otklik.cases import control
from otklik.deps import OptionalActor, SessionDep
from otklik.errors import InvalidInput
from otklik.participation import proposals
from otklik.participation.repository import ParticipationRepository
from otklik.web.participation import _action, page
from otklik.web.participation_i18n import translator
from otklik.web.rendering import render
from otklik.web.workspace_common import require_actor

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
PAGE = 50


@router.get("/participation/proposals", response_class=HTMLResponse)
def public_page(request: Request, session: SessionDep,
                region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
                page_no: int = Query(default=1, ge=1, le=1000, alias="page")) -> Response:
    """Proposals and their statuses for everyone: no login, no personal data."""
    items, total = proposals.public_proposals(session, region_code, PAGE, (page_no - 1) * PAGE)
    return render(request, "participation/public.html", {
        "t": translator(request), "items": items, "total": total, "page": page_no,
        "pages": max(1, -(-total // PAGE)), "region_code": region_code or ""})


@router.get("/participation/review", response_class=HTMLResponse)
def review_page(request: Request, actor: OptionalActor, session: SessionDep,
                status: str | None = Query(default=None, max_length=16),
                page_no: int = Query(default=1, ge=1, le=1000, alias="page")) -> Response:
    """Proposals in the caller's scope (the responsible body: its own)."""
    actor = require_actor(actor)
    items, total = proposals.list_proposals(
        session, actor, status=status if status in proposals.STATUSES else None,
        limit=PAGE, offset=(page_no - 1) * PAGE)
    return page(request, actor, session, "participation/proposals.html", {
        "items": items, "total": total, "status": status or "", "page": page_no,
        "pages": max(1, -(-total // PAGE)), "statuses": proposals.STATUSES})


@router.get("/participation/review/{proposal_id}", response_class=HTMLResponse)
def proposal_page(request: Request, proposal_id: RefId, actor: OptionalActor,
                  session: SessionDep) -> Response:
    """A proposal: its text, path, the next steps, notices waiting on moderation."""
    actor = require_actor(actor)
    proposal = proposals.get_proposal(session, actor, proposal_id)
    repo = ParticipationRepository(session)
    case_id = proposal.case_id
    may_review = actor.scope.can("triage") or (
        actor.scope.organization_id is not None
        and actor.scope.organization_id == proposal.organization_id)
    return page(request, actor, session, "participation/proposal.html", {
        "proposal": proposal, "events": proposals.events(session, actor, proposal.id),
        "next": sorted(proposals.NEXT[proposal.status]), "may_review": may_review,
        "notices": control.pending_notices(session, [case_id])
        if case_id is not None and actor.scope.can("moderate") else [],
        "organizations": repo.organizations(proposal.region_code)
        if actor.scope.can("triage") else [],
        "body": repo.organization_names(
            [proposal.organization_id or 0]).get(proposal.organization_id or 0)})


def _back(proposal_id: int) -> str:
    return f"/participation/review/{proposal_id}"


@router.post("/participation/review/{proposal_id}/status")
def status(request: Request, proposal_id: RefId, actor: OptionalActor, session: SessionDep,
           csrf: Text = "", to: Text = "", reason: Text = "", notice: Text = "") -> Response:
    """Move a proposal on; declining needs a reason."""
    actor = require_actor(actor)
    return _action(request, session, csrf, _back(proposal_id), "Статус изменён", lambda:
                   proposals.change_status(session, actor, proposal_id, to, reason=reason,
                                           notice=notice.strip() or None))


@router.post("/participation/review/{proposal_id}/meeting")
def meeting(request: Request, proposal_id: RefId, actor: OptionalActor, session: SessionDep,
            csrf: Text = "", day: Text = "", note: Text = "") -> Response:
    """Record a meeting or follow-up."""
    actor = require_actor(actor)

    def record() -> object:
        try:
            when = date.fromisoformat(day)
        except ValueError as exc:
            raise InvalidInput("the meeting's date is YYYY-MM-DD") from exc
        if len(note.strip()) < 5:
            raise InvalidInput("write what was agreed (at least a few words)")
        return proposals.record_meeting(session, actor, proposal_id, when, note)

    return _action(request, session, csrf, _back(proposal_id), "Встреча записана", record)


@router.post("/participation/review/{proposal_id}/assign")
def assign(request: Request, proposal_id: RefId, actor: OptionalActor, session: SessionDep,
           csrf: Text = "", organization_id: Text = "") -> Response:
    """Name the responsible body."""
    actor = require_actor(actor)
    return _action(request, session, csrf, _back(proposal_id), "Ответственный назначен",
                   lambda: proposals.assign(session, actor, proposal_id,
                                            int(organization_id or 0)))


@router.post("/participation/review/{proposal_id}/notices/{answer_id}")
def approve(request: Request, proposal_id: RefId, answer_id: DbInt, actor: OptionalActor,
            session: SessionDep, csrf: Text = "") -> Response:
    """Approve a notice to the author: it goes out through the channel they wrote in."""
    actor = require_actor(actor)
    return _action(request, session, csrf, _back(proposal_id), "Сообщение отправлено",
                   lambda: proposals.approve_notice(session, actor, answer_id,
                                                    proposal_id))
