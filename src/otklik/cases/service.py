"""Case rules: making cases from messages, moving them through their statuses, corrections.

Every change is recorded in the case's history and the audit log; concurrent edits are
detected by the case's version (optimistic locking). Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from otklik import events
from otklik.analytics.tasks import rollups_changed
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases import deadlines, routing
from otklik.cases.reference import OrganizationRow
from otklik.cases.repository import CaseRepository
from otklik.cases.workflow import REJECT_REASONS, check
from otklik.db import appends
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.events import (
    CaseAnswered,
    CaseClosed,
    CaseCreated,
    CaseDeadlineNear,
    CaseOverdue,
    CaseRouted,
)
from otklik.models.account import User
from otklik.models.case import Case, CaseEvent, CaseStatus, Extension, Label, Problem
from otklik.models.message import Message, MessageEnrichment

#: Fields an operator may correct; each correction becomes a training label.
EDITABLE = ("topic", "subtopic", "urgency", "kind", "municipality_id", "settlement_id",
            "street", "house", "title")


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    """A case the actor may see; outside their scope it does not exist."""
    actor.require("read")
    case = CaseRepository(session).visible(actor.scope, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


def get_problem(session: Session, actor: Actor, problem_id: int) -> Problem:
    """A problem the actor may see; outside their scope it does not exist."""
    actor.require("read")
    problem = CaseRepository(session).visible_problem(actor.scope, problem_id)
    if problem is None:
        raise NotFound(f"problem {problem_id} not found")
    return problem


def _expect_version(case: Case, version: int | None) -> None:
    if version is not None and version != case.version:
        raise Conflict(
            f"case {case.id} was changed by someone else (version {case.version}, you had "
            f"{version}): reload it and apply your change again"
        )


def move(session: Session, actor: Actor, case: Case, action: str, *,
         version: int | None = None, **details: Any) -> Case:
    """Apply a workflow action: check it, change the status, record history and audit."""
    _expect_version(case, version)  # a stale client first learns that the case changed
    transition = check(action, case.status)
    if transition.permission == "system":
        if actor.user_id is not None:
            raise Forbidden(f"{action.replace('_', ' ')} happens automatically")
    else:
        actor.require(transition.permission)
    previous = case.status
    if transition.target is not None:
        case.status = transition.target
    case.updated_at = utcnow()
    record_event(session, actor, case, action, previous, **details)
    return case


def record_event(session: Session, actor: Actor, case: Case, kind: str,
                 previous: CaseStatus | None = None, **details: Any) -> None:
    """Write a history entry and an audit entry for a case."""
    safe = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in details.items()}
    row = {"case_id": case.id, "at": utcnow(), "actor_id": actor.user_id, "actor": actor.label,
           "kind": kind, "from_status": previous.value if previous else None,
           "to_status": case.status.value, "details": safe}
    if not appends.append(session, CaseEvent, row):  # a batch's history goes out together
        CaseRepository(session).add_event(CaseEvent(**row))
    audit.record(session, actor, f"case.{kind}", "case", case.id, region_code=case.region_code,
                 details=safe)
    rollups_changed(session, "cases")  # the analytics rollups refresh after the commit
    _announce(session, case, kind, previous, safe)


def _announce(session: Session, case: Case, kind: str, previous: CaseStatus | None,
              details: dict[str, Any]) -> None:
    """The steps other domains subscribe to, announced after the commit (otklik.events)."""
    if kind in ("created", "split_from"):
        events.announce(session, CaseCreated(case_id=case.id))
    if kind == "route" and isinstance(details.get("executor_id"), int):
        events.announce(session, CaseRouted(case_id=case.id, executor_id=details["executor_id"],
                                            reason=details.get("reason")))
    if case.status != previous and case.status == CaseStatus.answered:
        answer = details.get("answer")
        events.announce(session, CaseAnswered(
            case_id=case.id, answer_id=answer if isinstance(answer, int) else None))
    if case.status != previous and case.status == CaseStatus.closed:
        events.announce(session, CaseClosed(case_id=case.id, reason=kind))
    if kind == "escalate" and details.get("to") in ("curator", "head"):
        events.announce(session, CaseOverdue(case_id=case.id, level=int(details["level"])))
    if kind == "escalate" and details.get("to") == "executor":
        events.announce(session, CaseDeadlineNear(case_id=case.id))


# -- making cases from messages ------------------------------------------------------------------


def case_from_message(session: Session, actor: Actor, message: Message,
                      enrichment: MessageEnrichment) -> Case:
    """Open a case for a relevant message and route it (or send it to triage).

    In a batch (:func:`otklik.db.appends.appending`, ids reserved) the case is planned: built
    outside the session and appended whole once routed, its row written with the batch's
    history (no ORM object to flush, no UPDATE of a case inserted half-built). Nothing it
    asks of the database meanwhile needs its rows: reference rows come from the
    transaction's cache, and the learned routing reads the message it is given."""
    repo = CaseRepository(session)
    title = " ".join(message.text.split())[:140] or "(без текста)"
    now = utcnow()
    case, planned = repo.plan({
        "region_code": enrichment.region_code or message.region_code,
        "status": CaseStatus.new,
        "title": title,
        "topic": enrichment.topic,
        "subtopic": enrichment.subtopic,
        "kind": enrichment.kind,
        "urgency": enrichment.urgency or "normal",
        "sentiment": enrichment.sentiment,
        "source": message.source,
        "municipality_id": enrichment.municipality_id,
        "settlement_id": enrichment.settlement_id,
        "street": enrichment.street,
        "house": enrichment.house,
        "received_at": message.created_at,
        "created_at": now,
        "updated_at": now,
    })
    # a planned case's rows are not written before it: no autoflush may write them
    with session.no_autoflush if planned else nullcontext():
        repo.add_message(case.id, message.id, primary=True)
        record_event(session, actor, case, "created", None, message_id=message.id)
        suggestion = routing.suggest(session, case, [message] if planned else None)
        case.routing = suggestion.as_dict()
        if suggestion.executor_id is not None and suggestion.from_rule:
            route(session, actor, case, suggestion.executor_id, reason="rule")
        else:
            move(session, actor, case, "triage")
    if planned:
        repo.add_planned(case)
    return case


