"""Storing what arrives: once per (source, source_id), edits kept, deletions marked.

The store never waits for enrichment: new message ids are queued after commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from otklik.channels.connectors.normalize import clean_text, escape_surrogates
from otklik.channels.schemas import IncomingMessage
from otklik.config import get_settings
from otklik.db.base import utcnow
from otklik.intake.repository import MessageRepository
from otklik.models.message import MAX_TEXT_LENGTH, Message, MessageRevision
from otklik.pd.pseudonyms import author_key as author_key  # where the pseudonym is made


@dataclass
class StoreSummary:
    """What one store call did."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    updated: int = 0
    deleted: int = 0
    #: Messages stored or edited by this call: both need (re-)enrichment.
    to_enrich: list[int] = field(default_factory=list)

    def add(self, other: StoreSummary) -> None:
        """Accumulate another batch's summary (ids are not kept: memory stays flat)."""
        self.received += other.received
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.deleted += other.deleted


def content_hash(text: str) -> str:
    """SHA-256 of a text, to tell an edit from a repeat."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


#: Text columns that may carry what a platform sent verbatim (``text`` is cleaned anyway).
_VERBATIM_COLUMNS = ("source_id", "parent_source_id", "owner_id", "post_id", "comment_id",
                     "channel", "author_id", "author_name", "url")


def _prepare(item: IncomingMessage, connector_id: int | None, now: datetime) -> dict[str, Any]:
    """The row to store. PostgreSQL cannot hold NUL in text and no database holds a lone UTF-16
    surrogate: they become the visible ``\\u0000`` and ``\\ud800`` (JSON columns get the same
    treatment from the engine's JSON serializer), so one odd character never fails a batch."""
    row = _row(item, connector_id, now)
    for name in _VERBATIM_COLUMNS:
        value = row[name]
        if value and "\x00" in value:
            value = row[name] = value.replace("\x00", "\\u0000")
        if value:
            row[name] = escape_surrogates(value)
    return row


def _row(item: IncomingMessage, connector_id: int | None, now: datetime) -> dict[str, Any]:
    raw = dict(item.raw)
    text = escape_surrogates(clean_text(item.text or ""))
    original_length = int(raw.get("_original_length") or len(text))
    truncated = bool(raw.get("_truncated")) or len(text) > MAX_TEXT_LENGTH
    if len(text) > MAX_TEXT_LENGTH:
        raw.setdefault("_original_text", item.text)
        text = text[:MAX_TEXT_LENGTH]
    elif text != item.text and "_original_text" not in raw and item.text:
        raw["_original_text"] = escape_surrogates(item.text)
    return {
        "source": item.source.value,
        "source_id": item.source_id,
        "parent_source_id": item.parent_source_id,
        "owner_id": item.owner_id,
        "post_id": item.post_id,
        "comment_id": item.comment_id,
        "channel": item.channel,
        "connector_id": connector_id,
        "region_code": item.region,
        "author_id": item.author_id,
        "author_key": author_key(item.source.value, item.author_id),
        "author_name": item.author_name,
        "text": text,
        "text_length": original_length,
        "text_truncated": truncated,
        "content_hash": content_hash(text),
        "url": item.url,
        "attachments": [a.model_dump(mode="json") for a in item.attachments],
        "lat": item.lat,
        "lon": item.lon,
        "reach": item.reach.model_dump(mode="json", exclude_none=True) if item.reach else None,
        "raw": raw,
        "created_at": item.created_at,
        "received_at": now,
        "edited_at": item.edited_at,
        "deleted_at": now if item.deleted else None,
        "enrich_status": "pending",
    }


def store_messages(
    session: Session,
    items: Iterable[IncomingMessage],
    *,
    connector_id: int | None = None,
    enqueue: bool = True,
    archived: bool = False,
) -> StoreSummary:
    """Store a batch idempotently; queue the new ones for enrichment after commit.

    The same message twice is stored once; a changed text is an edit (the old text goes to
    the revisions); a deletion marks the message and erases nothing.
    """
    summary = StoreSummary()
    by_source: dict[str, dict[str, dict[str, Any]]] = {}
    now = utcnow()
    for item in items:
        summary.received += 1
        row = _prepare(item, connector_id, now)
        row["archived"] = archived
        batch = by_source.setdefault(row["source"], {})
        if row["source_id"] in batch:
            summary.duplicates += 1
        batch[row["source_id"]] = row
    repo = MessageRepository(session)
    for source, rows in by_source.items():
        existing = repo.existing(source, list(rows))
        fresh = [row for sid, row in rows.items() if sid not in existing]
        inserted = repo.insert_new(fresh)
        summary.stored += len(inserted)
        summary.duplicates += len(fresh) - len(inserted)
        summary.to_enrich.extend(i for i, _, _ in inserted)
        changed: list[int] = []
        for sid, message in existing.items():
            outcome = _apply_update(repo, message, rows[sid])
            if outcome == "duplicate":
                summary.duplicates += 1
            elif outcome == "deleted":
                summary.deleted += 1
            else:
                summary.updated += 1
                changed.append(message.id)
        repo.link_parents(
            source, [(i, sid, rows[sid]["parent_source_id"]) for i, _, sid in inserted])
        summary.to_enrich.extend(changed)
    if enqueue and summary.to_enrich:
        queue_enrichment(session, summary.to_enrich)
    return summary


def _apply_update(repo: MessageRepository, message: Message, row: dict[str, Any]) -> str:
    if row["deleted_at"] is not None:
        if message.deleted_at is None:
            message.deleted_at = row["deleted_at"]
            return "deleted"
        return "duplicate"
    if row["content_hash"] == message.content_hash:
        if row["reach"] and row["reach"] != message.reach:
            message.reach = row["reach"]  # fresh audience figures are not an edit
        return "duplicate"
    repo.add_revision(MessageRevision(
        message_id=message.id, text=message.text, content_hash=message.content_hash,
        raw=message.raw, valid_until=row["edited_at"] or utcnow(),
    ))
    for name in ("text", "text_length", "text_truncated", "content_hash", "raw", "attachments"):
        setattr(message, name, row[name])
    message.edited_at = row["edited_at"] or utcnow()
    message.enrich_status = "pending"
    return "updated"


def queue_enrichment(session: Session, message_ids: Sequence[int]) -> None:
    """Enqueue enrichment of these messages once the session commits."""
    from otklik.intake.tasks import enrich_messages
    from otklik.queue import enqueue_after_commit

    ids = list(message_ids)
    size = get_settings().enrich_batch
    for start in range(0, len(ids), size):
        enqueue_after_commit(session, enrich_messages, ids[start:start + size])


def queue_pending(session: Session, limit: int = 1_000_000) -> int:
    """Queue every message still waiting for enrichment (after a restart or a deferred import)."""
    ids = MessageRepository(session).pending_ids(limit)
    queue_enrichment(session, ids)
    return len(ids)
