"""The markers of ``analytics_watermark`` (name → time) that the rollups and their jobs keep:
read several at once, written several at once.

A refresh read its markers one by one and moved each with a read and an ORM flush; the job
around it created its markers and then updated them, a statement each. A refresh runs after
every burst of enrichment, so these statements were a quarter of its own
(docs/performance.md, session 15): now one SELECT reads a refresh's markers and one upsert
writes each group of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from otklik.models.analytics import AnalyticsWatermark

TABLE = cast(Table, AnalyticsWatermark.__table__)


def dialect_insert(session: Session) -> Any:
    """The session's dialect's INSERT (both have ON CONFLICT)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def load(session: Session, names: Iterable[str]) -> None:
    """Read these markers into the session in one query: :meth:`Session.get` then finds them
    without a query of its own (a marker the session holds already is left as it is, as
    ``get`` would have left it)."""
    session.scalars(select(AnalyticsWatermark).where(
        AnalyticsWatermark.name.in_(sorted(set(names))))).all()


def put(session: Session, values: Mapping[str, datetime]) -> None:
    """Set these markers (each made when missing) in one statement; a marker the session
    holds says so too, as if it had been its own change (nothing is left for a flush)."""
    if not values:
        return
    statement = dialect_insert(session)(TABLE).values(
        [{"name": name, "value": value} for name, value in values.items()])
    session.execute(statement.on_conflict_do_update(
        index_elements=["name"], set_={"value": statement.excluded.value}))
    for name, value in values.items():
        held = session.identity_map.get(identity_key(AnalyticsWatermark, name))
        if held is not None:
            set_committed_value(held, "value", value)
