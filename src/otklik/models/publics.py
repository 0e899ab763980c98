"""Official public pages (госпаблики): the registry, what is collected from them, the
methodology as data and the weekly rating.

A page is one account of a state body or institution on VK, OK or Telegram. Collection
keeps its posts (with their counters), the comments under them (residents' and the page's
own answers), and one snapshot a day of its subscribers and profile facts. A methodology
version is a set of criteria (weight and threshold per page type and class); a rating row
names the version it was computed with, and a new version never rewrites old rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime
from otklik.models.message import BigId


class PublicPage(Base):
    """One official page: platform and id there, owner, type, class, territory, status.

    ``page_type`` (school, kindergarten, government …) and ``page_class`` (flagship, active,
    card) choose the methodology's criteria; ``status`` is active, abandoned, duplicate or
    closed (only active pages are collected and rated). ``cursor`` is the collection's
    position, kept per page like a connector's.
    """

    __tablename__ = "public_page"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(500))
    owner_name: Mapped[str | None] = mapped_column(String(500))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), index=True
    )
    page_type: Mapped[str] = mapped_column(String(32))
    page_class: Mapped[str] = mapped_column(String(16), default="active")
    status: Mapped[str] = mapped_column(String(16), default="active")
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connector.id", ondelete="SET NULL")
    )
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    last_collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_public_page_region_type", "region_code", "page_type"),
    )


class PageSnapshot(Base):
    """A page on one day: subscribers and profile facts (avatar, cover, description,
    contacts, the state-organization mark, comments open, a pinned post)."""

    __tablename__ = "page_snapshot"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("public_page.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    subscribers: Mapped[int | None] = mapped_column(Integer)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    facts_present: Mapped[int] = mapped_column(Integer, default=0)
    facts_total: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("page_id", "day"),)


class PagePost(Base):
    """A post of a page with its counters as last collected; ``kind`` is its content type
    (text, photo, video, link, poll, event …) for the content-mix criterion."""

    __tablename__ = "page_post"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("public_page.id", ondelete="CASCADE"))
    post_id: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16), default="text")
    views: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("page_id", "post_id"),
        Index("ix_page_post_posted_at", "posted_at"),
    )


class PageComment(Base):
    """A comment under a page's post: a resident's (``from_page`` false) or the page's own
    answer (``reply_to`` names the comment it answers). ``needs_answer`` marks a resident's
    question or request; the rating counts those answered, how fast, and those left."""

    __tablename__ = "page_comment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("public_page.id", ondelete="CASCADE"))
    post_id: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[str] = mapped_column(String(64))
    reply_to: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[str | None] = mapped_column(String(64))
    from_page: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_answer: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("page_id", "comment_id"),
        Index("ix_page_comment_created_at", "created_at"),
        Index("ix_page_comment_reply", "page_id", "reply_to"),
    )


class Methodology(Base):
    """One version of the rating methodology; exactly one is active (the newest an admin
    saved). Versions are never edited: a change makes the next one."""

    __tablename__ = "page_methodology"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MethodologyCriterion(Base):
    """A criterion of a version for a page type and class (``*`` = any); the most specific
    row for a page wins. ``weight`` counts in the score, ``threshold`` is the norm."""

    __tablename__ = "page_criterion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    methodology_id: Mapped[int] = mapped_column(
        ForeignKey("page_methodology.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    page_type: Mapped[str] = mapped_column(String(32), default="*")
    page_class: Mapped[str] = mapped_column(String(16), default="*")
    weight: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)

    __table_args__ = (UniqueConstraint("methodology_id", "code", "page_type", "page_class"),)


class PageRating(Base):
    """A page's score for one ISO week (``2026-W49``) under one methodology version (a week
    computed again under a newer version gets new rows; the old ones stay).

    ``score`` is None when the page had no data that week ("нет данных", never a zero);
    ranks are among pages of its type in its municipality and in its region; ``movement`` is
    the change of the regional rank since the week before (positive: up).
    """

    __tablename__ = "page_rating"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    page_id: Mapped[int] = mapped_column(ForeignKey("public_page.id", ondelete="CASCADE"),
                                         index=True)
    methodology_id: Mapped[int] = mapped_column(
        ForeignKey("page_methodology.id", ondelete="RESTRICT"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(3))
    municipality_id: Mapped[int | None] = mapped_column(Integer)
    page_type: Mapped[str] = mapped_column(String(32))
    page_class: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    rank_municipality: Mapped[int | None] = mapped_column(Integer)
    rank_region: Mapped[int | None] = mapped_column(Integer)
    previous_rank: Mapped[int | None] = mapped_column(Integer)
    movement: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("week", "page_id", "methodology_id"),
        Index("ix_page_rating_week_region", "week", "region_code"),
    )


class PageRatingItem(Base):
    """One criterion of a page's weekly score: the measured value (None: not measurable that
    week), the norm and weight it was held to, and the part of the norm met (0…1)."""

    __tablename__ = "page_rating_item"

    rating_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("page_rating.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
