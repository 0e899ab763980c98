"""Contest routes under /api/v1/contests: managers set up and read results, experts score."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.bounds import RefId
from otklik.contests import protocol, results, service
from otklik.contests.schemas import (
    ApplicationCreate,
    ApplicationList,
    ApplicationRead,
    ConflictDeclare,
    ContestCreate,
    ContestList,
    ContestRead,
    ContestUpdate,
    ExpertAssign,
    ExpertList,
    Results,
    ReviewList,
    ReviewRead,
    ReviewSubmit,
    Status,
)
from otklik.deps import CurrentActor, SessionDep
from otklik.errors import NotFound
from otklik.models.contests import ContestApplication
from otklik.paging import Limit, Offset

router = APIRouter(prefix="/api/v1/contests", tags=["contests"])


@router.get("", response_model=ContestList)
def list_contests(actor: CurrentActor, session: SessionDep,
                  region_code: Annotated[str | None, Query(pattern=r"^\d{2,3}$")] = None,
                  status: Status | None = None,
                  limit: Limit = 50, offset: Offset = 0) -> ContestList:
    """Contests the caller sees (an expert: those they are assigned to); optionally of one
    region or status."""
    rows = [c for c in service.list_contests(session, actor)
            if (region_code is None or c.region_code == region_code)
            and (status is None or c.status == status)]
    return ContestList.of(rows, limit, offset)


@router.post("", response_model=ContestRead, status_code=201)
def create(payload: ContestCreate, actor: CurrentActor, session: SessionDep) -> ContestRead:
    """A contest with its tracks and criteria (admins, curators)."""
    return service.read_contest(session, service.create_contest(session, actor, payload))


@router.get("/{contest_id}", response_model=ContestRead)
def get(contest_id: RefId, actor: CurrentActor, session: SessionDep) -> ContestRead:
    """One contest."""
    return service.read_contest(session, service.get_contest(session, actor, contest_id))


@router.patch("/{contest_id}", response_model=ContestRead)
def update(contest_id: RefId, payload: ContestUpdate, actor: CurrentActor,
           session: SessionDep) -> ContestRead:
    """Change a contest's settings or status (draft, open, scoring, closed)."""
    return service.read_contest(session, service.update_contest(session, actor, contest_id,
                                                                payload))


@router.get("/{contest_id}/experts", response_model=ExpertList)
def experts(contest_id: RefId, actor: CurrentActor, session: SessionDep,
            track_id: RefId | None = None, limit: Limit = 50, offset: Offset = 0
            ) -> ExpertList:
    """The experts of the contest's tracks (or of one track)."""
    rows = [e for e in service.list_experts(session, actor, contest_id)
            if track_id is None or e.track_id == track_id]
    return ExpertList.of(rows, limit, offset)


@router.post("/{contest_id}/experts", status_code=204)
def assign(contest_id: RefId, payload: ExpertAssign, actor: CurrentActor,
           session: SessionDep) -> Response:
    """Put an expert on a track."""
    service.assign_expert(session, actor, contest_id, payload)
    return Response(status_code=204)


@router.get("/{contest_id}/applications", response_model=ApplicationList)
def applications(contest_id: RefId, actor: CurrentActor, session: SessionDep,
                 track_id: RefId | None = None, limit: Limit = 50, offset: Offset = 0
                 ) -> ApplicationList:
    """Applications the caller sees (an expert: of their tracks, not recused)."""
    items = service.list_applications(session, actor, contest_id, track_id)
    return ApplicationList.of(items, limit, offset)


@router.post("/{contest_id}/applications", response_model=ApplicationRead, status_code=201)
def add_application(contest_id: RefId, payload: ApplicationCreate, actor: CurrentActor,
                    session: SessionDep) -> ApplicationRead:
    """An application entered by a manager (from paper or e-mail)."""
    application, _ = service.add_application(session, actor, contest_id, payload,
                                             source="manual")
    return service.read_applications(session, actor, [application])[0]


@router.get("/{contest_id}/applications/{application_id}", response_model=ApplicationRead)
def application(contest_id: RefId, application_id: RefId, actor: CurrentActor,
                session: SessionDep) -> ApplicationRead:
    """One application."""
    found = _application(session, actor, contest_id, application_id)
    return service.read_applications(session, actor, [found])[0]


def _application(session: Session, actor: Actor, contest_id: int, application_id: int
                 ) -> ContestApplication:
    found = service.get_application(session, actor, application_id)
    if found.contest_id != contest_id:
        raise NotFound(f"application {application_id} does not exist or is outside "
                               "your scope")
    return found


@router.get("/{contest_id}/applications/{application_id}/attachments/{attachment_id}")
def attachment(contest_id: RefId, application_id: RefId, attachment_id: RefId,
               actor: CurrentActor, session: SessionDep) -> Response:
    """A file of an application (assigned experts and managers only), as a download."""
    _application(session, actor, contest_id, application_id)
    row, content = service.attachment_file(session, actor, application_id, attachment_id)
    return Response(content, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"file-{row.id}\"; "
                               f"filename*=UTF-8''{quote(row.filename, safe='')}"})


@router.post("/{contest_id}/applications/{application_id}/conflict", status_code=204)
def conflict(contest_id: RefId, application_id: RefId, payload: ConflictDeclare,
             actor: CurrentActor, session: SessionDep) -> Response:
    """The calling expert declares a conflict of interest and is recused."""
    _application(session, actor, contest_id, application_id)
    service.declare_conflict(session, actor, application_id, payload.reason)
    return Response(status_code=204)


@router.post("/{contest_id}/applications/{application_id}/review", response_model=ReviewRead,
             status_code=201, responses={422: {"description": "a score outside its scale"}})
def review(contest_id: RefId, application_id: RefId, payload: ReviewSubmit,
           actor: CurrentActor, session: SessionDep) -> ReviewRead:
    """The calling expert's scores, once (a second submission is 409)."""
    _application(session, actor, contest_id, application_id)
    service.submit_review(session, actor, application_id, payload)
    mine = [r for r in service.reviews_of(session, actor, application_id)
            if r.expert_id == actor.user_id]
    return mine[0]


@router.get("/{contest_id}/applications/{application_id}/reviews",
            response_model=ReviewList)
def reviews(contest_id: RefId, application_id: RefId, actor: CurrentActor,
            session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> ReviewList:
    """Every counted review of an application: an expert sees them after their own."""
    _application(session, actor, contest_id, application_id)
    return ReviewList.of(service.reviews_of(session, actor, application_id), limit, offset)


@router.get("/{contest_id}/results", response_model=Results)
def contest_results(contest_id: RefId, actor: CurrentActor, session: SessionDep) -> Results:
    """Ranking per track with spread, outliers, ties explained and grants in the budget."""
    return results.contest_results(session, actor, contest_id)


@router.get("/{contest_id}/protocol", response_class=Response, responses={200: {
    "description": "The protocol file", "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in protocol.MEDIA_TYPES.values()}}})
def protocol_file(contest_id: RefId, actor: CurrentActor, session: SessionDep,
                  format: Annotated[Literal["docx", "xlsx"], Query()] = "docx") -> Response:
    """The panel's protocol as DOCX or XLSX."""
    data = results.contest_results(session, actor, contest_id)
    content = protocol.render(data, format)
    return Response(content, media_type=protocol.MEDIA_TYPES[format], headers={
        "Content-Disposition": f"attachment; filename=\"contest-{contest_id}-protocol.{format}\""})
