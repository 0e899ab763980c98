"""Management decisions (управленческие решения) taken on the strength of the analytics.

The analytics rollups that used to live here are in :mod:`otklik.models.analytics`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import UTCDateTime
from otklik.models.message import BigId


class Decision(Base):
    """A measure taken by the authorities: who decided, when, with what money and why.

    Its links (:class:`DecisionLink`) name the problems, topics and territories it answers;
    the registry measures its effect as residents' messages on them before and after.
    """

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    title: Mapped[str] = mapped_column(String(500))
    decided_on: Mapped[date] = mapped_column(Date, index=True)
    decided_by: Mapped[str] = mapped_column(String(255))
    budget_rub: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="adopted")
    source_url: Mapped[str | None] = mapped_column(String(1000))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_decision_region_decided", "region_code", "decided_on"),)


class DecisionLink(Base):
    """One thing a decision is about: a problem, a topic, or a territory (exactly one set)."""

    __tablename__ = "decision_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decision.id", ondelete="CASCADE"), index=True
    )
    problem_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("problem.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str | None] = mapped_column(String(64))
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE")
    )
