"""A batch's rows written by COPY (``appends.insert_rows``, PostgreSQL) are the rows an
executemany INSERT writes: the same values through the same bind processing (times, JSON
with a NUL character, enums, NULLs), in the order given; statement listeners see the COPY
once; a broken constraint raises SQLAlchemy's IntegrityError and a SAVEPOINT around it rolls
back as for an INSERT. Elsewhere (SQLite) the same call is an executemany INSERT."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tests.cases.conftest import make_case  # noqa: F401

from otklik.db.appends import insert_rows
from otklik.models.case import Case, CaseEvent

AT = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
TABLE: Table = CaseEvent.__table__  # type: ignore[assignment]


def _rows(case_id: int, tag: str) -> list[dict[str, Any]]:
    return [{"case_id": case_id, "at": AT + timedelta(seconds=n), "actor_id": None,
             "actor": "пакет", "kind": f"{tag}{n}", "from_status": None if n else "new",
             "to_status": "triage",
             "details": {"n": n, "text": "нуль \x00 и «кавычки»", "list": [1, None]}}
            for n in range(5)]


def _stored(session: Session, case_id: int) -> list[tuple[Any, ...]]:
    """The case's steps these tests wrote (not those of making the case)."""
    return [tuple(row) for row in session.execute(
        select(CaseEvent.at, CaseEvent.actor, CaseEvent.kind, CaseEvent.from_status,
               CaseEvent.to_status, CaseEvent.details)
        .where(CaseEvent.case_id == case_id, CaseEvent.actor == "пакет")
        .order_by(CaseEvent.id))]


def test_copied_rows_are_the_rows_inserted_in_the_order_given(
        session: Session, make_case: Callable[..., Case]) -> None:
    copied, inserted = make_case(), make_case()
    session.flush()
    seen: list[tuple[str, bool, int]] = []

    def listen(_conn: object, _cursor: object, statement: str, parameters: Any,
               _context: object, executemany: bool) -> None:
        if "case_event" in statement.lower():
            seen.append((statement.split()[0].upper(), executemany, len(parameters)))

    connection = session.connection()
    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        insert_rows(connection, TABLE, _rows(copied.id, "k"), copy=True)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    insert_rows(connection, TABLE, _rows(inserted.id, "k"), copy=False)
    postgres = session.get_bind().dialect.name == "postgresql"
    assert seen == [("COPY" if postgres else "INSERT", True, 5)]
    assert _stored(session, copied.id) == _stored(session, inserted.id)
    assert [kind for _, _, kind, *_ in _stored(session, copied.id)] == [
        f"k{n}" for n in range(5)]
    details = _stored(session, copied.id)[0][-1]
    assert details["text"] == "нуль \\u0000 и «кавычки»"  # kept as visible text, as before


def test_a_copy_breaking_a_constraint_raises_as_an_insert_would(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    savepoint = session.begin_nested()
    rows = _rows(case.id, "x")
    rows[3]["case_id"] = case.id + 10_000  # no such case: the foreign key refuses it
    with pytest.raises(IntegrityError):
        insert_rows(session.connection(), TABLE, rows, copy=True)
    savepoint.rollback()
    assert _stored(session, case.id) == []  # nothing of the broken batch
    insert_rows(session.connection(), TABLE, _rows(case.id, "y"), copy=True)
    assert len(_stored(session, case.id)) == 5  # the transaction goes on
