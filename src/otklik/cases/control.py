"""Cases other domains open and notices they send through the cases' machinery.

A case на контроле (kind ``promise`` or ``control``) holds a task that came from no message
of its own: a promise made on the governor's direct line, a question left unanswered on
air. It is routed like any case, its deadline is the one given (a promise's date on the
production calendar) or the policy's, and escalation, extensions and the executor's
cabinet treat it like every other case.

A notice (kind ``notice``) is a message to a resident about their matter (a proposal's new
status): it waits on moderation and, once an operator other than its author approves it,
is published under the resident's message through the channel they wrote in, once
(:mod:`otklik.cases.publishing`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.cases import deadlines, routing, service
from otklik.cases.answers import queue_publication
from otklik.cases.repository import CaseRepository
from otklik.db import appends
from otklik.db.appends import appending
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.models.case import Answer, Case, CaseStatus
from otklik.models.message import Message, MessageEnrichment
from otklik.organizations.repository import OrganizationRepository
from otklik.sla.calendar import working_days as work_days

#: Kinds of the cases other domains open (the queue filters and shows them by kind).
CONTROL_KINDS = ("promise", "control")
MIN_NOTICE = 20


def open_control_case(session: Session, actor: Actor, *, region_code: str, title: str,
                      kind: str, received_at: datetime, topic: str | None = None,
                      municipality_id: int | None = None, settlement_id: int | None = None,
                      executor_id: int | None = None, due: datetime | None = None,
                      urgency: str = "normal", **details: object) -> Case:
    """Open a case на контроле and route it: to ``executor_id``, else by the routing rules,
    else to triage. ``due`` replaces the policy's resolution deadline (kept through pauses
    like an approved extension)."""
    if kind not in CONTROL_KINDS:
        raise InvalidInput(f"kind must be one of: {', '.join(CONTROL_KINDS)}")
    now = utcnow()
    case = CaseRepository(session).add(Case(
        region_code=region_code, status=CaseStatus.new, title=title[:300], topic=topic,
        kind=kind, urgency=urgency, source="control", municipality_id=municipality_id,
        settlement_id=settlement_id, received_at=received_at, created_at=now, updated_at=now,
    ))
    service.record_event(session, actor, case, "created", None, **details)
    if executor_id is None:
        suggestion = routing.suggest(session, case)
        case.routing = suggestion.as_dict()
        executor_id = suggestion.executor_id if suggestion.from_rule else None
    if executor_id is None:
        service.triage(session, actor, case)
        if due is not None:
            deadlines.extend(case, due)
        return case
    service.route(session, actor, case, executor_id, reason=f"{kind}")
    if due is not None:
        deadlines.extend(case, due)
    return case


def deadline_on(session: Session, region_code: str, organization_id: int | None, *,
                day: date | None = None, working_days: int | None = None,
                start: datetime | None = None) -> datetime:
    """A deadline on the region's production calendar in the organization's working hours:
    ``working_days`` of its working time after ``start``, or the close of the last working
    day on or before ``day`` (a promise "by 31 December" is due before the holidays)."""
    organization = (OrganizationRepository(session).get(organization_id)
                    if organization_id is not None else None)
    clock = deadlines.clock_for(session, Case(region_code=region_code), organization)
    if working_days is not None:
        if working_days < 1:
            raise InvalidInput("a deadline is at least one working day away")
        return clock.add(start or utcnow(), work_days(working_days))
    if day is None:
        raise InvalidInput("give the deadline as a date or as a number of working days")
    for _ in range(400):
        intervals = clock.local_intervals(day)
        if intervals and clock.calendar.is_working_day(day):
            close = max(end for _, end in intervals)
            local = datetime.combine(day, time.min, tzinfo=ZoneInfo(clock.tz))
            return (local + timedelta(minutes=close)).astimezone(UTC)
        day -= timedelta(days=1)
    raise InvalidInput("no working day in the year before the deadline: check the calendar")


def lock_building(session: Session, message_ids: Sequence[int]) -> None:
    """Take the case builders' turn for these messages' regions until the transaction ends
    (:meth:`CaseRepository.lock_building`): a job that may open cases for several messages
    takes all its regions at once, before the first, as the case builder does, so the two
    never wait for each other in a circle."""
    CaseRepository(session).lock_building(message_ids)


def case_for_message(session: Session, actor: Actor, message: Message) -> Case:
    """The case of a message; one is opened (and routed) when it has none yet
    (:func:`cases_for_messages` for one message)."""
    return cases_for_messages(session, actor, [message])[message.id]


def cases_for_messages(session: Session, actor: Actor, messages: Sequence[Message],
                       enrichments: Mapping[int, MessageEnrichment] | None = None
                       ) -> dict[int, Case]:
    """The case of each of these messages; those with none yet get one, opened and routed
    (``enrichments``: theirs, when the caller has read them). Waits while a case builder
    works in the messages' regions (it may be placing these very messages: both would open
    a case, and one would fail), all of them taken at once; their cases are read in one
    query, and the new ones go to the database together, as a case builder's batch does
    (:func:`otklik.cases.builder.build_cases`), not one flush each."""
    repo = CaseRepository(session)
    ids = [m.id for m in messages]
    repo.lock_building(ids)
    cases = repo.cases_of_messages(ids)
    missing = [m for m in messages if m.id not in cases]
    if not missing:
        return cases
    if enrichments is None or any(m.id not in enrichments for m in missing):
        enrichments = repo.enrichments([m.id for m in missing])
    unready = [m.id for m in missing if m.id not in enrichments]
    if unready:
        raise InvalidInput(f"message {unready[0]} is not enriched yet: try again in a minute")
    repo.reserve(Case, len(missing), (Answer, len(missing)))  # ids ahead, one query
    repo.read_regions([enrichments[m.id].region_code or m.region_code for m in missing])
    with appending(session, copy=True):
        for message in missing:
            cases[message.id] = service.case_from_message(session, actor, message,
                                                          enrichments[message.id])
    if appends.active(session):  # inside a caller's batch, which keeps its rows: the cases
        session.flush()  # go in now, for the rows the caller adds next that refer to them
        appends.write(session)
    return cases


def draft_notice(session: Session, actor: Actor, case: Case, text: str, **details: object
                 ) -> Answer:
    """A notice to the resident of a case, waiting on moderation."""
    text = " ".join(text.split())
    if len(text) < MIN_NOTICE:
        raise InvalidInput(f"the notice is too short: write at least {MIN_NOTICE} characters")
    answer = CaseRepository(session).add_answer(Answer(
        case_id=case.id, kind="notice", text=text, status="on_moderation",
        author_id=actor.user_id, organization_id=case.executor_id, quality={}))
    service.record_event(session, actor, case, "notice_drafted", None, answer=answer.id,
                         **details)
    return answer


def pending_notices(session: Session, case_ids: list[int]) -> list[Answer]:
    """Notices of these cases waiting on moderation, oldest first."""
    repo = CaseRepository(session)
    return [a for case_id in case_ids for a in repo.answers(case_id)
            if a.kind == "notice" and a.status == "on_moderation"]


def approve_notice(session: Session, actor: Actor, answer_id: int) -> Answer:
    """An operator approves a notice (never their own): it is published after commit."""
    actor.require("moderate")
    answer = CaseRepository(session).answer(answer_id)
    if answer is None or answer.kind != "notice" or answer.case_id is None:
        raise NotFound(f"notice {answer_id} not found")
    case = service.get_case(session, actor, answer.case_id)
    if answer.status != "on_moderation":
        raise Conflict(f"notice {answer_id} is already {answer.status}")
    if answer.author_id is not None and answer.author_id == actor.user_id:
        raise Forbidden("you cannot approve your own notice: another operator must moderate it")
    answer.status, answer.moderator_id, answer.approved_at = "approved", actor.user_id, utcnow()
    service.record_event(session, actor, case, "notice_approved", None, answer=answer.id)
    queue_publication(session, answer.id)
    return answer
