"""Answers: drafting, the brush-off check, moderation, publishing where the resident wrote.

Publishing happens in a job after commit, once per (answer, message): a retry publishes only
what has not been published yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from otklik.answers.quality import RecentAnswer, check_answer
from otklik.answers.templates import render_default
from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.cases.reference import AnyOrganization
from otklik.cases.repository import CaseRepository
from otklik.db.base import utcnow
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.models.case import OPEN_STATUSES, Answer, Case, CaseStatus, Problem
from otklik.models.organization import Organization
from otklik.nlp.dedup import signature
from otklik.organizations.repository import OrganizationRepository

MIN_ANSWER = 20


def _quality(session: Session, case: Case | None, text: str, organization_id: int | None,
             question: str | None) -> dict[str, Any]:
    recent: list[RecentAnswer] = []
    if organization_id is not None:
        for answer, problem in CaseRepository(session).recent_answers_of(
                organization_id, utcnow() - timedelta(days=30)):
            if answer.case_id == (case.id if case else None):
                continue
            recent.append(RecentAnswer(text=answer.text, signature=answer.signature or "",
                                       problem_id=problem or -answer.id,
                                       sent_at=answer.created_at))
    report = check_answer(text, topic=case.topic if case else None,
                          subtopic=case.subtopic if case else None, question=question,
                          recent=recent, now=utcnow().date(),
                          problem_id=case.problem_id if case else None)
    return report.to_dict()


def _question(session: Session, case: Case) -> str:
    messages = CaseRepository(session).messages(case.id)
    return messages[0].text if messages else case.title


def draft(session: Session, actor: Actor, case: Case, text: str,
          version: int | None = None) -> Answer:
    """The executor writes (or rewrites) the answer; the brush-off check runs at once."""
    service._own(actor, case)
    text = text.strip()
    if len(text) < MIN_ANSWER:
        raise InvalidInput(f"the answer is too short: write at least {MIN_ANSWER} characters")
    repo = CaseRepository(session)
    current = next((a for a in reversed(repo.answers(case.id))
                    if a.kind == "final" and a.status in ("draft", "returned")), None)
    service.move(session, actor, case, "draft_answer", version=version)
    quality = _quality(session, case, text, case.executor_id, _question(session, case))
    if current is None:  # inserted whole (not inserted, then updated with its signature)
        current = repo.add_answer(Answer(case_id=case.id, kind="final", text=text,
                                         status="draft", author_id=actor.user_id,
                                         organization_id=case.executor_id, quality=quality,
                                         signature=signature(text)))
    else:
        current.text, current.quality, current.status = text, quality, "draft"
        current.author_id = actor.user_id
        current.signature = signature(text)
    return current


def submit(session: Session, actor: Actor, case: Case, version: int | None = None) -> Answer:
    """Send the drafted answer to moderation."""
    service._own(actor, case)
    answer = _pending(session, case, ("draft",))
    service.move(session, actor, case, "submit", version=version, answer=answer.id,
                 flags=[f["code"] for f in answer.quality.get("flags", [])])
    answer.status = "on_moderation"
    return answer


def approve(session: Session, actor: Actor, case: Case, version: int | None = None) -> Answer:
    """An operator approves the answer (never their own); it is published after commit."""
    answer = _pending(session, case, ("on_moderation",))
    if answer.author_id is not None and answer.author_id == actor.user_id:
        raise Forbidden("you cannot approve your own answer: another operator must moderate it")
    service.move(session, actor, case, "approve", version=version, answer=answer.id)
    now = utcnow()
    answer.status, answer.moderator_id, answer.approved_at = "approved", actor.user_id, now
    case.answered_at = now
    if case.first_response_at is None:
        case.first_response_at = now
    queue_publication(session, answer.id)
    return answer


def return_answer(session: Session, actor: Actor, case: Case, comment: str,
                  version: int | None = None) -> Answer:
    """An operator returns the answer to the executor with a comment."""
    if len(comment.strip()) < 5:
        raise InvalidInput("tell the executor what to fix (at least a few words)")
    answer = _pending(session, case, ("on_moderation",))
    service.move(session, actor, case, "return", version=version, answer=answer.id,
                 comment=comment)
    answer.status, answer.moderation_comment = "returned", comment
    answer.moderator_id = actor.user_id
    return answer


def _pending(session: Session, case: Case, statuses: Sequence[str]) -> Answer:
    answer = next((a for a in reversed(CaseRepository(session).answers(case.id))
                   if a.kind == "final" and a.status in statuses), None)
    if answer is None:
        raise InvalidInput(f"case {case.id} has no answer {' or '.join(statuses)}")
    return answer


def _auto_answer(session: Session, actor: Actor, case: Case, kind: str, text: str) -> int:
    repo = CaseRepository(session)
    values = {"case_id": case.id, "kind": kind, "text": text, "status": "approved",
              "author_id": actor.user_id, "organization_id": case.executor_id,
              "approved_at": utcnow(), "quality": {}}
    if inspect(case).transient:  # a planned case (CaseRepository.plan): appended with it
        answer_id = repo.add_planned_answer(values)
    else:
        answer_id = repo.add_answer(Answer(**values)).id
    service.record_event(session, actor, case, f"{kind}_answer", None, answer=answer_id)
    queue_publication(session, answer_id)
    return answer_id


def interim_answer(session: Session, actor: Actor, case: Case,
                   organization: AnyOrganization) -> int:
    """"Taken into work, the deadline is …", published when the case is routed; returns
    the answer's id."""
    text = render_default("interim", answer_context(case, organization, session))
    return _auto_answer(session, actor, case, "interim", text)


