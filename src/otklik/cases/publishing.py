"""Publishing approved answers through the channel each message came from.

One publication row per (answer, message) makes publishing idempotent: a retry or a second
run publishes only what is not published yet. Messages from a source without a configured
connector (a file import, the demo) are recorded as ``no_channel`` — visible to operators,
never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime

from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.cases.repository import CaseRepository
from otklik.channels.connectors.base import Reply
from otklik.channels.replying import ReplySummary, reply_under
from otklik.db.base import simulated_now, utcnow
from otklik.errors import NotFound
from otklik.models.case import Answer, Publication
from otklik.models.message import Message


def targets(session: Session, answer: Answer) -> list[Message]:
    """The messages an answer replies to: its case's, or every case's of its problem."""
    repo = CaseRepository(session)
    if answer.case_id is not None:
        return _replied(answer, repo.messages(answer.case_id))
    if answer.problem_id is not None:
        out: list[Message] = []
        for case in repo.cases_of_problem(Scope.system(), answer.problem_id):
            out.extend(repo.messages(case.id))
        return out
    return []


def _replied(answer: Answer, messages: Sequence[Message]) -> list[Message]:
    """Which of its case's messages (oldest first) a case's answer replies to: a final
    answer every one, an interim or a question the first messages of their threads."""
    primary = [m for m in messages if m.parent_id is None] or list(messages[:1])
    return list(primary if answer.kind != "final" else messages)


def _recipient(message: Message) -> str | None:
    """Who gets the answer where it cannot go in place: the e-mail sender, the OK author."""
    if message.source == "email":
        return (message.raw or {}).get("from")
    if message.source == "ok":
        return message.author_id
    return None


def publish(session: Session, answer_id: int) -> ReplySummary:
    """Publish an answer under each of its messages that has not got it yet."""
    if CaseRepository(session).answer(answer_id) is None:
        raise NotFound(f"answer {answer_id} not found")
    return publish_many(session, [answer_id])


def publish_many(session: Session, answer_ids: Sequence[int],
                 at: Mapping[int, datetime] | None = None) -> ReplySummary:
    """Publish these answers (those that exist) under each of their messages that has not
    got them yet. The answers, the messages of their cases and their publication rows are
    read in a query each, the missing rows inserted together before anything is sent (a
    second worker publishing the same answer waits on them, then finds them published).

    A message that came through no connector (a file import, the demo) has no channel: its
    row is inserted as ``no_channel`` at once (what :func:`reply_under` would decide, without
    an UPDATE of each row after the INSERT), and the answers published are marked in one
    UPDATE.

    ``at``: the moment each answer (by id) is published at, as if its own job ran then (the
    demo replays months of work: its answers go out together, each at its moment, in the
    order of their moments); an answer not in it is published now."""
    repo = CaseRepository(session)
    answers = repo.answers_by_id(answer_ids)
    if at:
        answers.sort(key=lambda a: (_moment(at, a), a.id))
    of_cases = repo.messages_of_cases([a.case_id for a in answers if a.case_id is not None])
    rows = repo.publications_of([a.id for a in answers])
    summary = ReplySummary()
    plan: list[tuple[Answer, list[tuple[Message, Publication]]]] = []
    new: list[Publication] = []
    for answer in answers:
        pairs = []
        messages = (_replied(answer, of_cases.get(answer.case_id, []))
                    if answer.case_id is not None else targets(session, answer))
        for message in messages:
            row = rows.get((answer.id, message.id))
            if row is None:
                no_channel = message.connector_id is None
                row = rows[(answer.id, message.id)] = Publication(
                    answer_id=answer.id, message_id=message.id, channel=message.source,
                    status="no_channel" if no_channel else "pending", attempts=0,
                    published_at=_moment(at, answer) if no_channel else None)
                new.append(row)
                if no_channel:
                    summary.count("no_channel")
                    continue
            pairs.append((message, row))
        plan.append((answer, pairs))
    repo.add_publications(new)
    session.flush()
    done: list[tuple[Answer, datetime]] = []
    for answer, pairs in plan:
        failed = summary.failed
        moment = at.get(answer.id) if at else None
        with simulated_now(moment) if moment is not None else nullcontext():
            for message, row in pairs:
                if row.status in ("published", "no_channel"):
                    summary.already += 1
                    continue
                _publish_one(session, answer, message, row, summary)
            if summary.failed == failed and answer.published_at is None:
                done.append((answer, utcnow()))
    if at:
        repo.mark_published_each(done)
    else:  # one moment: now
        repo.mark_published([answer for answer, _ in done], utcnow())
    return summary


def _moment(at: Mapping[int, datetime] | None, answer: Answer) -> datetime:
    moment = at.get(answer.id) if at else None
    return moment if moment is not None else utcnow()


def _publish_one(session: Session, answer: Answer, message: Message, row: Publication,
                 summary: ReplySummary) -> None:
    outcome = reply_under(session, message, row, Reply(
        target_source_id=message.source_id, text=answer.text,
        target_parent_source_id=message.parent_source_id,
        recipient=_recipient(message),
        idempotency_key=f"answer-{answer.id}-message-{message.id}",
    ), what=f"publishing answer {answer.id} to message {message.id}")
    summary.count(outcome)
