"""Case routes: lists, the card, actions, corrections, merge/split, problems, rules, policies."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from otklik.bounds import DbInt, RefId
from otklik.cases import actions, admin, answers, service
from otklik.cases.queries import case_detail
from otklik.cases.repository import CaseRepository
from otklik.cases.schemas import (
    AnswerRead,
    AssigneeList,
    AssigneeRead,
    AssignRequest,
    BulkAnswer,
    CalendarExceptionCreate,
    CaseAction,
    CaseDetail,
    CaseEdit,
    CaseList,
    CaseRead,
    HandbackReport,
    HandbackRow,
    MergeRequest,
    PolicyCreate,
    ProblemList,
    ProblemRead,
    RuleCreate,
    RuleList,
    RuleRead,
    SplitRequest,
)
from otklik.db.base import utcnow
from otklik.deps import CurrentActor, SessionDep
from otklik.models.case import CaseStatus
from otklik.paging import Limit, Offset
from otklik.pd.masking import shown_all

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.get("/cases", response_model=CaseList)
def list_cases(
    actor: CurrentActor,
    session: SessionDep,
    status: list[CaseStatus] | None = Query(default=None),
    topic: str | None = None,
    executor_id: RefId | None = None,
    problem_id: DbInt | None = None,
    region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
    overdue: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
    sort: Annotated[Literal["deadline", "uncertain"], Query(
        description="deadline: nearest deadline first; uncertain: the cases the machine was "
                    "least sure about (topic, place or relevance confidence) first")] = "deadline",
) -> CaseList:
    """Cases in the caller's scope, nearest deadline first (or least sure first)."""
    actor.require("read")
    rows, total = CaseRepository(session).page(
        actor.scope, statuses=status, topic=topic, executor_id=executor_id,
        problem_id=problem_id, region_code=region_code,
        overdue_at=utcnow() if overdue else None, limit=limit, offset=offset, sort=sort)
    return CaseList(items=shown_all(actor, [CaseRead.model_validate(c) for c in rows]),
                    total=total,
                    limit=limit, offset=offset)


@router.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: DbInt, actor: CurrentActor, session: SessionDep) -> CaseDetail:
    """One case with its messages, history, answers and what the caller may do."""
    return case_detail(session, actor, case_id)


@router.post("/cases/{case_id}/actions/{action}", response_model=CaseRead)
def act(case_id: DbInt, action: str, payload: CaseAction, actor: CurrentActor,
        session: SessionDep) -> CaseRead:
    """Route, accept, hand back, clarify, draft, submit, approve, return, close, reopen …"""
    case = service.get_case(session, actor, case_id)
    actions.perform(session, actor, case, action, payload)
    session.flush()
    return CaseRead.model_validate(case)


@router.patch("/cases/{case_id}", response_model=CaseRead)
def edit_case(case_id: DbInt, payload: CaseEdit, actor: CurrentActor, session: SessionDep
              ) -> CaseRead:
    """Correct topic, place, urgency … (each correction becomes a training label)."""
    case = service.get_case(session, actor, case_id)
    service.edit(session, actor, case, payload.changes, payload.version)
    session.flush()
    return CaseRead.model_validate(case)


@router.put("/cases/{case_id}/assignee", response_model=CaseRead)
def assign_case(case_id: DbInt, payload: AssignRequest, actor: CurrentActor,
                session: SessionDep) -> CaseRead:
    """Give the case to a person (or take it back with null)."""
    case = service.get_case(session, actor, case_id)
    service.assign(session, actor, case, payload.assignee_id, version=payload.version)
    session.flush()
    return CaseRead.model_validate(case)


@router.get("/cases/{case_id}/assignees", response_model=AssigneeList)
def list_assignees(case_id: DbInt, actor: CurrentActor, session: SessionDep,
                   limit: Limit = 50, offset: Offset = 0) -> AssigneeList:
    """The people the caller may give this case to."""
    case = service.get_case(session, actor, case_id)
    return AssigneeList.of([AssigneeRead.model_validate(u)
                            for u in service.assignable(session, actor, case)], limit, offset)


@router.post("/cases/merge", response_model=CaseRead)
def merge_cases(payload: MergeRequest, actor: CurrentActor, session: SessionDep) -> CaseRead:
    """Merge cases into one."""
    target = service.get_case(session, actor, payload.target)
    others = [service.get_case(session, actor, i) for i in payload.others]
    return CaseRead.model_validate(service.merge(session, actor, target, others))


