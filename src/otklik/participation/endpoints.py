"""Participation routes: direct lines (campaigns, questions, promises) and proposals."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.bounds import DbInt, RefId
from otklik.deps import CurrentActor, SessionDep
from otklik.errors import InvalidInput
from otklik.paging import Limit, Offset
from otklik.participation import campaigns, exports, promises, proposals
from otklik.participation.schemas import (
    AnswerCreate,
    AssignBody,
    CampaignCreate,
    CampaignList,
    CampaignRead,
    CampaignReport,
    ConfirmPick,
    GroupList,
    ImportReport,
    MeetingCreate,
    PickRead,
    PromiseCreate,
    PromiseDecision,
    PromiseList,
    PromiseRead,
    PromiseState,
    ProposalCreate,
    ProposalEventList,
    ProposalEventRead,
    ProposalList,
    ProposalRead,
    PublicProposalList,
    QuestionList,
    QuestionRead,
    StageDone,
    StatusChange,
    SupportIn,
    SupportResult,
)

router = APIRouter(prefix="/api/v1", tags=["participation"])
MAX_IMPORT = 10 * 1024 * 1024
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
Region = Annotated[str | None, Query(pattern=r"^\d{2,3}$")]


# -- direct lines ------------------------------------------------------------------------------


@router.get("/campaigns", response_model=CampaignList)
def list_campaigns(actor: CurrentActor, session: SessionDep, region_code: Region = None,
                   limit: Limit = 50, offset: Offset = 0) -> CampaignList:
    """Direct lines in the caller's scope, the latest air first."""
    items, total = campaigns.list_campaigns(session, actor, region_code, limit, offset)
    return CampaignList(items=items, total=total, limit=limit, offset=offset)


@router.post("/campaigns", response_model=CampaignRead, status_code=201)
def create_campaign(payload: CampaignCreate, actor: CurrentActor, session: SessionDep
                    ) -> CampaignRead:
    """Open a direct line."""
    return campaigns.read(session, campaigns.create_campaign(session, actor, payload))


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
def get_campaign(campaign_id: RefId, actor: CurrentActor, session: SessionDep) -> CampaignRead:
    """One direct line."""
    return campaigns.read(session, campaigns.get_campaign(session, actor, campaign_id))


@router.post("/campaigns/{campaign_id}/collect")
def collect(campaign_id: RefId, actor: CurrentActor, session: SessionDep) -> dict[str, int]:
    """Look through the region's stored messages since the window opened."""
    return {"added": campaigns.collect_window(session, actor, campaign_id)}


@router.post("/campaigns/{campaign_id}/import", response_model=ImportReport)
async def import_list(campaign_id: RefId, request: Request, actor: CurrentActor,
                      session: SessionDep, format: Literal["csv", "xlsx"] = "csv"
                      ) -> ImportReport:
    """Import the hotline's list (the file as the request body); a report per row."""
    body = await request.body()
    if not body:
        raise InvalidInput("send the list as the request body")
    if len(body) > MAX_IMPORT:
        raise InvalidInput(f"the list is larger than {MAX_IMPORT // 1024 // 1024} MB")
    return import_bytes(session, actor, campaign_id, body, format)


