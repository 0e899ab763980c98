"""Deadline policies and calendar corrections are read once per transaction while cases are
built (not two or three times per case), and an edit is seen at once: added (even before a
flush), changed, deleted, or after a SAVEPOINT rolled back (SQLite and PostgreSQL)."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session
from tests.cases.conftest import make_case, make_message  # noqa: F401

from otklik.cases import deadlines
from otklik.cases.repository import CaseRepository
from otklik.models.case import CalendarExceptionRow, Case, DeadlinePolicyRow
from otklik.sla.policy import DeadlinePolicy


@contextmanager
def reads(session: Session, table: str) -> Iterator[list[str]]:
    """The SELECTs of ``table`` the session runs inside the block."""
    seen: list[str] = []

    def listen(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _policy(name: str, days: int) -> dict[str, object]:
    return DeadlinePolicy.from_json({"name": name, "topic": "roads",
                                     "resolution": f"{days}d"}).to_json()


def test_deadlines_of_many_cases_read_the_policies_once(
        session: Session, make_case: Callable[..., Case]) -> None:
    cases = [make_case() for _ in range(3)]
    session.commit()  # a new transaction: nothing read yet
    with reads(session, "deadline_policy") as policy_reads, \
            reads(session, "calendar_exception") as calendar_reads:
        for case in cases:  # what routing a case does: its deadlines, the interim answer
            deadlines.assign(session, case)
            deadlines.wants_interim_answer(session, case)
    assert len(policy_reads) == 1 and len(calendar_reads) == 1


def test_an_added_policy_is_seen_before_and_after_the_flush(
        session: Session, make_case: Callable[..., Case]) -> None:
    repo = CaseRepository(session)
    before = list(repo.policies("68"))
    row = DeadlinePolicyRow(region_code="68", position=1, policy=_policy("cache-a", 3))
    session.add(row)  # not flushed: the query the cache replaces would have flushed it
    assert row in repo.policies("68") and len(repo.policies("68")) == len(before) + 1
    case = make_case()
    assert deadlines.policy_for(session, case).name == "cache-a"
    row.policy = _policy("cache-b", 4)
    session.flush()
    assert deadlines.policy_for(session, case).name == "cache-b"
    session.delete(row)
    session.flush()
    assert row not in repo.policies("68")


def test_a_rolled_back_savepoint_forgets_what_it_read(session: Session) -> None:
    repo = CaseRepository(session)
    count = len(repo.calendar_exceptions("68"))
    savepoint = session.begin_nested()
    session.add(CalendarExceptionRow(region_code="68", day="2031-01-09", kind="holiday",
                                     note="cache"))
    assert len(repo.calendar_exceptions("68")) == count + 1
    savepoint.rollback()
    with reads(session, "calendar_exception") as again:
        assert len(repo.calendar_exceptions("68")) == count
    assert len(again) == 1


def test_parsed_policies_and_calendar_follow_an_unflushed_edit(
        session: Session, make_case: Callable[..., Case]) -> None:
    """What is worked out from the cached rows (the parsed policies, the calendar's
    corrections) is kept for the transaction, and follows a row changed in the session
    before it is flushed, as reading the rows themselves did."""
    case = make_case()
    row = DeadlinePolicyRow(region_code="68", position=1, policy=_policy("parsed-a", 3))
    calendar = CalendarExceptionRow(region_code="68", day="2031-01-09", kind="holiday",
                                    note="parsed")
    session.add_all([row, calendar])
    session.flush()
    assert deadlines.policy_for(session, case).name == "parsed-a"
    with reads(session, "deadline_policy") as again:
        assert deadlines.policy_for(session, case).name == "parsed-a"
    assert not again
    row.policy = _policy("parsed-b", 4)  # not flushed
    assert deadlines.policy_for(session, case).name == "parsed-b"
    clock = deadlines.clock_for(session, case)
    calendar.day = "2031-01-10"  # not flushed
    assert deadlines.clock_for(session, case) is not clock
    session.flush()
    assert deadlines.policy_for(session, case).name == "parsed-b"
    calendar.day = "2031-01-09"
    session.flush()
    assert deadlines.clock_for(session, case) is clock  # the same corrections: the same clock
