"""Ids for rows a transaction appends in bulk (history and audit entries), taken from the
table's PostgreSQL sequence ahead of the INSERT.

A row added without its id needs ``INSERT … RETURNING id``; SQLAlchemy sends a flush's such
rows as multi-row INSERTs of up to a thousand rows, tens of kilobytes each, which psycopg
parses anew every time (it caches only statements up to 4 KB): 11–17 % of the profiled
time of building a batch's cases went there. A row that has its id goes out in one
executemany of a small statement, parsed once. Ids are taken in chunks that grow within a
transaction (64, then twice as many up to 1,024): a few ``nextval`` round trips per batch.
Ids taken and not used are gaps, as after a rollback; the order of ids is the order rows
were added, as before. Elsewhere (SQLite) nothing is taken and the database gives the ids.
A batch that builds cases keeps its rows as plain values instead (:mod:`otklik.db.appends`:
no ORM object, no id taken ahead); this serves the rows added one by one elsewhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.db.session import forget_at_transaction_end

_POOL_KEY = "otklik_id_pool"
FIRST_CHUNK = 64
MAX_CHUNK = 1024


def give_id(session: Session, row: Any) -> None:
    """Give ``row`` (not flushed, without an id) the next id of its table's sequence."""
    if row.id is not None or session.get_bind().dialect.name != "postgresql":
        return
    pools: dict[str, tuple[list[int], int]] = session.info.setdefault(_POOL_KEY, {})
    table = row.__tablename__
    ids, chunk = pools.get(table, ([], FIRST_CHUNK // 2))
    if not ids:
        chunk = min(chunk * 2, MAX_CHUNK)
        sequence = func.pg_get_serial_sequence(f'"{table}"', "id")
        with session.no_autoflush:
            ids = list(session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, chunk))))
        ids.reverse()  # popped from the end: the smallest first
        forget_at_transaction_end(session, _POOL_KEY)
    row.id = ids.pop()
    pools[table] = (ids, chunk)

