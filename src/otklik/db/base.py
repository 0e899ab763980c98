"""The declarative base with a naming convention Alembic can diff reliably."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from otklik.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_frozen_now: ContextVar[datetime | None] = ContextVar("otklik_frozen_now", default=None)


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every stored time is aware.

    The demo's simulation of past work sets the moment with :func:`simulated_now`.
    """
    frozen = _frozen_now.get()
    return frozen if frozen is not None else datetime.now(UTC)


@contextmanager
def simulated_now(moment: datetime) -> Iterator[None]:
    """Make :func:`utcnow` return ``moment`` inside the block (demo simulation, tests)."""
    token = _frozen_now.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen_now.reset(token)


class Base(DeclarativeBase):
    """Base class of every ORM table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CreatedAtMixin:
    """A creation time, set by the database session on insert."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
