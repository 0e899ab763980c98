"""Rows a batch appends (its new cases, their messages, history, answers and audit entries),
kept aside as plain values and written in one statement per table (:func:`insert_rows`: a
COPY on PostgreSQL, an executemany INSERT elsewhere), instead of an ORM object each.

Building a batch's cases writes ~2,900 history rows and as many audit rows per 2,000
messages; as ORM objects each costs its construction, the unit of work's bookkeeping and
its flush (a quarter of the job's profile: docs/performance.md, session 11). (A batch's
new enrichment rows are all known at once: they go straight to :func:`insert_rows`.) Inside
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

The tables go out in the order of their foreign keys (a batch's new cases before their
messages, history and answers: :func:`values_of` turns an ORM object built but not added to
the session into its row), each table's rows in the order appended.

Outside the block :func:`append` returns False and the caller adds its ORM object.

With ``lazy=True`` the rows are not written after every flush, nor before every query that
would autoflush: only before one whose statement names a table they go to (the rows are
visible to it, as above), before a SAVEPOINT, before a commit and at the block's end. A
transaction of many small steps, each flushing its changes and reading other tables (the
demo's simulated work: a case's step, then the reads of its answers), then writes its
history and audit in a few statements, not two each step. A query under ``no_autoflush``,
or through the session's connection and not the session, does not see them then, even
after a flush.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, MetaData, Table, event, exc, insert, inspect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.util import find_tables

_KEY = "otklik_appends"
#: Each metadata's tables by their place in the order of foreign keys (parents first).
_ORDER: dict[int, dict[str, int]] = {}


class _Appends:
    def __init__(self, copy: bool, lazy: bool) -> None:
        self.rows: dict[type[Any], list[dict[str, Any]]] = {}
        self.depth = 1
        self.copy, self.lazy = copy, lazy
        self.appended = 0  # rows appended in the block so far, written or not


def append(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """Keep a row of ``model`` to be written with the batch; False outside
    :func:`appending` (then the caller adds the row itself)."""
    state: _Appends | None = session.info.get(_KEY)
    if state is None:
        return False
    state.rows.setdefault(model, []).append(values)
    state.appended += 1
    return True


def active(session: Session) -> bool:
    """True inside :func:`appending` (:func:`append` keeps rows)."""
    return _KEY in session.info


def appended(session: Session) -> int:
    """How many rows :func:`append` took in the outermost :func:`appending` block so far,
    written or not (0 outside a block): a caller can tell whether a step appended any."""
    state: _Appends | None = session.info.get(_KEY)
    return state.appended if state is not None else 0


def values_of(row: Any) -> dict[str, Any]:
    """The values an ORM object (built, not added to a session) would be inserted with: its
    columns as set, the others' defaults (every column named, so a table's rows share one
    statement)."""
    return row_of(type(row), row.__dict__)


def row_of(mapped: type[Any], given: dict[str, Any]) -> dict[str, Any]:
    """The values an object of ``mapped`` built with ``given`` (attribute: value) would be
    inserted with (:func:`values_of`), without building it."""
    columns = _COLUMNS.get(mapped)
    if columns is None:
        columns = _COLUMNS[mapped] = _columns_of(mapped)
    return {name: given[key] if key in given else default(None) if default else None
            for key, name, default in columns}


#: Each mapped class's columns: (attribute, column, its default as a function or None).
_COLUMNS: dict[type[Any], list[tuple[str, str, Callable[[Any], Any] | None]]] = {}


def _columns_of(mapped: type[Any]) -> list[tuple[str, str, Callable[[Any], Any] | None]]:
    found: list[tuple[str, str, Callable[[Any], Any] | None]] = []
    for attribute in inspect(mapped).column_attrs:
        column = attribute.columns[0]
        default: Callable[[Any], Any] | None = None
        if column.default is not None and column.default.is_scalar:
            default = (lambda value: lambda _: value)(column.default.arg)
        elif column.default is not None and column.default.is_callable:
            default = column.default.arg
        elif column.server_default is not None:
            raise TypeError(f"{column}: a server default cannot be appended as a value")
        found.append((attribute.key, column.key, default))
    return found


@contextmanager
def appending(session: Session, *, copy: bool = False, lazy: bool = False) -> Iterator[None]:
    """Within the block, :func:`append` keeps rows and writes them in bulk (see the module);
    nested blocks share the outermost one's rows (and its ``copy``: on PostgreSQL the rows
    go out by COPY, :func:`insert_rows`; and its ``lazy``: written only when a query reads
    their tables, before a SAVEPOINT or a commit, and at the end)."""
    state: _Appends | None = session.info.get(_KEY)
    if state is not None:
        state.depth += 1
        try:
            yield
        finally:
            state.depth -= 1
        return
    state = session.info[_KEY] = _Appends(copy, lazy)
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
    """Write the rows kept so far (one statement per table, in the order appended)."""
    state: _Appends | None = session.info.get(_KEY)
    if state is None or not state.rows:
        return
    rows, state.rows = state.rows, {}
    connection = (transaction.connection(None) if transaction is not None
                  else session.connection())
    for model in sorted(rows, key=_place):
        insert_rows(connection, cast(Table, model.__table__), rows[model], copy=state.copy)


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]], *,
                copy: bool = True) -> None:
    """Insert ``rows`` (each naming the same columns) into ``table`` in the order given.

    With ``copy``, on PostgreSQL one ``COPY … FROM STDIN``: a third of an executemany
    INSERT's client time per row and half its database time (docs/performance.md, session
    14); the values go through the columns' bind processing as an INSERT's would,
    statement listeners see it (as one statement executed for every row), and an error is
    raised as SQLAlchemy's. Else, or when a column left out has a default to apply, one
    executemany INSERT."""
    if not rows:
        return
    names = list(rows[0])
    if (not copy or connection.dialect.name != "postgresql" or any(
            column.default is not None and column.key not in rows[0]
            for column in table.columns)
            or any(row.keys() != rows[0].keys() for row in rows)):
        connection.execute(insert(table), rows)
        return
    pairs = list(zip(names, _processors(connection, table, names), strict=True))
    statement = (f"COPY {connection.dialect.identifier_preparer.format_table(table)} "
                 f"({', '.join(table.columns[name].name for name in names)}) FROM STDIN")
    dbapi = connection.connection
    raw: Any = dbapi.driver_connection
    dispatch = connection.dispatch
    with raw.cursor() as cursor:
        dispatch.before_cursor_execute(connection, cursor, statement, rows, None, True)
        try:
            with cursor.copy(statement) as stream:
                for row in rows:
                    stream.write_row([row[name] if process is None else process(row[name])
                                      for name, process in pairs])
        except connection.dialect.loaded_dbapi.Error as error:
            invalid = connection.dialect.is_disconnect(error, dbapi, cursor)
            if invalid:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(statement, None, error,
                                          connection.dialect.loaded_dbapi.Error,
                                          connection_invalidated=invalid,
                                          dialect=connection.dialect) from error
        dispatch.after_cursor_execute(connection, cursor, statement, rows, None, True)


#: Each table's columns' bind processors (by table and column names), per dialect.
_PROCESSORS: dict[tuple[int, str, tuple[str, ...]], list[Callable[[Any], Any] | None]] = {}


def _processors(connection: Connection, table: Table, names: list[str]
                ) -> list[Callable[[Any], Any] | None]:
    dialect = connection.dialect
    key = (id(table), dialect.name, tuple(names))
    found = _PROCESSORS.get(key)
    if found is None:
        found = _PROCESSORS[key] = [
            table.columns[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names]
    return found


def _place(model: type[Any]) -> int:
    """Where ``model``'s table comes in the order of foreign keys (parents first)."""
    table = cast(Table, model.__table__)
    metadata: MetaData = table.metadata
    order = _ORDER.get(id(metadata))
    if order is None or table.name not in order:
        order = _ORDER[id(metadata)] = {
            t.name: n for n, t in enumerate(metadata.sorted_tables)}
    return order[table.name]


