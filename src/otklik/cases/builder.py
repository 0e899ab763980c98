"""Turning enriched messages into cases: new cases, follow-ups, feedback, repeats, copies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.answers.feedback import classify_feedback
from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.cases.repository import CaseRepository
from otklik.models.case import OPEN_STATUSES, Case, CaseMessage, CaseStatus
from otklik.models.message import Message, MessageEnrichment

#: A repeat message about the same thing reopens a closed case within this time.
REPEAT_WINDOW = timedelta(days=30)


def build_cases(session: Session, actor: Actor, message_ids: Sequence[int]) -> list[int]:
    """Make or update cases for enriched messages; returns the ids of cases touched.

    Idempotent: a message already in a case is skipped.
    """
    repo = CaseRepository(session)
    already = repo.message_ids_with_case(message_ids)
    enrichments = repo.enrichments(message_ids)
    messages = session.scalars(
        select(Message).where(Message.id.in_(list(message_ids)))
        .order_by(Message.created_at, Message.id)
    ).all()
    # the cases of the messages these answer or copy, read at once (not one query each) and
    # kept up to date as the batch places its own messages
    cases_of = repo.cases_of_messages(
        [m.parent_id for m in messages if m.parent_id]
        + [e.duplicate_of_id for e in enrichments.values() if e.duplicate_of_id is not None])
    touched: list[int] = []
    for message in messages:
        enrichment = enrichments.get(message.id)
        if message.id in already or enrichment is None or message.deleted_at is not None:
            continue
        case = _place(session, actor, message, enrichment, cases_of)
        if case is not None:
            cases_of[message.id] = case
            touched.append(case.id)
    return touched


def originals_without_case(session: Session, message_ids: Sequence[int]
                           ) -> dict[int, list[int]]:
    """The stored originals of these messages (the messages they are near-copies of) that
    are not in a case yet: original id -> its copies among these messages."""
    repo = CaseRepository(session)
    copies: dict[int, list[int]] = {}
    for message_id, row in sorted(repo.enrichments(message_ids).items()):
        if row.duplicate_of_id is not None:
            copies.setdefault(row.duplicate_of_id, []).append(message_id)
    built = repo.message_ids_with_case(list(copies))
    return {original: ids for original, ids in copies.items() if original not in built}


def originals_seen_late(session: Session, actor: Actor, late: Mapping[int, Sequence[int]]
                        ) -> list[int]:
    """Originals enriched after copies of them (another worker was faster; intake has made
    the copies name the original): the cases stay one per text.

    An original not yet in a case joins the open case of one of its copies (a copy joins its
    original's open case: the same case, whichever came first); when none of them has a case
    yet, its own case is built now, so that copies whose cases are still queued join it
    instead of opening a second one. Returns the cases built. Idempotent: an original
    already in a case is left.
    """
    repo = CaseRepository(session)
    built: list[int] = []
    for original_id, newer in late.items():
        message = session.get(Message, original_id)
        if message is None or message.deleted_at is not None \
                or repo.case_of_message(message.id) is not None:
            continue
        copies_case = next((case for case in map(repo.case_of_message, newer)
                            if case is not None and case.status in OPEN_STATUSES), None)
        if copies_case is not None:
            service.attach_message(session, actor, copies_case, message, "copy")
        else:
            built.extend(build_cases(session, actor, [message.id]))
    return built


def _place(session: Session, actor: Actor, message: Message,
           enrichment: MessageEnrichment, cases_of: Mapping[int, Case]) -> Case | None:
    parent_case = cases_of.get(message.parent_id) if message.parent_id else None
    if parent_case is not None and not _own_question(session, parent_case, message, enrichment):
        _follow_up(session, actor, parent_case, message)
        return parent_case
    if enrichment.duplicate_of_id is not None:
        copy_of = cases_of.get(enrichment.duplicate_of_id)
        if copy_of is not None and copy_of.status in OPEN_STATUSES:
            service.attach_message(session, actor, copy_of, message, "copy")
            return copy_of
    if not enrichment.relevant:
        return None
    repeat = _repeat_of(session, message, enrichment)
    if repeat is not None:
        service.attach_message(session, actor, repeat, message, "repeat")
        if repeat.status in (CaseStatus.answered, CaseStatus.closed):
            service.reopen(session, actor, repeat, "repeat message from the resident")
        return repeat
    return service.case_from_message(session, actor, message, enrichment)


def _author_of(session: Session, case: Case) -> str | None:
    primary = session.scalar(
        select(Message.author_key).join(CaseMessage, CaseMessage.message_id == Message.id)
        .where(CaseMessage.case_id == case.id, CaseMessage.is_primary.is_(True))
    )
    return primary


def _own_question(session: Session, case: Case, message: Message,
                  enrichment: MessageEnrichment) -> bool:
    """True when a comment in a case's thread is another resident's own matter: relevant,
    by someone else, on another topic ("а когда отремонтируют путепровод?" under the
    governor's direct-line post). It then gets a case of its own; replies, feedback and
    "+1" on the same topic stay in the thread's case."""
    if not enrichment.relevant or not enrichment.topic or enrichment.topic == case.topic:
        return False
    if message.author_key is None:
        return False
    return message.author_key != _author_of(session, case)


def _follow_up(session: Session, actor: Actor, case: Case, message: Message) -> None:
    """A comment in the thread of a case: the resident's reply, feedback, or others' +1."""
    service.attach_message(session, actor, case, message, "thread")
    same_author = message.author_key is not None and message.author_key == _author_of(
        session, case)
    if not same_author:
        return
    if case.status == CaseStatus.clarification:
        service.resident_replied(session, actor, case)
        return
    if case.status in (CaseStatus.answered, CaseStatus.closed):
        feedback = classify_feedback(message.text)
        service.record_event(session, actor, case, "feedback", None, value=feedback.value,
                             message_id=message.id)
        if feedback.reopen:
            service.reopen(session, actor, case, f"resident: {message.text[:200]}")
        elif feedback.close and case.status == CaseStatus.answered:
            service.close(session, actor, case, reason="resident confirmed")


def _repeat_of(session: Session, message: Message, enrichment: MessageEnrichment
               ) -> Case | None:
    """The same resident's earlier case about the same topic and place, if recent."""
    if not message.author_key or not enrichment.topic:
        return None
    query = (
        select(Case).join(CaseMessage, CaseMessage.case_id == Case.id)
        .join(Message, Message.id == CaseMessage.message_id)
        .where(Message.author_key == message.author_key, Message.source == message.source,
               Case.topic == enrichment.topic,
               Case.received_at >= message.created_at - REPEAT_WINDOW,
               Case.status != CaseStatus.rejected, Case.merged_into_id.is_(None))
        .order_by(Case.received_at.desc()).limit(1)
    )
    if enrichment.municipality_id is not None:
        query = query.where(Case.municipality_id == enrichment.municipality_id)
    return session.scalar(query)