def attach_message(session: Session, actor: Actor, case: Case, message: Message,
                   reason: str) -> None:
    """Add a follow-up message (a comment, a repeat, a copy) to an existing case."""
    CaseRepository(session).add_message(case.id, message.id)
    record_event(session, actor, case, "message_added", None, message_id=message.id,
                 reason=reason)


# -- routing and triage --------------------------------------------------------------------------


def check_routable(session: Session, case: Case, executor_id: int) -> OrganizationRow:
    """The organization the case may be sent to; :class:`InvalidInput` says why not."""
    organization = CaseRepository(session).organization(executor_id, case.region_code)
    if organization is None or not organization.is_active:
        raise InvalidInput(f"organization {executor_id} does not exist")
    if organization.region_code != case.region_code:
        raise InvalidInput(
            f"«{organization.name}» works in another region: route to an organization of "
            f"region {case.region_code}"
        )
    if not routing.covers_case(session, organization.id, case):
        raise InvalidInput(
            f"«{organization.name}» does not cover the case's territory: choose an "
            "organization of that municipality or a regional body"
        )
    return organization


def route(session: Session, actor: Actor, case: Case, executor_id: int, *,
          version: int | None = None, reason: str = "operator") -> Case:
    """Send a case to an executor covering its territory; deadlines start on first routing."""
    organization = check_routable(session, case, executor_id)
    previous_executor = case.executor_id
    move(session, actor, case, "route", version=version, executor_id=executor_id,
         executor=organization.name, reason=reason)
    case.executor_id = executor_id
    now = utcnow()
    if case.routed_at is None:
        case.routed_at = now
        policy = deadlines.assign(session, case, start=case.received_at,
                                  organization=organization)
        if deadlines.wants_interim_answer(session, case, policy):
            from otklik.cases import answers

            answers.interim_answer(session, actor, case, organization)
    elif previous_executor != executor_id:
        case.escalation_level = 0
        _release_assignee(session, case, previous_executor)
    return case


def _release_assignee(session: Session, case: Case, organization_id: int | None) -> None:
    """A case leaving an organization leaves its staff member too (center staff stay)."""
    if case.assignee_id is None or organization_id is None:
        return
    assignee = session.get(User, case.assignee_id)
    if assignee is not None and assignee.organization_id == organization_id:
        case.assignee_id = None


def triage(session: Session, actor: Actor, case: Case, version: int | None = None) -> Case:
    """Put a case in the curator's triage queue."""
    return move(session, actor, case, "triage", version=version)


def accept(session: Session, actor: Actor, case: Case, version: int | None = None) -> Case:
    """The executor takes the case into work."""
    _own(actor, case)
    move(session, actor, case, "accept", version=version)
    if case.first_response_at is None:
        case.first_response_at = utcnow()
    return case


def handback(session: Session, actor: Actor, case: Case, reason: str,
             version: int | None = None) -> Case:
    """An executor hands back a wrongly routed case with a reason."""
    _own(actor, case)
    if len(reason.strip()) < 5:
        raise InvalidInput("say why the case is not yours (at least a few words)")
    executor = case.executor_id
    move(session, actor, case, "handback", version=version, reason=reason,
         from_executor=executor)
    _release_assignee(session, case, executor)
    case.executor_id = None
    case.handback_count += 1
    return case