def _after_flush(session: Session, _flush_context: Any) -> None:
    kept: _Appends | None = session.info.get(_KEY)
    if kept is not None and not kept.lazy:
        write(session)


def _query(state: ORMExecuteState) -> None:
    session = state.session
    kept: _Appends | None = session.info.get(_KEY)
    if (kept is not None and kept.rows and state.is_orm_statement and session.autoflush
            and not getattr(session, "_flushing", False)
            and (not kept.lazy or _reads(state.statement, kept))):
        session.flush()
        write(session)


def _reads(statement: Any, kept: _Appends) -> bool:
    """Whether ``statement`` names a table some kept rows go to (a statement whose tables
    cannot be told, say a text, is taken to)."""
    if not isinstance(statement, ClauseElement):
        return True
    names = _tables_of(statement)
    return not names or any(cast(Table, model.__table__).name in names for model in kept.rows)


#: The tables each statement shape names, by its cache key (a bounded memo).
_NAMES: dict[Any, frozenset[str]] = {}


def _tables_of(statement: ClauseElement) -> frozenset[str]:
    """The names of the tables ``statement`` names, anywhere in it. Walking a statement
    costs tens of microseconds; its cache key is computed once per statement (memoized on
    it, and the execution reuses it), so the walk is done once per shape of statement."""
    key = statement._generate_cache_key()
    names = _NAMES.get(key.key) if key is not None else None
    if names is None:
        names = frozenset(name for table in find_tables(
            statement, check_columns=True, include_aliases=True, include_joins=True,
            include_crud=True) if (name := getattr(table, "name", None)))
        if key is not None:
            if len(_NAMES) >= 1024:
                _NAMES.clear()
            _NAMES[key.key] = names
    return names


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
