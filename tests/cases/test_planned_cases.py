"""A batch's new cases planned outside the session and appended whole with the batch's rows
(``CaseRepository.plan``: PostgreSQL, ids reserved) are the cases added one by one as ORM
objects: the same cases, messages, history, answers and audit entries, for new cases routed
and sent to triage, a comment in a case's thread, another resident's own question under it,
a repeat and a copy; building the batch again adds nothing; a rolled-back SAVEPOINT leaves
nothing of a case planned inside it. On SQLite no id is reserved and cases are added one by
one as before (both backends run)."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.cases.conftest import SYSTEM, make_message, michurinsk  # noqa: F401

from otklik.cases.builder import build_cases
from otklik.cases.repository import CaseRepository
from otklik.cases.service import case_from_message
from otklik.db.appends import appending
from otklik.db.base import simulated_now
from otklik.models.audit import AuditEntry
from otklik.models.case import (
    Answer,
    Case,
    CaseEvent,
    CaseMessage,
    DeadlinePolicyRow,
    RoutingRule,
)
from otklik.models.message import Message, MessageEnrichment
from otklik.sla.policy import DeadlinePolicy

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
_ID_KEYS = {"answer", "answer_id", "case_id"}


def _batch(session: Session, make_message: Callable[..., Message]) -> list[int]:
    """Messages of one batch, oldest first: each way a message finds its case."""
    municipality_id, org = michurinsk(session)
    session.add_all([
        RoutingRule(region_code="68", executor_id=org.id, position=1, topic="roads",
                    note="planned"),
        DeadlinePolicyRow(region_code="68", position=1, policy=DeadlinePolicy.from_json({
            "name": "planned", "topic": "roads", "resolution": "10d",
            "interim_answer": True}).to_json())])
    session.flush()
    at = iter(NOW - timedelta(hours=12) + timedelta(minutes=n) for n in range(100))

    def message(text: str, **kwargs: Any) -> Message:
        kwargs.setdefault("municipality_id", municipality_id)
        return make_message(text, created_at=next(at), **kwargs)

    first = message("Яма на путепроводе по ул. Лаврова, колесо пробил", author="id1")
    return [m.id for m in (
        first,
        message("Да, там ужасная яма, +1", parent=first, author="id2"),  # the thread
        message("А когда во дворе дома 5 починят отопление?", parent=first, author="id3",
                topic="housing", subtopic=None),  # another resident's own question
        message("Опять про путепровод на Лаврова: ничего не сделано", author="id1"),  # repeat
        message("Яма на путепроводе по ул. Лаврова, колесо пробил!!", author="id4",
                duplicate_of=first.id),  # a copy
        message("Во дворе не вывозят мусор третью неделю", author="id5", topic="waste",
                subtopic=None),  # no rule: triage
        message("Хорошая погода сегодня", author="id6", relevant=False),  # no case
    )]


def _snapshot(session: Session, message_ids: list[int]) -> dict[str, Any]:
    """What the batch stored, named by messages (ids reserved differ between two builds)."""
    members = session.execute(
        select(CaseMessage.case_id, CaseMessage.message_id, CaseMessage.is_primary,
               CaseMessage.added_at).where(CaseMessage.message_id.in_(message_ids))).all()
    key = {case_id: message_id for case_id, message_id, primary, _ in members if primary}
    numbers = {f"№ {case_id} ": f"№ (case of message {message_id}) "
               for case_id, message_id in key.items()}

    def named(details: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(sorted((k, v) for k, v in details.items() if k not in _ID_KEYS))

    def text(value: str) -> str:
        for number, name in numbers.items():
            value = value.replace(number, name)
        return value

    columns = [c for c in Case.__table__.columns if c.key not in ("id", "version")]
    cases = {key[row.id]: {c.key: getattr(row, c.key) for c in columns}
             for row in session.scalars(select(Case).where(Case.id.in_(list(key))))}
    events = [(key[e.case_id], e.kind, e.at, e.actor, e.from_status, e.to_status,
               named(e.details))
              for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(
                  list(key))).order_by(CaseEvent.id))]
    answers = [(key[a.case_id], a.kind, text(a.text), a.status, a.organization_id,
                a.created_at, a.approved_at, a.quality)
               for a in session.scalars(select(Answer).where(Answer.case_id.in_(
                   list(key))).order_by(Answer.id))]
    audit = [(a.action, key[int(a.object_id or 0)], a.at, a.actor, a.region_code,
              named(a.details))
             for a in session.scalars(select(AuditEntry).where(
                 AuditEntry.object_type == "case",
                 AuditEntry.object_id.in_([str(i) for i in key])).order_by(AuditEntry.id))]
    return {"members": sorted((key[c], m, p, a) for c, m, p, a in members),
            "cases": cases, "events": events, "answers": answers, "audit": audit}


@contextmanager
def _counted_plans(monkeypatch: pytest.MonkeyPatch, *, one_by_one: bool
                   ) -> Iterator[list[bool]]:
    """Count the cases planned (``one_by_one``: none, each added as an ORM object)."""
    planned: list[bool] = []
    original = CaseRepository.plan

    def plan(repo: CaseRepository, values: dict[str, Any]) -> tuple[Case, bool]:
        if one_by_one:
            planned.append(False)
            return repo.add(Case(**values)), False
        case, was_planned = original(repo, values)
        planned.append(was_planned)
        return case, was_planned

    with monkeypatch.context() as patch:
        patch.setattr(CaseRepository, "plan", plan)
        yield planned


def test_a_batch_planned_whole_is_the_batch_added_one_by_one(
        session: Session, make_message: Callable[..., Message],
        monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _batch(session, make_message)
    made: dict[str, dict[str, Any]] = {}
    for name in ("one_by_one", "planned"):
        savepoint = session.begin_nested()
        with _counted_plans(monkeypatch, one_by_one=name == "one_by_one") as planned, \
                simulated_now(NOW):
            touched = build_cases(session, SYSTEM, ids)
            session.flush()
            made[name] = _snapshot(session, ids)
            counts = [session.scalar(select(func.count()).select_from(table)) for table in (
                Case, CaseMessage, CaseEvent, Answer, AuditEntry)]
            assert build_cases(session, SYSTEM, ids) == []  # again: nothing to do
            session.flush()
            assert [session.scalar(select(func.count()).select_from(table)) for table in (
                Case, CaseMessage, CaseEvent, Answer, AuditEntry)] == counts
        assert len(set(touched)) == 3 == len(made[name]["cases"])
        dialect = session.get_bind().dialect.name
        assert any(planned) == (name == "planned" and dialect == "postgresql"), planned
        savepoint.rollback()
    reference = made["one_by_one"]
    kinds = {kind for _, kind, *_ in reference["events"]}
    assert {"created", "route", "triage", "interim_answer", "message_added"} <= kinds
    assert [kind for _, kind, *_ in reference["answers"]] == ["interim"]
    assert sorted(reason for *_, details in reference["events"] for k, reason in details
                  if k == "reason" and reason in ("thread", "repeat", "copy")) == [
        "copy", "repeat", "thread"]
    for part in ("members", "cases", "events", "answers", "audit"):
        assert made["planned"][part] == reference[part], part


def test_a_rolled_back_savepoint_leaves_nothing_of_a_case_planned_in_it(
        session: Session, make_message: Callable[..., Message]) -> None:
    municipality_id, _ = michurinsk(session)
    kept_message, dropped_message, after_message = (
        make_message(f"Яма на дороге номер {n}", municipality_id=municipality_id)
        for n in range(3))
    repo = CaseRepository(session)
    repo.reserve(Case, 3)
    repo.reserve(Answer, 3)

    def enrichment(message: Message) -> MessageEnrichment:
        found = session.get(MessageEnrichment, message.id)
        assert found is not None
        return found

    with appending(session):
        kept = case_from_message(session, SYSTEM, kept_message, enrichment(kept_message))
        savepoint = session.begin_nested()
        dropped = case_from_message(session, SYSTEM, dropped_message,
                                    enrichment(dropped_message))
        savepoint.rollback()
        after = case_from_message(session, SYSTEM, after_message, enrichment(after_message))
    session.flush()
    stored = set(session.scalars(select(Case.id).where(
        Case.id.in_([kept.id, dropped.id, after.id]))))
    assert stored == {kept.id, after.id}
    assert set(session.scalars(select(CaseMessage.message_id).where(CaseMessage.message_id.in_(
        [kept_message.id, dropped_message.id, after_message.id])))) == {
        kept_message.id, after_message.id}
    # the history and the audit log name the messages their cases were made from
    created = [e.details["message_id"] for e in session.scalars(
        select(CaseEvent).where(CaseEvent.kind == "created"))]
    audited = [a.details["message_id"] for a in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "case.created"))]
    for made in (created, audited):
        assert made.count(kept_message.id) == made.count(after_message.id) == 1
        assert dropped_message.id not in made


def test_case_and_answer_ids_are_reserved_in_one_query(session: Session) -> None:
    """One round trip reserves both tables' ids (PostgreSQL): each table's from its own
    sequence, increasing, as many as asked; on SQLite nothing is reserved."""
    from sqlalchemy import event

    from otklik.cases.repository import _RESERVED_KEY

    statements: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        CaseRepository(session).reserve(Case, 3, (Answer, 2))
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    reserved = session.info.get(_RESERVED_KEY, {})
    if session.get_bind().dialect.name != "postgresql":
        assert statements == [] and not reserved
        return
    assert len([s for s in statements if "nextval" in s]) == 1
    assert [len(reserved["case"]), len(reserved["answer"])] == [3, 2]
    for ids in reserved.values():
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    case_id = session.scalar(select(func.nextval(func.pg_get_serial_sequence('"case"', "id"))))
    assert case_id is not None and case_id > reserved["case"][-1]  # taken from its sequence


def test_a_batch_built_after_a_rule_changed_unflushed_routes_by_the_change(
        session: Session, make_message: Callable[..., Message]) -> None:
    """A rule edited in this session and not flushed yet, then a batch built in the same
    transaction: routing sees the edit, and nothing is written before its case. (Routing
    flushes a pending rule change before it reads the rules; were that flush to happen
    halfway through a planned case — its history kept, its own row not yet — rows pointing
    at a case not in the database would go out. The batch's first read flushes what is
    pending, before anything is planned.)"""
    municipality_id, org = michurinsk(session)
    rule = RoutingRule(region_code="68", executor_id=org.id, position=1, topic="roads",
                       enabled=False, note="off")
    session.add(rule)
    session.flush()
    message = make_message("Яма на дороге у школы", municipality_id=municipality_id)
    rule.enabled = True  # not flushed
    with simulated_now(NOW):
        touched = build_cases(session, SYSTEM, [message.id])
    session.flush()
    case = session.get(Case, touched[0])
    assert case is not None
    assert case.executor_id == org.id  # the rule, as edited, routed it
    assert session.scalar(select(func.count()).select_from(CaseMessage).where(
        CaseMessage.case_id == case.id)) == 1