def reject(session: Session, actor: Actor, case: Case, reason: str,
           version: int | None = None) -> Case:
    """Reject a case (spam, not for the authorities, a duplicate) with the reason."""
    if reason not in REJECT_REASONS:
        raise InvalidInput(f"reason must be one of: {', '.join(REJECT_REASONS)}")
    move(session, actor, case, "reject", version=version, reason=reason)
    case.reject_reason = reason
    case.closed_at = utcnow()
    return case


def _own(actor: Actor, case: Case) -> None:
    if actor.scope.organization_id is not None and case.executor_id != actor.scope.organization_id:
        raise NotFound(f"case {case.id} not found")


# -- clarification -------------------------------------------------------------------------------


def request_clarification(session: Session, actor: Actor, case: Case, question: str,
                          version: int | None = None) -> Case:
    """Ask the resident for details: the clock stops until they answer or the window ends."""
    _own(actor, case)
    if len(question.strip()) < 10:
        raise InvalidInput("write the question for the resident (at least 10 characters)")
    move(session, actor, case, "request_clarification", version=version, question=question)
    now = utcnow()
    case.paused_since = now
    case.clarification_due = now + deadlines.clarification_window(session, case)
    from otklik.cases import answers

    answers.clarification_request(session, actor, case, question)
    return case


def resident_replied(session: Session, actor: Actor, case: Case) -> Case:
    """The resident answered the clarification: the clock runs again, deadlines move."""
    move(session, actor, case, "resident_replied")
    _resume(session, case)
    return case


def _resume(session: Session, case: Case) -> None:
    if case.paused_since is None:
        return
    now = utcnow()
    case.pauses = [*(case.pauses or []), [case.paused_since.isoformat(), now.isoformat()]]
    case.paused_since = None
    case.clarification_due = None
    deadlines.after_pause(session, case)


def expire_clarification(session: Session, actor: Actor, case: Case) -> Case:
    """Close a case whose resident did not answer in time."""
    move(session, actor, case, "clarification_expired")
    case.paused_since = None
    case.closed_at = utcnow()
    return case


# -- closing and reopening ------------------------------------------------------------------------


def close(session: Session, actor: Actor, case: Case, version: int | None = None,
          reason: str = "operator") -> Case:
    """Close an answered case."""
    move(session, actor, case, "close", version=version, reason=reason)
    case.closed_at = utcnow()
    return case


def reopen(session: Session, actor: Actor, case: Case, reason: str,
           version: int | None = None) -> Case:
    """Reopen an answered or closed case (negative feedback, a repeat message, an operator)."""
    move(session, actor, case, "reopen", version=version, reason=reason)
    case.reopen_count += 1
    case.closed_at = None
    case.answered_at = None
    case.escalation_level = 0
    deadlines.assign(session, case, start=utcnow(), reopened=True)
    return case


# -- assignment --------------------------------------------------------------------------------


def assignable(session: Session, actor: Actor, case: Case) -> list[User]:
    """The people the actor may give this case to (an executor: only their colleagues)."""
    users = list(CaseRepository(session).assignable_users(case))
    if actor.scope.organization_id is not None:
        users = [u for u in users if u.organization_id == actor.scope.organization_id]
    return users


def assign(session: Session, actor: Actor, case: Case, assignee_id: int | None, *,
           version: int | None = None) -> Case:
    """Give an open case to a person of its executor organization or of the center (None
    takes it back); recorded in the history and the audit log."""
    _expect_version(case, version)
    check("assign", case.status)
    if not actor.scope.can("triage"):
        actor.require("answer")
        _own(actor, case)
    name = None
    if assignee_id is not None:
        user = next((u for u in assignable(session, actor, case) if u.id == assignee_id), None)
        if user is None:
            raise InvalidInput(
                f"user {assignee_id} cannot take this case: assign someone of the executor "
                "organization or an operator or curator of the case's region")
        name = user.full_name or user.username
    if case.assignee_id == assignee_id:
        return case
    previous = case.assignee_id
    case.assignee_id = assignee_id
    case.updated_at = utcnow()
    record_event(session, actor, case, "assign", None, assignee=assignee_id,
                 assignee_name=name, previous_assignee=previous)
    return case


# -- corrections, merge and split -----------------------------------------------------------------