def clarification_request(session: Session, actor: Actor, case: Case, question: str) -> int:
    """The executor's question to the resident, published in the thread; returns the
    answer's id."""
    return _auto_answer(session, actor, case, "clarification", question.strip())


def answer_context(case: Case, organization: AnyOrganization | None,
                   session: Session | None = None) -> dict[str, Any]:
    """What an answer template may say about a case: its number, executor, deadline, topic
    and address (the answer editor fills templates from it); ``session``: the case's (by
    default the one it belongs to)."""
    from sqlalchemy.orm import object_session

    from otklik.nlp.taxonomy import load_taxonomy

    session = session or object_session(case)
    # the rubricator in use (the packaged one for a case that belongs to no session)
    taxonomy = (CaseRepository(session).active_taxonomy() if session is not None
                else load_taxonomy())
    topic = taxonomy.name(case.topic, "ru") if case.topic and taxonomy.get(case.topic) else ""
    return {"case_number": case.id, "executor": organization.name if organization else "",
            "deadline": case.resolution_due, "topic": topic or "обращение",
            "address": " ".join(p for p in (case.street, case.house) if p)}


def answer_problem(session: Session, actor: Actor, problem: Problem, text: str) -> Answer:
    """One answer for a whole problem: every open case is answered, every message replied to."""
    actor.require("moderate")
    repo = CaseRepository(session)
    if repo.visible_problem(actor.scope, problem.id) is None:
        raise NotFound(f"problem {problem.id} not found")
    if actor.scope.narrowed:
        raise Forbidden("a problem's answer goes to all its cases, and you see only those of "
                        "your district or organization: answer them one by one")
    text = text.strip()
    if len(text) < MIN_ANSWER:
        raise InvalidInput(f"the answer is too short: write at least {MIN_ANSWER} characters")
    cases = [c for c in repo.cases_of_problem(actor.scope, problem.id)
             if c.status in OPEN_STATUSES or c.status == CaseStatus.answered]
    if not cases:
        raise InvalidInput(f"problem {problem.id} has no open cases to answer")
    executor = next((c.executor_id for c in cases if c.executor_id), None)
    answer = repo.add_answer(Answer(
        problem_id=problem.id, kind="final", text=text, status="approved",
        author_id=actor.user_id, organization_id=executor, approved_at=utcnow(),
        quality=_quality(session, cases[0], text, executor, cases[0].title),
        signature=signature(text)))
    now = utcnow()
    for case in cases:
        if case.status != CaseStatus.answered:
            previous = case.status
            case.status = CaseStatus.answered
            case.answered_at = now
            case.first_response_at = case.first_response_at or now
            case.paused_since = None
            service.record_event(session, actor, case, "bulk_answer", previous,
                                 answer=answer.id, problem=problem.id)
    queue_publication(session, answer.id)
    return answer


def queue_publication(session: Session, answer_id: int) -> None:
    """Publish the answer after commit: every answer of one unit of work in one job
    (idempotent; an answer rolled back with a SAVEPOINT is skipped by the job)."""
    from otklik.cases.tasks import publish_answers
    from otklik.queue import enqueue_item_after_commit

    enqueue_item_after_commit(session, publish_answers, answer_id)


def organization_of(session: Session, case: Case) -> Organization | None:
    """The case's executor, if any."""
    if case.executor_id is None:
        return None
    return OrganizationRepository(session).get(case.executor_id)