def import_bytes(session: Session, actor: Actor, campaign_id: int, body: bytes, fmt: str
                 ) -> ImportReport:
    """Import a list given as bytes (the API and the page share this)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"list.{fmt}"
        path.write_bytes(body)
        return campaigns.import_hotline(session, actor, campaign_id, path, fmt)


@router.get("/campaigns/{campaign_id}/questions", response_model=QuestionList)
def list_questions(campaign_id: RefId, actor: CurrentActor, session: SessionDep,
                   originals_only: bool = False, picked_only: bool = False,
                   group: Annotated[str | None, Query(
                       max_length=200, description="a group's key (from /groups): the "
                                                   "questions of that group")] = None,
                   limit: Limit = 50, offset: Offset = 0) -> QuestionList:
    """A direct line's questions, oldest first; optionally the originals, the picked or
    those of one group."""
    rows = campaigns.questions(session, actor, campaign_id, originals_only=originals_only,
                               picked_only=picked_only, group=group)
    return QuestionList.of([QuestionRead.model_validate(q) for q in rows], limit, offset)


@router.get("/campaigns/{campaign_id}/groups", response_model=GroupList)
def groups(campaign_id: RefId, actor: CurrentActor, session: SessionDep,
           topic: str | None = None, limit: Limit = 50, offset: Offset = 0) -> GroupList:
    """The questions grouped, the biggest group first; optionally those of one topic."""
    rows = [g for g in campaigns.groups(session, actor, campaign_id)
            if topic is None or g.topic == topic]
    return GroupList.of(rows, limit, offset)


@router.post("/campaigns/{campaign_id}/picks", response_model=list[PickRead])
def propose_picks(campaign_id: RefId, actor: CurrentActor, session: SessionDep,
                  limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[PickRead]:
    """The system proposes the representative questions, with reasons."""
    return campaigns.propose_picks(session, actor, campaign_id, limit)


@router.get("/campaigns/{campaign_id}/sheet.{fmt}")
def sheet(campaign_id: RefId, fmt: Literal["docx", "xlsx"], actor: CurrentActor,
          session: SessionDep) -> Response:
    """The question sheet for the broadcast."""
    data = exports.render(exports.build(session, actor, campaign_id), fmt)
    return Response(data, media_type=MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="direct-line-{campaign_id}.{fmt}"'})


@router.post("/campaigns/{campaign_id}/finish")
def finish(campaign_id: RefId, actor: CurrentActor, session: SessionDep) -> dict[str, int]:
    """Close the line: the questions left unanswered go to executors as cases на контроле."""
    return {"control_cases": campaigns.finish(session, actor, campaign_id)}


@router.get("/campaigns/{campaign_id}/report", response_model=CampaignReport)
def report(campaign_id: RefId, actor: CurrentActor, session: SessionDep) -> CampaignReport:
    """Questions, top topics and places, promises made, done and late."""
    return promises.report(session, actor, campaign_id)


@router.post("/questions/{question_id}/confirm", response_model=QuestionRead)
def confirm(question_id: DbInt, payload: ConfirmPick, actor: CurrentActor,
            session: SessionDep) -> QuestionRead:
    """An editor confirms (or withdraws) a representative question."""
    return QuestionRead.model_validate(
        campaigns.confirm(session, actor, question_id, payload.confirmed))


@router.post("/questions/{question_id}/answer", response_model=QuestionRead)
def answer(question_id: DbInt, payload: AnswerCreate, actor: CurrentActor,
           session: SessionDep) -> QuestionRead:
    """Record the answer given on air."""
    return QuestionRead.model_validate(
        campaigns.record_answer(session, actor, question_id, payload.text))


@router.post("/questions/{question_id}/promises", response_model=PromiseRead, status_code=201)
def make_promise(question_id: DbInt, payload: PromiseCreate, actor: CurrentActor,
                 session: SessionDep) -> PromiseRead:
    """Record a promise: a case на контроле with its deadline on the production calendar."""
    return promises.read(promises.make_promise(session, actor, question_id, payload))


@router.get("/campaigns/{campaign_id}/promises", response_model=PromiseList)
def list_promises(campaign_id: RefId, actor: CurrentActor, session: SessionDep,
                  state: PromiseState | None = None, limit: Limit = 50, offset: Offset = 0
                  ) -> PromiseList:
    """A direct line's promises by deadline; optionally those open, done or overdue."""
    rows = [promises.read(p) for p in promises.promises(session, actor, campaign_id)]
    return PromiseList.of([p for p in rows if state is None or p.state == state], limit,
                          offset)


@router.post("/promises/{promise_id}/stages", response_model=PromiseRead)
def stage_done(promise_id: RefId, payload: StageDone, actor: CurrentActor,
               session: SessionDep) -> PromiseRead:
    """A stage of a promise is done."""
    return promises.read(promises.stage_done(session, actor, promise_id, payload.index,
                                             payload.done_on))


@router.post("/promises/{promise_id}/done", response_model=PromiseRead)
def promise_done(promise_id: RefId, actor: CurrentActor, session: SessionDep) -> PromiseRead:
    """The promise is kept."""
    return promises.read(promises.mark_done(session, actor, promise_id))


@router.post("/promises/{promise_id}/decision", response_model=PromiseRead)
def promise_decision(promise_id: RefId, payload: PromiseDecision, actor: CurrentActor,
                     session: SessionDep) -> PromiseRead:
    """Turn a promise into a decision of the registry (or link one)."""
    return promises.read(promises.to_decision(session, actor, promise_id, payload))


