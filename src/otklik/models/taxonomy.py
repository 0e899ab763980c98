"""Versions of the rubricator (taxonomy) an admin edited; the active one is what enriches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime


class TaxonomyVersion(Base):
    """One saved rubricator: a JSON document that passed ``Taxonomy.from_dict``.

    Versions are never edited: an edit saves the next number. At most one row is active
    (a partial unique index); with none active the packaged taxonomy is used.
    """

    __tablename__ = "taxonomy_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author: Mapped[str] = mapped_column(String(128))
    comment: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_taxonomy_version_one_active", "active", unique=True,
              postgresql_where=text("active"), sqlite_where=text("active")),
    )
