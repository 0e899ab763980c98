"""Promises made on the direct line: each is a controlled task — a case на контроле routed to
its owner organization with the deadline on the production calendar (the cases machinery:
escalation, extensions, the executor's cabinet) — tracked through its stages, and may be
turned into a decision of the registry. The line's report counts what was promised, what is
done and what is late."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases import control
from otklik.db.base import utcnow
from otklik.decisions import service as decisions
from otklik.decisions.schemas import DecisionCreate
from otklik.errors import Conflict, InvalidInput, NotFound
from otklik.models.participation import Promise
from otklik.participation import campaigns
from otklik.participation.repository import ParticipationRepository
from otklik.participation.schemas import (
    CampaignReport,
    PromiseCreate,
    PromiseDecision,
    PromiseRead,
)


def state(promise: Promise, now: datetime | None = None) -> str:
    """done, overdue (past its deadline and not done) or open."""
    if promise.done_at is not None:
        return "done"
    return "overdue" if promise.due_at <= (now or utcnow()) else "open"


def read(promise: Promise, now: datetime | None = None) -> PromiseRead:
    """A promise with its state."""
    return PromiseRead.model_validate(promise).model_copy(update={"state": state(promise, now)})


def make_promise(session: Session, actor: Actor, question_id: int, data: PromiseCreate
                 ) -> Promise:
    """Record a promise against a question: a case на контроле goes to the owner
    organization, due on the production calendar (a date: the close of the last working
    day on or before it; working days: counted from the air)."""
    question = campaigns.get_question(session, actor, question_id)
    campaign = campaigns.get_campaign(session, actor, question.campaign_id)
    campaigns._can_edit(actor, campaign.region_code)
    repo = ParticipationRepository(session)
    organization = repo.organization(data.organization_id)
    if organization is None or organization.region_code != campaign.region_code:
        raise InvalidInput(f"organization {data.organization_id} does not exist in region "
                           f"{campaign.region_code}")
    start = max(campaign.air_at, question.received_at)
    due_at = control.deadline_on(session, campaign.region_code, organization.id,
                                 day=data.due_on, working_days=data.working_days, start=start)
    case = control.open_control_case(
        session, actor, region_code=campaign.region_code,
        title=f"Обещание прямой линии: {' '.join(data.text.split())[:250]}", kind="promise",
        received_at=start, topic=question.topic, municipality_id=question.municipality_id,
        settlement_id=question.settlement_id, executor_id=organization.id, due=due_at,
        campaign=campaign.id, question=question.id)
    promise = repo.add(Promise(
        campaign_id=campaign.id, question_id=question.id, region_code=campaign.region_code,
        text=data.text.strip(), organization_id=organization.id, due_on=_local_day(due_at),
        due_at=due_at, case_id=case.id, created_by_id=actor.user_id,
        stages=[{"title": s.title, "due_on": s.due_on.isoformat() if s.due_on else None,
                 "done_on": None} for s in data.stages]))
    question.status = "promised"
    audit.record(session, actor, "promise.create", "promise", promise.id,
                 region_code=campaign.region_code,
                 details={"case": case.id, "due_at": due_at.isoformat()})
    return promise


def _local_day(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Moscow")).date()


def get_promise(session: Session, actor: Actor, promise_id: int) -> Promise:
    """A promise of a campaign the actor sees."""
    promise = ParticipationRepository(session).promise(promise_id)
    if promise is None:
        raise NotFound(f"promise {promise_id} not found")
    campaigns.get_campaign(session, actor, promise.campaign_id)
    return promise


def promises(session: Session, actor: Actor, campaign_id: int) -> list[Promise]:
    """A campaign's promises by deadline."""
    campaigns.get_campaign(session, actor, campaign_id)
    return ParticipationRepository(session).promises(campaign_id)