# -- proposals ---------------------------------------------------------------------------------


@router.get("/proposals", response_model=ProposalList)
def list_proposals(actor: CurrentActor, session: SessionDep,
                   status: str | None = Query(default=None, max_length=16),
                   region_code: Region = None, limit: Limit = 50, offset: Offset = 0
                   ) -> ProposalList:
    """Proposals in the caller's scope, the newest first."""
    rows, total = proposals.list_proposals(session, actor, status=status,
                                           region_code=region_code, limit=limit, offset=offset)
    return ProposalList(items=[ProposalRead.model_validate(p) for p in rows], total=total,
                        limit=limit, offset=offset)


@router.post("/proposals", response_model=ProposalRead, status_code=201)
def create_proposal(payload: ProposalCreate, actor: CurrentActor, session: SessionDep
                    ) -> ProposalRead:
    """Take a stored message into the proposals' path."""
    return ProposalRead.model_validate(proposals.create_proposal(
        session, actor, payload.message_id, payload.organization_id))


@router.get("/proposals/public", response_model=PublicProposalList)
def public(session: SessionDep, region_code: Region = None, limit: Limit = 50,
           offset: Offset = 0) -> PublicProposalList:
    """Proposals and their statuses for everyone (no login, no personal data)."""
    items, total = proposals.public_proposals(session, region_code, limit, offset)
    return PublicProposalList(items=items, total=total, limit=limit, offset=offset)


@router.get("/proposals/{proposal_id}", response_model=ProposalRead)
def get_proposal(proposal_id: RefId, actor: CurrentActor, session: SessionDep) -> ProposalRead:
    """One proposal."""
    return ProposalRead.model_validate(proposals.get_proposal(session, actor, proposal_id))


@router.get("/proposals/{proposal_id}/events", response_model=ProposalEventList)
def proposal_events(proposal_id: RefId, actor: CurrentActor, session: SessionDep,
                    limit: Limit = 50, offset: Offset = 0) -> ProposalEventList:
    """A proposal's path: statuses, meetings, notices."""
    return ProposalEventList.of([ProposalEventRead.model_validate(e)
                                 for e in proposals.events(session, actor, proposal_id)],
                                limit, offset)


@router.post("/proposals/{proposal_id}/status", response_model=ProposalRead)
def change_status(proposal_id: RefId, payload: StatusChange, actor: CurrentActor,
                  session: SessionDep) -> ProposalRead:
    """Move a proposal on (declining needs a reason); the author is told."""
    return ProposalRead.model_validate(proposals.change_status(
        session, actor, proposal_id, payload.status, reason=payload.reason,
        notice=payload.notice))


@router.post("/proposals/{proposal_id}/meetings", response_model=ProposalEventRead,
             status_code=201)
def meeting(proposal_id: RefId, payload: MeetingCreate, actor: CurrentActor,
            session: SessionDep) -> ProposalEventRead:
    """Record a meeting or follow-up; the author is told."""
    return ProposalEventRead.model_validate(proposals.record_meeting(
        session, actor, proposal_id, payload.meeting_on, payload.note, payload.notice))


@router.post("/proposals/{proposal_id}/assign", response_model=ProposalRead)
def assign(proposal_id: RefId, payload: AssignBody, actor: CurrentActor,
           session: SessionDep) -> ProposalRead:
    """Name the body responsible for the review."""
    return ProposalRead.model_validate(proposals.assign(session, actor, proposal_id,
                                                        payload.organization_id))


@router.post("/proposals/{proposal_id}/support", response_model=SupportResult)
def support(proposal_id: RefId, payload: SupportIn, actor: CurrentActor,
            session: SessionDep) -> SupportResult:
    """A resident's support sent by a channel (the bot, the form: a token with "intake");
    one vote per source and author id; a proposal of another region is 404."""
    return proposals.support(session, actor, proposal_id, payload.source, payload.author_id)


@router.post("/notices/{answer_id}/approve")
def approve_notice(answer_id: DbInt, actor: CurrentActor, session: SessionDep
                   ) -> dict[str, object]:
    """An operator approves a notice to a resident; it is published where they wrote."""
    answer = proposals.approve_notice(session, actor, answer_id)
    return {"id": answer.id, "status": answer.status}
