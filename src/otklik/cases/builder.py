"""Turning enriched messages into cases: new cases, follow-ups, feedback, repeats, copies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import select, union
from sqlalchemy.orm import Session, defer

from otklik.answers.feedback import classify_feedback
from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.cases.repository import CaseRepository
from otklik.db.appends import appending
from otklik.db.lists import among
from otklik.models.case import OPEN_STATUSES, Answer, Case, CaseMessage, CaseStatus
from otklik.models.message import Message, MessageEnrichment

#: A repeat message about the same thing reopens a closed case within this time.
REPEAT_WINDOW = timedelta(days=30)
#: What placing a message never reads of it (its JSON: the source's whole record, its
#: attachments and reach), left in the database (read on access).
_UNREAD = (defer(Message.raw), defer(Message.attachments), defer(Message.reach))


def build_cases(session: Session, actor: Actor, message_ids: Sequence[int],
                enrichments: Mapping[int, MessageEnrichment] | None = None,
                first: Sequence[int] = ()) -> list[int]:
    """Make or update cases for enriched messages; returns the ids of cases touched
    (``enrichments``: theirs, when the caller has read them already; ``first``: those of
    them placed before the others, each group in the order written — the originals seen
    late, see :func:`originals_seen_late`).

    Idempotent: a message already in a case is skipped. What the placement of each message
    asks of the database (the cases of the messages it answers or copies, its author's
    recent cases, a thread's author) is read once for the batch and kept up to date as the
    batch places its messages; the new cases and their answers get reserved ids, so the
    batch goes to the database in a few INSERTs, not a flush per case.
    """
    repo = CaseRepository(session)
    already = repo.message_ids_with_case(message_ids)
    if enrichments is None:
        enrichments = repo.enrichments(message_ids)
    elif unread := [i for i in first if i not in enrichments]:
        enrichments = {**enrichments, **repo.enrichments(unread)}
    messages = [m for m in session.scalars(
        select(Message).where(among(session, Message.id, list(message_ids))).options(*_UNREAD)
        .order_by(Message.created_at, Message.id)
    ).all() if m.id not in already and m.id in enrichments and m.deleted_at is None]
    if first:
        before = set(first)
        messages.sort(key=lambda m: m.id not in before)  # stable: written order in each
    batch = _Batch(session, messages, enrichments)
    new = [m for m in messages if enrichments[m.id].relevant
           and m.parent_id not in batch.cases_of
           and enrichments[m.id].duplicate_of_id not in batch.cases_of]
    repo.reserve(Case, len(new), (Answer, len(new)))  # one query for both
    # what routing and deadlines read of the batch's regions: one query each, not per region
    repo.read_regions([enrichments[m.id].region_code or m.region_code for m in messages])
    touched: list[int] = []
    left: list[Message] = []
    # the batch's rows go out together, on PostgreSQL by COPY
    with appending(session, copy=True):
        for message in messages:
            if not _put(session, actor, message, enrichments[message.id], batch, touched):
                left.append(message)
        # a comment or a copy placed before its post or original (written earlier, stored
        # later) had nothing to join then; the rest of the batch may have opened it since
        for message in left:
            if (message.parent_id in batch.cases_of
                    or enrichments[message.id].duplicate_of_id in batch.cases_of):
                _put(session, actor, message, enrichments[message.id], batch, touched)
    touched += _take_waiting(session, actor, batch, [m.id for m in messages
                                                     if m.id in batch.cases_of])
    return touched


def _take_waiting(session: Session, actor: Actor, batch: _Batch, placed: list[int]
                  ) -> list[int]:
    """The comments under the messages the batch placed in a case, and the copies of them,
    that were placed before their thread or original had a case (the post's batch came
    later, or ran on another worker) and so are in no case: they join it now, and then the
    comments and copies under them. Without this a resident's reply or "+1" stayed outside
    its thread's case, and a re-run of the batch stored what the first run did not.
    Returns the cases touched."""
    touched: list[int] = []
    handled = set(placed)
    while placed:
        waiting = [(m, e) for m, e in _waiting(session, placed) if m.id not in handled]
        if not waiting:
            break
        handled.update(m.id for m, _ in waiting)
        with appending(session, copy=True):
            placed = [m.id for m, enrichment in waiting
                      if _put(session, actor, m, enrichment, batch, touched)]
    return touched


def _put(session: Session, actor: Actor, message: Message, enrichment: MessageEnrichment,
         batch: _Batch, touched: list[int]) -> bool:
    """Place one message of the batch, noting where it went; False when in no case."""
    case = _place(session, actor, message, enrichment, batch)
    if case is None:
        return False
    batch.placed(message, case)
    touched.append(case.id)
    return True


def _waiting(session: Session, ids: Sequence[int]
             ) -> list[tuple[Message, MessageEnrichment]]:
    """The enriched, not relevant messages in no case that answer or copy these, with their
    enrichments (read in the same query: a second one per round was a tenth of the job's
    statements)."""
    near = union(select(Message.id).where(among(session, Message.parent_id, ids)),
                 select(MessageEnrichment.message_id)
                 .where(among(session, MessageEnrichment.duplicate_of_id, ids))).subquery()
    return [(message, enrichment) for message, enrichment in session.execute(
        select(Message, MessageEnrichment)
        .join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
        .where(Message.id.in_(select(near.c[0])), Message.enrich_status == "done",
               Message.deleted_at.is_(None), MessageEnrichment.relevant.is_(False),
               ~select(CaseMessage.message_id).where(CaseMessage.message_id == Message.id)
               .exists())
        .options(*_UNREAD, defer(MessageEnrichment.result))
        .order_by(Message.created_at, Message.id))]


class _Batch:
    """What placing a batch's messages reads, read at once and kept up to date: the cases of
    the messages they answer or copy, the recent cases of their authors (repeats) and the
    authors of those cases' first messages."""

    def __init__(self, session: Session, messages: Sequence[Message],
                 enrichments: Mapping[int, MessageEnrichment]) -> None:
        repo = CaseRepository(session)
        self.session = session
        self.cases_of: dict[int, Case] = repo.cases_of_messages(
            [m.parent_id for m in messages if m.parent_id]
            + [e.duplicate_of_id for m in messages
               if (e := enrichments[m.id]).duplicate_of_id is not None])
        self.authors = _primary_authors(session, {c.id for c in self.cases_of.values()})
        self.recent = _recent_cases(
            session, [m for m in messages if m.author_key and enrichments[m.id].topic],
            {enrichments[m.id].topic for m in messages})

    def placed(self, message: Message, case: Case) -> None:
        """The batch put ``message`` in ``case`` (a new one or an existing one)."""
        self.cases_of[message.id] = case
        if message.author_key:
            mine = self.recent.setdefault((message.author_key, message.source), [])
            if case not in mine:
                mine.append(case)

    def created(self, message: Message, case: Case) -> None:
        """``message`` opened ``case``: its author is the case's author."""
        self.authors[case.id] = message.author_key

    def author_of(self, case: Case) -> str | None:
        """The author of the case's first message."""
        if case.id not in self.authors:
            self.authors.update(_primary_authors(self.session, {case.id}))
        return self.authors.get(case.id)

def originals_without_case(session: Session, message_ids: Sequence[int],
                           enrichments: Mapping[int, MessageEnrichment] | None = None
                           ) -> dict[int, list[int]]:
    """The stored originals of these messages (the messages they are near-copies of) that
    are not in a case yet: original id -> its copies among these messages (``enrichments``:
    theirs, when the caller has read them already)."""
    repo = CaseRepository(session)
    if enrichments is None:
        enrichments = repo.enrichments(message_ids)
    copies: dict[int, list[int]] = {}
    for message_id, row in sorted(enrichments.items()):
        if row.duplicate_of_id is not None:
            copies.setdefault(row.duplicate_of_id, []).append(message_id)
    built = repo.message_ids_with_case(list(copies))
    return {original: ids for original, ids in copies.items() if original not in built}


def originals_seen_late(session: Session, actor: Actor, late: Mapping[int, Sequence[int]],
                        then: Sequence[int] = (),
                        enrichments: Mapping[int, MessageEnrichment] | None = None
                        ) -> list[int]:
    """Originals enriched after copies of them (another worker was faster; intake has made
    the copies name the original): the cases stay one per text.

    An original not yet in a case joins the open case of one of its copies (a copy joins its
    original's open case: the same case, whichever came first); when none of them has a case
    yet, its own case is built now, so that copies whose cases are still queued join it
    instead of opening a second one (those originals are built together, in one batch).
    ``then``: the batch whose copies named these originals, built in the same pass after
    them (:func:`build_cases`; ``enrichments``: theirs, when read already): one batch's
    reads, reserved ids and rows for both, not a second batch for a few originals.
    Returns the cases built. Idempotent: an original already in a case is left.
    """
    built, alone = _join_late(session, actor, late) if late else ([], [])
    if alone or then:
        built.extend(build_cases(session, actor, [*alone, *then], enrichments, first=alone))
    return built


def _join_late(session: Session, actor: Actor, late: Mapping[int, Sequence[int]]
               ) -> tuple[list[int], list[int]]:
    """The originals seen late that a copy's open case takes join it, and then the messages
    waiting for them: returns the cases touched and the originals left alone (no such case)."""
    # the originals and their copies' cases, read at once and kept up to date
    cases_of = CaseRepository(session).cases_of_messages(
        [*late, *(i for newer in late.values() for i in newer)])
    originals = {m.id: m for m in session.scalars(
        select(Message).where(among(session, Message.id, sorted(late))).options(*_UNREAD))}
    alone: list[int] = []
    with appending(session, copy=True):
        _join_copies(session, actor, late, originals, cases_of, alone)
    joined = [i for i in late if i in originals and i in cases_of]  # (alone: in no case)
    if not joined:
        return [], alone
    # the originals' other copies and comments that wait for a case join too
    batch = _Batch(session, [], {})
    for original_id in joined:
        batch.placed(originals[original_id], cases_of[original_id])
    return _take_waiting(session, actor, batch, joined), alone


def _join_copies(session: Session, actor: Actor, late: Mapping[int, Sequence[int]],
                 originals: Mapping[int, Message], cases_of: dict[int, Case],
                 alone: list[int]) -> None:
    """Originals seen late join an open case of one of their copies; those with none are
    put in ``alone``."""
    for original_id, newer in late.items():
        message = originals.get(original_id)
        if message is None or message.deleted_at is not None or original_id in cases_of:
            continue
        copies_case = next((case for case in (cases_of.get(i) for i in newer)
                            if case is not None and case.status in OPEN_STATUSES), None)
        if copies_case is not None:
            service.attach_message(session, actor, copies_case, message, "copy")
            cases_of[original_id] = copies_case
        else:
            alone.append(original_id)


def _place(session: Session, actor: Actor, message: Message,
           enrichment: MessageEnrichment, batch: _Batch) -> Case | None:
    parent_case = batch.cases_of.get(message.parent_id) if message.parent_id else None
    if parent_case is not None and not _own_question(batch, parent_case, message, enrichment):
        _follow_up(session, actor, batch, parent_case, message)
        return parent_case
    if enrichment.duplicate_of_id is not None:
        copy_of = batch.cases_of.get(enrichment.duplicate_of_id)
        if copy_of is not None and copy_of.status in OPEN_STATUSES:
            service.attach_message(session, actor, copy_of, message, "copy")
            return copy_of
    if not enrichment.relevant:
        return None
    repeat = _repeat_of(batch, message, enrichment)
    if repeat is not None:
        service.attach_message(session, actor, repeat, message, "repeat")
        if repeat.status in (CaseStatus.answered, CaseStatus.closed):
            service.reopen(session, actor, repeat, "repeat message from the resident")
        return repeat
    case = service.case_from_message(session, actor, message, enrichment)
    batch.created(message, case)
    return case


def _primary_authors(session: Session, case_ids: set[int]) -> dict[int, str | None]:
    """The author of each case's primary message, in one query."""
    if not case_ids:
        return {}
    return {case_id: author for case_id, author in session.execute(
        select(CaseMessage.case_id, Message.author_key)
        .join(Message, CaseMessage.message_id == Message.id)
        .where(among(session, CaseMessage.case_id, sorted(case_ids)),
               CaseMessage.is_primary.is_(True)))}


def _recent_cases(session: Session, messages: Sequence[Message], topics: set[str | None]
                  ) -> dict[tuple[str, str], list[Case]]:
    """The cases of these messages' authors (by author and source) received within the
    repeat window of the earliest of them, not rejected and not merged away, in one query;
    :func:`_repeat_of` picks each message's own."""
    if not messages:
        return {}
    found: dict[tuple[str, str], list[Case]] = {}
    rows = session.execute(
        select(Message.author_key, Message.source, Case)
        .join(CaseMessage, CaseMessage.case_id == Case.id)
        .join(Message, Message.id == CaseMessage.message_id)
        .where(among(session, Message.author_key,
                     sorted({m.author_key for m in messages if m.author_key})),
               among(session, Case.topic, sorted(t for t in topics if t)),
               Case.received_at >= min(m.created_at for m in messages) - REPEAT_WINDOW,
               Case.status != CaseStatus.rejected, Case.merged_into_id.is_(None))
        .order_by(Case.received_at, Case.id))
    for author_key, source, case in rows:
        mine = found.setdefault((author_key or "", source), [])
        if case not in mine:
            mine.append(case)
    return found


def _own_question(batch: _Batch, case: Case, message: Message,
                  enrichment: MessageEnrichment) -> bool:
    """True when a comment in a case's thread is another resident's own matter: relevant,
    by someone else, on another topic ("а когда отремонтируют путепровод?" under the
    governor's direct-line post). It then gets a case of its own; replies, feedback and
    "+1" on the same topic stay in the thread's case."""
    if not enrichment.relevant or not enrichment.topic or enrichment.topic == case.topic:
        return False
    if message.author_key is None:
        return False
    return message.author_key != batch.author_of(case)


def _follow_up(session: Session, actor: Actor, batch: _Batch, case: Case,
               message: Message) -> None:
    """A comment in the thread of a case: the resident's reply, feedback, or others' +1."""
    service.attach_message(session, actor, case, message, "thread")
    same_author = message.author_key is not None and message.author_key == batch.author_of(
        case)
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


def _repeat_of(batch: _Batch, message: Message, enrichment: MessageEnrichment
               ) -> Case | None:
    """The same resident's earlier case about the same topic and place, if recent (the
    latest received; rejected and merged-away cases do not count)."""
    if not message.author_key or not enrichment.topic:
        return None
    since = message.created_at - REPEAT_WINDOW
    mine = [case for case in batch.recent.get((message.author_key, message.source), [])
            if case.topic == enrichment.topic and case.received_at >= since
            and case.status != CaseStatus.rejected and case.merged_into_id is None
            and (enrichment.municipality_id is None
                 or case.municipality_id == enrichment.municipality_id)]
    return max(mine, key=lambda case: (case.received_at, case.id), default=None)
