"""A column among a list of values, as one array parameter on PostgreSQL.

``column.in_(ids)`` renders one bound parameter per value at every execution: for a batch of
200 ids SQLAlchemy renders 200 placeholders and psycopg parses the long statement anew
(it caches statements only up to 4 KB), a few milliseconds of CPU a query. ``column =
ANY(:ids)`` is one parameter: the statement is compiled once, cached by both, and prepared
by the server after a few runs. SQLite has no arrays: there it stays ``IN``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def among(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` (integers or strings), as ``= ANY(array)`` on PostgreSQL."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(list(values))  # type: ignore[no-any-return]
    # the values' type, or the column's when there are none (an empty array must still
    # compare with the column: ``varchar = ANY(bigint[])`` is an error)
    strings = (any(isinstance(v, str) for v in values) if values
               else isinstance(getattr(column, "type", None), String))
    kind = String() if strings else BigInteger()
    return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))  # type: ignore[no-any-return]
