"""The one shape of a list in the REST API: a page.

Every ``GET /api/v1/...`` that answers a list answers ``{"items": [...], "total": N,
"limit": L, "offset": O}``: ``total`` counts every match of the filters, ``items`` holds at
most ``limit`` of them starting at ``offset``. ``limit`` is 1-500 (50 when not given),
``offset`` 0 or more (docs/architecture.md, "REST API").

A domain declares its list as a named subclass (``class UserList(Page[UserRead])``, so the
OpenAPI names it), and pages either a query in its repository (:func:`page_query`) or, for a
small list it reads whole (a contest's experts, a campaign's groups), a Python list
(:meth:`Page.of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from otklik.bounds import DbInt

T = TypeVar("T")

#: The largest page a client may ask for, and the page it gets when it does not ask.
MAX_LIMIT = 500
DEFAULT_LIMIT = 50

#: The paging query parameters every list takes.
Limit = Annotated[DbInt, Query(ge=1, le=MAX_LIMIT,
                               description=f"items per page, 1-{MAX_LIMIT}")]
Offset = Annotated[DbInt, Query(description="how many matching items to skip")]


class Page(BaseModel, Generic[T]):
    """A page of a list: the items, how many match in all, and the page asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[T], limit: int = DEFAULT_LIMIT, offset: int = 0) -> Self:
        """The page of a list read whole (a small list: the slice is cut here)."""
        return cls(items=list(items[offset:offset + limit]), total=len(items), limit=limit,
                   offset=offset)


def page_query(session: Session, query: Select[Any], limit: int = DEFAULT_LIMIT,
               offset: int = 0) -> tuple[Sequence[Any], int]:
    """One page of the rows ``query`` (ordered by the caller) selects, and how many it selects
    in all. For a repository: the SQL stays there, the counting and slicing is done here."""
    total = _total(session, query)
    rows = session.scalars(query.limit(limit).offset(offset)).all() if total > offset else []
    return rows, total


def page_rows(session: Session, query: Select[*tuple[Any, ...]], limit: int = DEFAULT_LIMIT,
              offset: int = 0) -> tuple[Sequence[Any], int]:
    """As :func:`page_query` for a query of several entities or columns: the page's rows as
    tuples, and how many the query selects in all."""
    total = _total(session, query)
    rows = session.execute(query.limit(limit).offset(offset)).all() if total > offset else []
    return rows, total


def _total(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    return int(session.scalar(select(func.count()).select_from(
        query.order_by(None).subquery())) or 0)