def stage_done(session: Session, actor: Actor, promise_id: int, index: int,
               done_on: date | None = None) -> Promise:
    """Mark a stage of a promise done; the last stage done makes the promise done."""
    promise = get_promise(session, actor, promise_id)
    campaigns._can_edit(actor, promise.region_code)
    stages = [dict(s) for s in promise.stages or []]
    if not 0 <= index < len(stages):
        raise InvalidInput(f"promise {promise.id} has {len(stages)} stages")
    stages[index]["done_on"] = (done_on or _local_day(utcnow())).isoformat()
    promise.stages = stages
    if all(s.get("done_on") for s in stages) and promise.done_at is None:
        promise.done_at = utcnow()
    audit.record(session, actor, "promise.stage", "promise", promise.id,
                 region_code=promise.region_code, details={"stage": index})
    return promise


def mark_done(session: Session, actor: Actor, promise_id: int) -> Promise:
    """The promise is kept."""
    promise = get_promise(session, actor, promise_id)
    campaigns._can_edit(actor, promise.region_code)
    if promise.done_at is not None:
        raise Conflict(f"promise {promise.id} is done already")
    promise.done_at = utcnow()
    audit.record(session, actor, "promise.done", "promise", promise.id,
                 region_code=promise.region_code)
    return promise


def done_by_case(session: Session, case_id: int) -> bool:
    """A promise whose control case was answered or closed is done (idempotent)."""
    promise = ParticipationRepository(session).promise_of_case(case_id)
    if promise is None or promise.done_at is not None:
        return False
    promise.done_at = utcnow()
    return True


def to_decision(session: Session, actor: Actor, promise_id: int, data: PromiseDecision
                ) -> Promise:
    """Turn a promise into a decision of the registry: link one that exists, or record a
    new one linked to the question's topic, municipality and problem."""
    promise = get_promise(session, actor, promise_id)
    if data.decision_id is not None:
        decision = decisions.get_decision(session, actor, data.decision_id)
        if decision.region_code != promise.region_code:
            raise InvalidInput(f"decision {decision.id} is of another region")
    else:
        question = ParticipationRepository(session).question(promise.question_id)
        assert question is not None and data.title and data.decided_on and data.decided_by
        decision = decisions.create_decision(session, actor, DecisionCreate(
            region_code=promise.region_code, title=data.title, decided_on=data.decided_on,
            decided_by=data.decided_by, budget_rub=data.budget_rub, text=promise.text,
            topics=[question.topic] if question.topic else [],
            territory_ids=[question.municipality_id] if question.municipality_id else [],
            problem_ids=[question.problem_id] if question.problem_id else []))
    promise.decision_id = decision.id
    audit.record(session, actor, "promise.decision", "promise", promise.id,
                 region_code=promise.region_code, details={"decision": decision.id})
    return promise


def report(session: Session, actor: Actor, campaign_id: int, now: datetime | None = None
           ) -> CampaignReport:
    """How many questions, the top topics and places, what was promised, what is done,
    what is late."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    repo = ParticipationRepository(session)
    rows = repo.questions(campaign.id)
    originals = [q for q in rows if q.duplicate_of_id is None]
    topics, places = campaigns.top_counts(session, rows)
    made = repo.promises(campaign.id)
    states = [state(p, now) for p in made]
    return CampaignReport(
        campaign_id=campaign.id, questions=len(rows), originals=len(originals),
        supporters=sum(q.supporters for q in originals), late=sum(q.late for q in rows),
        picked=sum(q.picked for q in originals), confirmed=sum(q.confirmed for q in originals),
        answered=sum(q.answer_text is not None for q in originals),
        promised=sum(q.status == "promised" for q in originals),
        to_control=sum(q.status == "control" for q in originals),
        top_topics=topics, top_places=places, promises=len(made),
        promises_done=states.count("done"), promises_overdue=states.count("overdue"),
        promises_open=states.count("open"),
        overdue=[read(p, now) for p, s in zip(made, states, strict=True) if s == "overdue"])
