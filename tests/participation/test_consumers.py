"""Participation's consumers are registered with the events they follow; the enrichment
consumer reads whole messages only when a line is open in their region or they can make or
support a proposal, and then once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from otklik import events
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import Campaign, ProposalVote
from otklik.participation import consumers
from otklik.participation.repository import ParticipationRepository


def test_consumers_are_registered() -> None:
    import otklik.consumers  # noqa: F401  (the composition root)

    def names(event: type[events.Event]) -> set[str]:
        return {c.actor_name for c in events.consumers_of(event)}

    enriched = names(events.MessagesEnriched)
    assert any("collect_after_enrichment" in n for n in enriched), enriched
    assert any("promise_answered" in n for n in names(events.CaseAnswered))
    assert any("promise_closed" in n for n in names(events.CaseClosed))
    # a bulk load of history is left alone (no database is touched)
    consumers.collect_after_enrichment.fn({"message_ids": [1], "live": False})


def test_a_batch_with_no_open_line_no_proposal_and_no_support_reads_no_message(
        session: Session, make_campaign: Callable[..., Campaign],
        make_message: Callable[..., Message], monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[list[int]] = []
    views = ParticipationRepository.message_views

    def counted(self: ParticipationRepository, ids: Sequence[int]) -> Any:
        read.append(sorted(ids))
        return views(self, ids)

    monkeypatch.setattr(ParticipationRepository, "message_views", counted)
    now = datetime.now(UTC)
    post = make_message("Когда починят дорогу на Советской?", author="r1",
                        created_at=now - timedelta(hours=2))
    comment = make_message("Яма у дома 5", parent=post, author="r2",
                           created_at=now - timedelta(hours=1))
    assert consumers.collect(session, [post.id, comment.id]) == (0, 0)
    assert read == []  # Tambov has no open line: the whole rows are never read
    idea = make_message("Предлагаю сделать сквер на месте пустыря у школы", author="r3",
                        topic="social", subtopic=None)
    support = make_message("Поддерживаю!", parent=idea, author="r4")
    enrichment = session.get(MessageEnrichment, idea.id)
    assert enrichment is not None
    enrichment.kind = "proposal"
    session.flush()
    assert consumers.collect(session, [post.id, idea.id, support.id]) == (0, 1)
    assert read == [sorted([idea.id, support.id])]  # once, only the two that matter
    assert session.scalar(select(func.count()).select_from(ProposalVote)) == 1
    make_campaign()  # a line of Tambov opens: every message of the region is looked at
    question = make_message("Хочу спросить на прямой линии про свалку у Рассказово",
                            author="r5")
    added, made = consumers.collect(session, [question.id, idea.id])
    assert (added, made) == (1, 0) and read[-1] == sorted([question.id, idea.id])
    assert len(read) == 2


def test_support_comments_of_a_batch_find_their_proposals_with_reads_not_growing_with_them(
        session: Session, make_message: Callable[..., Message]) -> None:
    """A batch's «поддерживаю» comments read their threads together: the one answering a
    proposal and the ones beside it written after it (even when the proposal is made in the
    same batch) support it, one written before it supports nothing; and the statements of a
    batch do not grow with how many support comments it holds."""
    now = datetime.now(UTC)
    post = make_message("Что делать с пустырём у школы?", author="n1",
                        created_at=now - timedelta(hours=6))
    early = make_message("Поддерживаю", parent=post, author="e1",
                         created_at=now - timedelta(hours=5))
    idea = make_message("Предлагаю сделать сквер на месте пустыря у школы", parent=post,
                        author="i1", topic="social", subtopic=None,
                        created_at=now - timedelta(hours=4))
    enrichment = session.get(MessageEnrichment, idea.id)
    assert enrichment is not None
    enrichment.kind = "proposal"
    beside = [make_message("Поддерживаю!", parent=post, author=f"b{k}",
                           created_at=now - timedelta(hours=3, minutes=k)) for k in range(3)]
    under = [make_message("+1", parent=idea, author=f"u{k}",
                          created_at=now - timedelta(hours=2, minutes=k)) for k in range(2)]
    batch = [early.id, idea.id, *(m.id for m in beside), *(m.id for m in under)]
    assert consumers.collect(session, batch) == (0, 1)
    voters = set(session.scalars(select(ProposalVote.message_id)))
    assert voters == {m.id for m in (*beside, *under)}
    assert consumers.collect(session, batch) == (0, 0)  # idempotent: nothing more
    assert session.scalar(select(func.count()).select_from(ProposalVote)) == 5

    def statements(count: int) -> int:
        topic = make_message("Когда починят дорогу?", author=f"t{count}")
        ids = [make_message("Поддерживаю", parent=topic, author=f"s{count}-{k}").id
               for k in range(count)]
        seen: list[str] = []

        def listen(*args: Any) -> None:
            seen.append(args[2])

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert consumers.collect(session, ids) == (0, 0)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(seen)

    assert statements(2) == statements(7)


def test_a_batchs_proposals_open_their_cases_together(
        session: Session, make_message: Callable[..., Message]) -> None:
    """Each new proposal of a batch gets its message's case, opened and routed as the case
    builder opens one, with its history; on PostgreSQL the cases' rows go out together (one
    statement for the batch, not one per proposal); a message already in a case keeps it."""
    from otklik.audit.actor import Actor
    from otklik.cases import control
    from otklik.models.case import CaseEvent, CaseMessage
    from otklik.models.participation import Proposal

    now = datetime.now(UTC)
    ideas = [make_message(f"Предлагаю сделать сквер на месте пустыря у школы №{k}",
                          author=f"p{k}", topic="social", subtopic=None,
                          created_at=now - timedelta(hours=4 - k)) for k in range(4)]
    for idea in ideas:
        enrichment = session.get(MessageEnrichment, idea.id)
        assert enrichment is not None
        enrichment.kind = "proposal"
    kept = control.case_for_message(session, Actor.system("tests"), ideas[0])
    session.flush()
    seen: list[str] = []

    def listen(*args: Any) -> None:
        seen.append(" ".join(args[2].split()).upper())

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert consumers.collect(session, [m.id for m in ideas]) == (0, 4)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    made = session.scalars(select(Proposal).order_by(Proposal.message_id)).all()
    assert [p.message_id for p in made] == [m.id for m in ideas]
    assert made[0].case_id == kept.id and len({p.case_id for p in made}) == 4
    for proposal in made:
        primary = session.scalar(select(CaseMessage.message_id).where(
            CaseMessage.case_id == proposal.case_id, CaseMessage.is_primary.is_(True)))
        assert primary == proposal.message_id
        kinds = set(session.scalars(select(CaseEvent.kind).where(
            CaseEvent.case_id == proposal.case_id)))
        assert {"created", "notice_drafted"} <= kinds and kinds & {"route", "triage"}
    if session.get_bind().dialect.name == "postgresql":
        opened = [s for s in seen if s.startswith(('INSERT INTO "CASE" ', 'COPY "CASE" '))]
        assert len(opened) == 1  # the three new cases together
    assert consumers.collect(session, [m.id for m in ideas]) == (0, 0)  # idempotent


def test_cases_opened_inside_a_callers_batch_are_stored_when_they_return(
        session: Session, make_message: Callable[..., Message]) -> None:
    """A caller that keeps its own rows (``appending``, even lazily) gets the cases stored
    before it adds rows that refer to them (on PostgreSQL a kept case row would otherwise
    reach the database after them, against the foreign key)."""
    from sqlalchemy import text

    from otklik.audit.actor import Actor
    from otklik.cases import control
    from otklik.db import appends

    idea = make_message("Предлагаю сделать сквер на месте пустыря у школы", author="q1",
                        topic="social", subtopic=None)
    with appends.appending(session, copy=True, lazy=True):
        case = control.cases_for_messages(session, Actor.system("tests"), [idea])[idea.id]
        stored = session.connection().execute(
            text('SELECT count(*) FROM "case" WHERE id = :id'), {"id": case.id}).scalar()
        assert stored == 1