def edit(session: Session, actor: Actor, case: Case, changes: dict[str, Any],
         version: int | None = None) -> Case:
    """Correct what the machine decided; each correction is stored as a training label."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"these fields cannot be edited: {', '.join(unknown)}")
    changed = {k: v for k, v in changes.items() if getattr(case, k) != v}
    if not changed:
        return case
    move(session, actor, case, "edit", version=version,
         changes={k: [getattr(case, k), v] for k, v in changed.items()})
    primary = next(iter(CaseRepository(session).messages(case.id)), None)
    for name, value in changed.items():
        session.add(Label(message_id=primary.id if primary else None, case_id=case.id,
                          field=name, value="" if value is None else str(value),
                          previous=None if getattr(case, name) is None
                          else str(getattr(case, name)),
                          author_id=actor.user_id))
        setattr(case, name, value)
    return case


def merge(session: Session, actor: Actor, target: Case, others: Sequence[Case]) -> Case:
    """Merge cases into one: their messages move over, they close as merged."""
    actor.require("triage")
    repo = CaseRepository(session)
    for other in others:
        if other.id == target.id:
            raise InvalidInput("a case cannot be merged into itself")
        if other.region_code != target.region_code:
            raise InvalidInput(f"case {other.id} is in another region")
        moved = repo.move_messages(other.id, target.id)
        move(session, actor, other, "merge", into=target.id, messages=moved)
        other.merged_into_id = target.id
        other.closed_at = utcnow()
        record_event(session, actor, target, "merged_in", None, merged_case=other.id,
                     messages=moved)
    return target


def split(session: Session, actor: Actor, case: Case, message_ids: Sequence[int]) -> Case:
    """Move some messages of a case into a new case of their own."""
    actor.require("triage")
    repo = CaseRepository(session)
    own = {m.id for m in repo.messages(case.id)}
    if not message_ids or not set(message_ids) <= own:
        raise InvalidInput("choose messages that belong to this case")
    if set(message_ids) == own:
        raise InvalidInput("leave at least one message in the original case")
    first = min(message_ids)
    message = session.get(Message, first)
    assert message is not None
    new = repo.add(Case(
        region_code=case.region_code, status=CaseStatus.triage, title=case.title,
        topic=case.topic, subtopic=case.subtopic, kind=case.kind, urgency=case.urgency,
        source=message.source, municipality_id=case.municipality_id,
        settlement_id=case.settlement_id, street=case.street, house=case.house,
        received_at=message.created_at, created_at=utcnow(), updated_at=utcnow(),
    ))
    repo.move_messages(case.id, new.id, message_ids)
    record_event(session, actor, new, "split_from", None, from_case=case.id,
                 messages=list(message_ids))
    record_event(session, actor, case, "split", None, into=new.id, messages=list(message_ids))
    return new


# -- extensions and escalation -------------------------------------------------------------------


def request_extension(session: Session, actor: Actor, case: Case, until: datetime,
                      reason: str) -> Extension:
    """An executor asks for more time; a curator decides."""
    _own(actor, case)
    if until <= (case.resolution_due or utcnow()):
        raise InvalidInput("the new deadline must be later than the current one")
    if len(reason.strip()) < 10:
        raise InvalidInput("explain why more time is needed (at least 10 characters)")
    move(session, actor, case, "request_extension", until=until, reason=reason)
    return CaseRepository(session).add_extension(Extension(
        case_id=case.id, requested_by=actor.user_id, reason=reason, requested_until=until))


def decide_extension(session: Session, actor: Actor, extension_id: int, approve: bool) -> Case:
    """A curator approves (the deadline moves) or rejects an extension request."""
    repo = CaseRepository(session)
    extension = repo.extension(extension_id)
    if extension is None:
        raise NotFound(f"extension request {extension_id} not found")
    case = get_case(session, actor, extension.case_id)
    if extension.status != "pending":
        raise Conflict(f"extension request {extension_id} was already {extension.status}")
    if extension.requested_by is not None and extension.requested_by == actor.user_id:
        raise Forbidden("you cannot decide your own extension request")
    move(session, actor, case, "decide_extension", extension=extension.id, approved=approve,
         until=extension.requested_until)
    extension.status = "approved" if approve else "rejected"
    extension.decided_by = actor.user_id
    extension.decided_at = utcnow()
    if approve:
        deadlines.extend(case, extension.requested_until)
        case.escalation_level = 0
    return case


def escalate_due(session: Session, actor: Actor, now: datetime | None = None) -> list[int]:
    """Escalate cases whose deadline nears (the executor) or passed (curator, then head)."""
    now = now or utcnow()
    escalated: list[int] = []
    repo = CaseRepository(session)
    for case in repo.due_for_escalation(now):
        level = case.escalation_level
        overdue = case.resolution_due is not None and case.resolution_due <= now
        if level == 0 and not overdue:
            target, new_level = "executor", 1
        elif level <= 1 and overdue:
            target, new_level = "curator", 2
        elif level == 2 and case.resolution_due and now - case.resolution_due >= timedelta(
                days=1):
            target, new_level = "head", 3
        else:
            continue
        move(session, actor, case, "escalate", to=target, level=new_level)
        case.escalation_level = new_level
        escalated.append(case.id)
    for case in repo.clarifications_expired(now):
        expire_clarification(session, actor, case)
        escalated.append(case.id)
    return escalated
