"""Rows a batch appends (case history and audit entries, a batch's new message enrichments),
kept aside as plain values and written in one executemany per table, instead of an ORM
object each.

Building a batch's cases writes ~2,900 history rows and as many audit rows per 2,000
messages; as ORM objects each costs its construction, the unit of work's bookkeeping and
its flush (a quarter of the job's profile: docs/performance.md, session 11); enriching them
writes 2,000 enrichment rows (session 12). Inside
:func:`appending`, :func:`append` keeps the values instead, and they go out as a Core
``INSERT`` of a small statement executed for all rows at once, in the order they were
appended (so the database gives increasing ids in that order, as the ORM did):

* after every flush of the session (the rows they refer to — a case — are in by then);
* before an ORM query that would autoflush (the rows are visible to it, as pending ORM
  rows were; a query under ``no_autoflush`` does not see them, as before);
* before a SAVEPOINT begins (on the enclosing transaction: a rolled-back SAVEPOINT drops
  only the rows appended inside it), and before a commit;
* when the block ends. If the block raises, the rows not written yet are added to the
  session as ORM objects — the session is left as it would have been without the block.

Outside the block :func:`append` returns False and the caller adds its ORM object.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

_KEY = "otklik_appends"


class _Appends:
    def __init__(self) -> None:
        self.rows: dict[type[Any], list[dict[str, Any]]] = {}
        self.depth = 1


def append(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """Keep a row of ``model`` to be written with the batch; False outside
    :func:`appending` (then the caller adds the row itself)."""
    state: _Appends | None = session.info.get(_KEY)
    if state is None:
        return False
    state.rows.setdefault(model, []).append(values)
    return True


@contextmanager
def appending(session: Session) -> Iterator[None]:
    """Within the block, :func:`append` keeps rows and writes them in bulk (see the module);
    nested blocks share the outermost one's rows."""
    state: _Appends | None = session.info.get(_KEY)
    if state is not None:
        state.depth += 1
        try:
            yield
        finally:
            state.depth -= 1
        return
    state = session.info[_KEY] = _Appends()
    listeners = ((session, "after_flush", _after_flush), (session, "do_orm_execute", _query),
                 (session, "after_transaction_create", _savepoint),
                 (session, "before_commit", _before_commit),
                 (session, "after_soft_rollback", _rolled_back))
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield
    except BaseException:
        _as_objects(session, state)
        raise
    else:
        if state.rows:
            session.flush()
            write(session)
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)
        session.info.pop(_KEY, None)


def write(session: Session, transaction: SessionTransaction | None = None) -> None:
    """Write the rows kept so far (one executemany per table, in the order appended)."""
    state: _Appends | None = session.info.get(_KEY)
    if state is None or not state.rows:
        return
    rows, state.rows = state.rows, {}
    connection = (transaction.connection(None) if transaction is not None
                  else session.connection())
    for model, values in rows.items():
        connection.execute(insert(cast(Table, model.__table__)), values)


def _after_flush(session: Session, _flush_context: Any) -> None:
    write(session)


def _query(state: ORMExecuteState) -> None:
    session = state.session
    kept: _Appends | None = session.info.get(_KEY)
    if (kept is not None and kept.rows and state.is_orm_statement and session.autoflush
            and not getattr(session, "_flushing", False)):
        session.flush()
        write(session)


def _savepoint(session: Session, transaction: SessionTransaction) -> None:
    # the SAVEPOINT is not begun yet: rows appended before it go to the enclosing
    # transaction (the ORM rows they refer to were flushed as the SAVEPOINT was asked for)
    if transaction.nested and transaction.parent is not None:
        write(session, transaction.parent)


def _before_commit(session: Session) -> None:
    session.flush()
    write(session)


def _rolled_back(session: Session, _previous: SessionTransaction) -> None:
    # every row kept now was appended inside the rolled-back transaction (rows appended
    # before a SAVEPOINT were written as it began)
    state: _Appends | None = session.info.get(_KEY)
    if state is not None:
        state.rows = {}


def _as_objects(session: Session, state: _Appends) -> None:
    rows, state.rows = state.rows, {}
    for model, values in rows.items():
        for row in values:
            session.add(model(**row))  # ids at the flush: the transaction may be broken
