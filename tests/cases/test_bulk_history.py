"""A batch's history and audit rows kept as plain values and written together
(``otklik.db.appends``): the same rows, in the order recorded, one INSERT per table; seen by
the queries that would have seen pending ORM rows; a rolled-back SAVEPOINT drops only its
own; an error leaves them in the session as ORM rows; the audit log still seals and
verifies (SQLite and PostgreSQL). Lazy, they wait past flushes and queries of other tables
for a query of their own tables, a SAVEPOINT or the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.audit.chain import seal, verify
from otklik.cases import service
from otklik.db.appends import appending
from otklik.models.audit import AuditEntry
from otklik.models.case import Case, CaseEvent

ACTOR = Actor(label="пакет", user_id=None, ip=None)
STEPS = ("message_added", "feedback")  # what the tests record (not the cases' own "created")


def _inserts(session: Session) -> tuple[list[tuple[str, bool]], Any]:
    seen: list[tuple[str, bool]] = []

    def listen(_conn: object, _cursor: object, statement: str, _params: object,
               _context: object, executemany: bool) -> None:
        # one executemany INSERT per table, or on PostgreSQL one COPY (appends.insert_rows)
        if statement.lstrip().upper().startswith(("INSERT INTO AUDIT_LOG",
                                                  "INSERT INTO CASE_EVENT",
                                                  "COPY AUDIT_LOG", "COPY CASE_EVENT")):
            seen.append((statement.split("(")[0].split()[-1], executemany))

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    return seen, listen


def _history(session: Session, case_ids: list[int]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.actor, CaseEvent.from_status,
               CaseEvent.to_status, CaseEvent.details)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.kind.in_(STEPS))
        .order_by(CaseEvent.id))]


def _audit(session: Session, case_ids: list[int]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(
        select(AuditEntry.action, AuditEntry.object_id, AuditEntry.region_code,
               AuditEntry.details)
        .where(AuditEntry.object_type == "case",
               AuditEntry.object_id.in_([str(i) for i in case_ids]),
               AuditEntry.action.in_([f"case.{kind}" for kind in STEPS]))
        .order_by(AuditEntry.id))]


def _steps(session: Session, cases: list[Case]) -> None:
    for n, case in enumerate(cases):
        service.record_event(session, ACTOR, case, "message_added", None, message_id=n,
                             reason="copy")
        service.record_event(session, ACTOR, case, "feedback", None, value="thanks")


def test_the_same_rows_in_the_same_order_one_insert_per_table(session: Session,
                                                             make_case: Callable[..., Case]
                                                             ) -> None:
    plain_cases = [make_case() for _ in range(3)]
    batched_cases = [make_case() for _ in range(3)]
    plain, batched = [c.id for c in plain_cases], [c.id for c in batched_cases]
    session.flush()
    _steps(session, plain_cases)
    session.flush()
    seen, listen = _inserts(session)
    try:
        with appending(session):
            _steps(session, batched_cases)
            assert seen == []  # kept until the block ends
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    assert sorted(seen) == [("audit_log", True), ("case_event", True)]
    renamed = dict(zip(batched, plain, strict=True))
    history = [(renamed[row[0]], *row[1:]) for row in _history(session, batched)]
    assert history == _history(session, plain)
    trail = [(a, str(renamed[int(i)]), *rest) for a, i, *rest in _audit(session, batched)]
    assert trail == _audit(session, plain)
    assert [d["message_id"] for *_, d in _history(session, batched) if "message_id" in d] \
        == [0, 1, 2]  # ids follow the order recorded


def test_a_query_that_autoflushes_sees_the_rows_one_under_no_autoflush_does_not(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    count = select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)
    before = session.scalar(count)
    with appending(session):
        service.record_event(session, ACTOR, case, "feedback", None, value="a")
        with session.no_autoflush:
            assert session.scalar(count) == before  # as a pending ORM row would not be
        assert session.scalar(count) == before + 1
        service.record_event(session, ACTOR, case, "feedback", None, value="b")
    assert session.scalar(count) == before + 2


def test_a_rolled_back_savepoint_drops_only_the_rows_recorded_inside_it(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    with appending(session):
        service.record_event(session, ACTOR, case, "feedback", None, value="before")
        savepoint = session.begin_nested()
        service.record_event(session, ACTOR, case, "feedback", None, value="inside")
        savepoint.rollback()
        service.record_event(session, ACTOR, case, "feedback", None, value="after")
    values = [row[-1]["value"] for row in _history(session, [case.id])]
    assert values == ["before", "after"]
    assert [row[-1]["value"] for row in _audit(session, [case.id])] == ["before", "after"]


def test_an_error_in_the_block_leaves_the_rows_in_the_session(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    with pytest.raises(RuntimeError), appending(session):
        service.record_event(session, ACTOR, case, "feedback", None, value="kept")
        raise RuntimeError("the caller decides")
    assert {type(row) for row in session.new} == {CaseEvent, AuditEntry}
    session.flush()
    assert [row[-1]["value"] for row in _history(session, [case.id])] == ["kept"]


def test_outside_a_block_an_entry_is_an_orm_row_as_before(session: Session) -> None:
    entry = audit.record(session, ACTOR, "case.created", "case", 1)
    assert isinstance(entry, AuditEntry) and entry in session.new


def test_the_audit_log_written_in_bulk_seals_and_verifies(
        session: Session, make_case: Callable[..., Case]) -> None:
    cases = [make_case() for _ in range(4)]
    session.flush()
    with appending(session):
        _steps(session, cases)
    assert seal(session) >= 8
    verdict = verify(session)
    assert verdict.ok, verdict.problems


def test_lazy_rows_wait_for_a_query_of_their_tables(session: Session,
                                                   make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    count = select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)
    before = session.scalar(count) or 0
    seen, listen = _inserts(session)
    try:
        with appending(session, lazy=True):
            service.record_event(session, ACTOR, case, "feedback", None, value="a")
            case.title = "changed"
            session.flush()
            assert session.get(Case, case.id) is case
            session.scalars(select(Case).where(Case.id == case.id)).all()
            assert seen == []  # a flush and a query of other tables leave them kept
            assert session.scalar(count) == before + 1  # a query of their table sees them
            assert sorted(table for table, _ in seen) == ["audit_log", "case_event"]
            service.record_event(session, ACTOR, case, "feedback", None, value="b")
            service.record_event(session, ACTOR, case, "feedback", None, value="c")
            with session.begin_nested():  # written before the SAVEPOINT begins
                assert sorted(seen[2:]) == [("audit_log", True), ("case_event", True)]
            service.record_event(session, ACTOR, case, "feedback", None, value="d")
        assert len(seen) == 6  # the rest at the end, one statement per table
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    assert [row[-1]["value"] for row in _history(session, [case.id])] == ["a", "b", "c", "d"]
    assert [row[-1]["value"] for row in _audit(session, [case.id])] == ["a", "b", "c", "d"]
    assert seal(session) >= 4
    assert verify(session).ok
