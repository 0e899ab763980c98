"""The registry of fakes: claims, their history, copies seen in the stream, suspects, and the
refutations published under copies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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

#: A fake's verdicts: suspected → checking → one of the four outcomes.
FAKE_STATUSES = ("suspected", "checking", "fake", "true", "partly_true", "unconfirmed")
#: A refutation's way to publication: written, sent for approval, approved by a second person.
REFUTATION_STATES = ("none", "draft", "on_approval", "approved")


class Fake(Base):
    """A claim of the registry: its text and key phrases, topic, place, verdict, and the
    official refutation (published only once a second person approved it)."""

    __tablename__ = "fake"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    claim: Mapped[str] = mapped_column(Text)
    key_phrases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    topic: Mapped[str | None] = mapped_column(String(64))
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="suspected", index=True)
    refutation_text: Mapped[str | None] = mapped_column(Text)
    refutation_url: Mapped[str | None] = mapped_column(String(1000))
    refutation_date: Mapped[date | None] = mapped_column(Date)
    refutation_state: Mapped[str] = mapped_column(String(16), default="none")
    refutation_author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    refutation_approver_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    refutation_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The number of the latest revision (:class:`FakeRevision`).
    version: Mapped[int] = mapped_column(Integer, default=1)


class FakeRevision(Base):
    """One change of a fake: who, when, what (field → [before, after])."""

    __tablename__ = "fake_revision"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fake_id: Mapped[int] = mapped_column(ForeignKey("fake.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    __table_args__ = (UniqueConstraint("fake_id", "number"),)


class FakeCopy(Base):
    """A message linked to a fake: a copy (spread) or a refutation seen in the wild (not
    spread). Reach is what the message's platform reported when it was matched."""

    __tablename__ = "fake_copy"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fake_id: Mapped[int] = mapped_column(ForeignKey("fake.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="copy")
    origin: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(255))
    author_key: Mapped[str | None] = mapped_column(String(32))
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    reposts: Mapped[int] = mapped_column(BigInteger, default=0)
    subscribers: Mapped[int] = mapped_column(BigInteger, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("fake_id", "message_id"),
        Index("ix_fake_copy_fake_posted", "fake_id", "posted_at"),
    )


class FakeSuspect(Base):
    """A text proposed for checking: a message spreading fast with an alarming claim and no
    official source, or a text a resident sent to the check service. Who asked is not kept."""

    __tablename__ = "fake_suspect"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    authors: Mapped[int] = mapped_column(Integer, default=0)
    asked: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    fake_id: Mapped[int | None] = mapped_column(ForeignKey("fake.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FakeReply(Base):
    """A refutation published (or to be) as a reply under one copy: once per (fake, copy)."""

    __tablename__ = "fake_reply"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fake_id: Mapped[int] = mapped_column(ForeignKey("fake.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    external_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("fake_id", "message_id"),)


class FakeRegistryState(Base):
    """One row: the registry's version, raised by every change of what is matched, so each
    process rebuilds its in-memory matcher only when the registry changed."""

    __tablename__ = "fake_registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
