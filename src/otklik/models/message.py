"""Messages as received from every channel, their edit history and their enrichment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime

#: Integer ids that are BIGINT on PostgreSQL (country-scale volumes) and rowids on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")

#: Longest text kept in ``Message.text``; longer texts are cut and flagged.
MAX_TEXT_LENGTH = 20_000


class Message(Base):
    """One post, comment, e-mail or form entry, stored once per (source, source_id).

    ``raw`` keeps the payload exactly as received; ``text`` is normalized and at most
    :data:`MAX_TEXT_LENGTH` characters (``text_truncated`` tells). An edit moves the old
    text to :class:`MessageRevision`; a deletion at the source sets ``deleted_at`` and
    erases nothing.
    """

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(255))
    parent_source_id: Mapped[str | None] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[str | None] = mapped_column(String(64))
    post_id: Mapped[str | None] = mapped_column(String(64))
    comment_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(255))
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connector.id", ondelete="SET NULL"), index=True
    )
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    author_id: Mapped[str | None] = mapped_column(String(255))
    author_key: Mapped[str | None] = mapped_column(String(32), index=True)
    author_name: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text, default="")
    text_length: Mapped[int] = mapped_column(Integer, default=0)
    text_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(1000))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    reach: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enrich_status: Mapped[str] = mapped_column(String(16), default="pending")
    #: A history load (last year's archive for baselines and counts): enriched and counted,
    #: never turned into cases, and never re-queued for one by the reconciler.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_message_created_at", "created_at"),
        Index("ix_message_region_created", "region_code", "created_at"),
        # Comments still waiting for their post: a small partial index keeps linking cheap.
        Index(
            "ix_message_orphans", "source", "parent_source_id",
            postgresql_where=sql_text("parent_id IS NULL AND parent_source_id IS NOT NULL"),
            sqlite_where=sql_text("parent_id IS NULL AND parent_source_id IS NOT NULL"),
        ),
        # Messages whose enrichment is not done (pending or failed): a few between batches,
        # found by the reconciler and `otklik check` without reading the whole table.
        Index(
            "ix_message_unfinished", "id",
            postgresql_where=sql_text("enrich_status <> 'done'"),
            sqlite_where=sql_text("enrich_status <> 'done'"),
        ),
    )


class MessageRevision(Base):
    """An earlier text of an edited message: nothing a resident wrote is lost."""

    __tablename__ = "message_revision"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Connector(Base):
    """A configured channel (a VK community, a bot, a mailbox) with its persisted cursor.

    ``config`` holds credentials; they never leave the server (the API shows them masked).
    """

    __tablename__ = "connector"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    messages_total: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChannelPlace(Base):
    """A channel that speaks for one place, e.g. a town's community ("Типичный Мичуринск").

    A message from it that names no place of its own is placed there (a street without a
    town is then the town's street); the territory stage's own findings always win.
    """

    __tablename__ = "channel_place"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(255), unique=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IntakeEvent(Base):
    """Something intake refused or failed on: a forged push, a connector error, a bad row."""

    __tablename__ = "intake_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connector.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class MessageEnrichment(Base):
    """What the language stages decided about a message (replayable from the message).

    The flat columns serve filters and analytics; ``result`` keeps the stages' record with
    its confidences and the part of their explanation a reader uses
    (:func:`otklik.intake.tasks.stored_result`).
    """

    __tablename__ = "message_enrichment"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    relevant: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    subtopic: Mapped[str | None] = mapped_column(String(64))
    topic_confidence: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str | None] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), index=True
    )
    settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL")
    )
    street: Mapped[str | None] = mapped_column(String(255))
    house: Mapped[str | None] = mapped_column(String(32))
    # Not indexed: nothing looks a row up by it (the near-duplicate stage compares keys in
    # memory and reads them by message id).
    dedup_key: Mapped[str | None] = mapped_column(String(192))
    # Indexed: a message's copies are looked up by it (fakes' spread, late originals).
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    model_version: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enriched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
