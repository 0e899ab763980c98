"""Expert panels for contests (конкурсы): tracks, criteria, experts, applications, reviews.

A contest (a regional bloggers' grant contest) has tracks with a budget and grant bounds,
criteria with a scale and a weight, experts assigned per track, applications (from the
public form or an import) with their attachments, conflicts of interest declared by
experts, and one review per expert and application holding that expert's scores.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, CreatedAtMixin
from otklik.db.types import JSONType, UTCDateTime


class Contest(CreatedAtMixin, Base):
    """A contest of one region: its window, aggregation rule and status.

    ``status``: draft (being set up), open (accepting applications), scoring (experts at
    work), closed (results fixed). ``aggregation``: mean, or trimmed (the highest and the
    lowest expert total dropped when there are at least three). ``outlier_points``: an
    expert's total further than this from the median of the application (on the 10-point
    scale every total is brought to) is flagged as an outlier.
    """

    __tablename__ = "contest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    aggregation: Mapped[str] = mapped_column(String(16), default="mean")
    outlier_points: Mapped[float] = mapped_column(Float, default=2.0)
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ContestTrack(Base):
    """A track (номинация) with its budget, grant bounds and number of winners."""

    __tablename__ = "contest_track"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("contest.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    budget_rub: Mapped[int] = mapped_column(BigInteger)
    grant_min_rub: Mapped[int] = mapped_column(BigInteger)
    grant_max_rub: Mapped[int] = mapped_column(BigInteger)
    winners: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ContestCriterion(Base):
    """A criterion every expert scores from 0 to ``scale_max``; ``weight`` in the total."""

    __tablename__ = "contest_criterion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("contest.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    scale_max: Mapped[int] = mapped_column(Integer, default=10)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ContestExpert(Base):
    """An expert (a user of role expert) assigned to one track."""

    __tablename__ = "contest_expert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(
        ForeignKey("contest_track.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (UniqueConstraint("track_id", "user_id"),)


class ContestApplication(CreatedAtMixin, Base):
    """An application to a track, from the public form or an import (``source_ref``: the
    import's row key, so the same file imported twice adds nothing)."""

    __tablename__ = "contest_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("contest.id", ondelete="CASCADE"), index=True
    )
    track_id: Mapped[int] = mapped_column(
        ForeignKey("contest_track.id", ondelete="CASCADE"), index=True
    )
    applicant: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    requested_rub: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), default="form")
    source_ref: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("contest_id", "source_ref"),)


class ContestAttachment(CreatedAtMixin, Base):
    """A file sent with an application, kept under the data folder as ``stored_name``."""

    __tablename__ = "contest_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("contest_application.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)


class ContestConflict(CreatedAtMixin, Base):
    """A conflict of interest an expert declared: they are recused from that application."""

    __tablename__ = "contest_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("contest_application.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("application_id", "user_id"),)


class ContestReview(CreatedAtMixin, Base):
    """One expert's scores of one application, submitted once (``scores``: criterion id →
    points; ``total``: their weighted total brought to a 10-point scale)."""

    __tablename__ = "contest_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("contest_application.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    total: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("application_id", "user_id"),)
