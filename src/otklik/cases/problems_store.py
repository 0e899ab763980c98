"""Problems written as rows: the problems a clustering run changed go out in one statement per
kind (new ones, changed ones), not as ORM objects.

A run of the clusterer knows every value of the problems it touched (the index holds their
state): loading the stored ones as ORM objects (their whole stored state, JSON, decoded) only
to overwrite them, and building an ORM object per new one, cost a fifth of the job's CPU
(docs/performance.md, session 15). On PostgreSQL the new problems get their ids from the
table's sequence first, in the order given (as :meth:`CaseRepository.reserve` gave them), and
go out by one COPY (:func:`otklik.db.appends.insert_rows`); the changed ones by one
executemany UPDATE. Elsewhere (SQLite) a new problem is added as an ORM object and flushed for
its id, as before (:meth:`CaseRepository.add_problem`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from otklik.cases.repository import next_ids
from otklik.db import appends
from otklik.db.lists import among
from otklik.models.case import Problem

#: The columns a run writes to a stored problem (the others do not change after its insert).
CHANGED = ("title", "size", "last_seen", "street", "subtopic", "state")


def stored(session: Session, problem_ids: Iterable[int | None]) -> set[int]:
    """Which of these problems are stored (one of them may have been deleted meanwhile)."""
    ids = sorted({i for i in problem_ids if i is not None})
    if not ids:
        return set()
    return set(session.scalars(select(Problem.id).where(among(session, Problem.id, ids))))


def take_ids(session: Session, count: int) -> list[int] | None:
    """``count`` ids of new problems from the table's sequence, in order (PostgreSQL); None
    elsewhere (the database gives each its id at its insert)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    if count <= 0:
        return []
    return [given for _, given in next_ids(session, [(Problem.__tablename__, count)])]


def insert(session: Session, problems: Sequence[Problem]) -> None:
    """Insert new problems that have their ids (:func:`take_ids`), in one statement."""
    if problems:
        session.flush()  # what the session holds first: the rows go out after it
        appends.insert_rows(session.connection(), cast(Table, Problem.__table__),
                            [appends.values_of(p) for p in problems])


def write(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store the :data:`CHANGED` values of stored problems (``{"id": …, column: …}``), in one
    executemany UPDATE. The session's pending changes go first (a re-titling of the same
    problems): these values are the run's last word, as the ORM's would have been."""
    if not rows:
        return
    session.flush()
    table = cast(Table, Problem.__table__)
    # the SET clause is the columns the parameters name (:data:`CHANGED`)
    session.execute(update(table).where(table.c.id == bindparam("problem_id")),
                    [{"problem_id": row["id"], **{name: row[name] for name in CHANGED}}
                     for row in rows])
    held = session.identity_map
    for row in rows:
        problem = held.get(identity_key(Problem, row["id"]))
        if problem is None:
            continue
        expired = inspect(problem).expired_attributes  # read afresh when next used
        for name in CHANGED:
            if name not in expired:
                set_committed_value(problem, name, row[name])