@router.post("/cases/{case_id}/split", response_model=CaseRead, status_code=201)
def split_case(case_id: DbInt, payload: SplitRequest, actor: CurrentActor, session: SessionDep
               ) -> CaseRead:
    """Move some messages into a new case."""
    case = service.get_case(session, actor, case_id)
    return CaseRead.model_validate(service.split(session, actor, case, payload.message_ids))


@router.post("/extensions/{extension_id}/decision", response_model=CaseRead)
def decide_extension(extension_id: RefId, approve: bool, actor: CurrentActor,
                     session: SessionDep) -> CaseRead:
    """A curator approves or rejects a request for more time."""
    return CaseRead.model_validate(service.decide_extension(session, actor, extension_id,
                                                            approve))


@router.get("/problems", response_model=ProblemList)
def list_problems(actor: CurrentActor, session: SessionDep,
                  region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
                  limit: Limit = 50, offset: Offset = 0) -> ProblemList:
    """Problems (clusters of cases), biggest first."""
    actor.require("read")
    rows, total = CaseRepository(session).problems(actor.scope, region_code=region_code,
                                                   limit=limit, offset=offset)
    return ProblemList(items=[ProblemRead.model_validate(p) for p in rows], total=total,
                       limit=limit, offset=offset)


@router.get("/problems/{problem_id}", response_model=ProblemRead)
def get_problem(problem_id: DbInt, actor: CurrentActor, session: SessionDep) -> ProblemRead:
    """One problem (its cases: ``/cases?problem_id=``, those the caller sees)."""
    return ProblemRead.model_validate(service.get_problem(session, actor, problem_id))


@router.post("/problems/{problem_id}/answer", response_model=AnswerRead, status_code=201)
def answer_problem(problem_id: DbInt, payload: BulkAnswer, actor: CurrentActor,
                   session: SessionDep) -> AnswerRead:
    """Answer every case of a problem at once (published once per linked message)."""
    problem = service.get_problem(session, actor, problem_id)
    return AnswerRead.model_validate(answers.answer_problem(session, actor, problem,
                                                            payload.text))


@router.get("/routing/rules", response_model=RuleList)
def list_rules(actor: CurrentActor, session: SessionDep,
               region_code: str = Query(pattern=r"^\d{2,3}$"),
               topic: str | None = None, executor_id: RefId | None = None,
               limit: Limit = 50, offset: Offset = 0) -> RuleList:
    """A region's enabled routing rules in order; optionally those of one topic or
    executor."""
    rows = admin.list_rules(session, actor, region_code, topic=topic, executor_id=executor_id)
    return RuleList.of([RuleRead.model_validate(r) for r in rows], limit, offset)


@router.post("/routing/rules", response_model=RuleRead, status_code=201)
def add_rule(payload: RuleCreate, actor: CurrentActor, session: SessionDep) -> RuleRead:
    """Add a routing rule."""
    return RuleRead.model_validate(admin.add_rule(session, actor, payload))


@router.get("/routing/report", response_model=HandbackReport)
def routing_report(actor: CurrentActor, session: SessionDep, limit: Limit = 50,
                   offset: Offset = 0) -> HandbackReport:
    """Organizations by how often they hand cases back (wrong routing), most first."""
    return HandbackReport.of([HandbackRow.model_validate(r)
                              for r in admin.handback_report(session, actor)], limit, offset)


@router.post("/deadline-policies", status_code=201)
def add_policy(payload: PolicyCreate, actor: CurrentActor, session: SessionDep
               ) -> dict[str, object]:
    """Add a deadline policy."""
    row = admin.add_policy(session, actor, payload)
    return {"id": row.id, "policy": row.policy}


@router.post("/calendar-exceptions", status_code=201)
def add_calendar_exception(payload: CalendarExceptionCreate, actor: CurrentActor,
                           session: SessionDep) -> dict[str, object]:
    """Correct the production calendar (a moved day, a regional holiday)."""
    row = admin.add_calendar_exception(session, actor, payload)
    return {"id": row.id, "day": row.day, "kind": row.kind}


@router.delete("/calendar-exceptions/{exception_id}", status_code=204)
def remove_calendar_exception(exception_id: RefId, actor: CurrentActor,
                              session: SessionDep) -> None:
    """Undo a correction of the production calendar."""
    admin.remove_calendar_exception(session, actor, exception_id)
