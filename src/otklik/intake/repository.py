"""Every query of messages and the places of channels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, insert, inspect, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from otklik.accounts.scope import Scope
from otklik.db import appends
from otklik.db.lists import among
from otklik.intake.place_context import FORM_SETTLEMENT
from otklik.models.case import CaseMessage
from otklik.models.message import (
    ChannelPlace,
    Message,
    MessageEnrichment,
    MessageRevision,
)
from otklik.models.territory import Territory

#: What enrichment reads of a message (:meth:`MessageRepository.to_enrich`).
_ENRICH_COLUMNS = (Message.id, Message.source, Message.parent_source_id, Message.parent_id,
                   Message.channel, Message.region_code, Message.text, Message.enrich_status)


class ToEnrich(Protocol):
    """What enrichment reads of a message: a stored :class:`Message`, or a row of the columns
    :meth:`MessageRepository.to_enrich` reads."""

    @property
    def id(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def parent_source_id(self) -> str | None: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def region_code(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def enrich_status(self) -> str: ...


class MessageRepository:
    """Messages and their revisions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def existing(self, source: str, source_ids: Sequence[str]) -> dict[str, Message]:
        """Stored messages of one source among the given source ids."""
        if not source_ids:
            return {}
        rows = self.session.scalars(
            select(Message).where(Message.source == source,
                                  Message.source_id.in_(list(source_ids)))
        )
        return {m.source_id: m for m in rows}

    def insert_new(self, rows: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
        """Insert rows of one source, skipping any (source, source_id) stored meanwhile.

        A plain executemany of INSERT … ON CONFLICT DO NOTHING (pipelined by psycopg), then
        one SELECT for the ids: far cheaper than RETURNING over a multi-row VALUES. Returns
        (id, source, source_id) of the given rows now stored; the caller has excluded the
        ones that existed before, so a concurrent writer's row may be counted twice, which
        only means its (idempotent) enrichment is queued twice.
        """
        if not rows:
            return []
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        table = cast(Table, Message.__table__)
        statement = dialect_insert(table).on_conflict_do_nothing(
            index_elements=["source", "source_id"]
        )
        # Core, not the ORM bulk path: the rows are complete, and this is the hot loop.
        self.session.connection().execute(statement, list(rows))
        source = rows[0]["source"]
        ids = self.session.execute(
            select(Message.id, Message.source_id).where(
                Message.source == source,
                Message.source_id.in_([r["source_id"] for r in rows]),
            )
        ).all()
        return [(row[0], source, row[1]) for row in ids]

    def add_revision(self, revision: MessageRevision) -> None:
        """Keep an earlier text."""
        self.session.add(revision)

    def link_parents(self, source: str, rows: Sequence[tuple[int, str, str | None]]) -> None:
        """Point comments at their posts when both are stored, whichever came first.

        ``rows`` are (id, source_id, parent_source_id) of messages just stored.
        """
        children = [(i, parent) for i, _, parent in rows if parent]
        if children:
            parents = dict(self.session.execute(
                select(Message.source_id, Message.id).where(
                    Message.source == source,
                    Message.source_id.in_(sorted({p for _, p in children})))
            ).all())
            updates = [{"id": i, "parent_id": parents[p]} for i, p in children if p in parents]
            if updates:
                self.session.execute(update(Message), updates)
        if not rows:
            return
        by_source_id = {sid: i for i, sid, _ in rows}
        waiting = self.session.execute(
            select(Message.id, Message.parent_source_id).where(
                Message.source == source,
                Message.parent_id.is_(None),
                Message.parent_source_id.is_not(None),
                Message.parent_source_id.in_(sorted(by_source_id)),
            )
        ).all()
        updates = [{"id": i, "parent_id": by_source_id[p]} for i, p in waiting if p is not None]
        if updates:
            self.session.execute(update(Message), updates)

    def enrichments(self, message_ids: Sequence[int]) -> dict[int, MessageEnrichment]:
        """Stored enrichments of these messages (those that have one), in one query."""
        ids = sorted({i for i in message_ids if i is not None})
        if not ids:
            return {}
        return {e.message_id: e for e in self.session.scalars(
            select(MessageEnrichment).where(among(self.session, MessageEnrichment.message_id,
                                                  ids)))}

    def insert_enrichments(self, rows: Sequence[dict[str, Any]]) -> None:
        """New enrichment rows (every column given), now, in one statement: on PostgreSQL a
        ``COPY``, else one executemany INSERT (:func:`otklik.db.appends.insert_rows`)."""
        appends.insert_rows(self.session.connection(),
                            cast(Table, MessageEnrichment.__table__), list(rows))

    def mark_enriched(self, messages: Sequence[ToEnrich]) -> None:
        """Mark these messages enriched (``done``): see :meth:`set_enrich_status`."""
        self.set_enrich_status(messages, "done")

    def set_enrich_status(self, messages: Sequence[ToEnrich], status: str) -> None:
        """Set the enrichment status of these messages (objects, or rows of :meth:`to_enrich`):
        one UPDATE for those not at it yet (instead of one each at the flush), and an object
        of them that the session holds says so as if it had been its own change.

        In a SAVEPOINT, and for objects not flushed yet, a held object is changed as the ORM
        changes it: a rolled-back SAVEPOINT expires only the objects it changed, and these
        must be among them (a row not held has nothing to expire: the UPDATE is rolled back
        with the SAVEPOINT)."""
        nested = self.session.in_nested_transaction()
        held_by_id = self.session.identity_map
        changed: list[Message] = []
        told: list[Message] = []
        ids: list[int] = []
        for message in messages:
            if message.enrich_status == status:
                continue
            held = (message if isinstance(message, Message)
                    else held_by_id.get(identity_key(Message, message.id)))
            if held is not None and (nested or not inspect(held).has_identity):
                changed.append(held)
                continue
            ids.append(message.id)
            if held is not None:
                told.append(held)
        for held in changed:
            held.enrich_status = status
        if not ids:
            return
        table = cast(Table, Message.__table__)
        connection = self.session.connection()
        for start in range(0, len(ids), 1000):
            connection.execute(update(table)
                               .where(among(self.session, table.c.id, ids[start:start + 1000]))
                               .values(enrich_status=status))
        for held in told:
            set_committed_value(held, "enrich_status", status)

    def dedup_window(self, limit: int) -> list[tuple[int, str, int | None, datetime]]:
        """(id, dedup key, duplicate_of id, enriched_at) of the last ``limit`` enriched
        messages that have a key, in id order (the primary key read backwards)."""
        e = MessageEnrichment
        rows = self.session.execute(
            select(e.message_id, e.dedup_key, e.duplicate_of_id, e.enriched_at)
            .where(e.dedup_key.is_not(None)).order_by(e.message_id.desc()).limit(limit)).all()
        return [(row[0], row[1] or "", row[2], row[3]) for row in reversed(rows)]

    def enriched_ids_since(self, since: datetime, floor: int | None = None,
                           floor_since: datetime | None = None) -> list[int]:
        """Ids of messages enriched after ``since`` by anyone (ix_message_enrichment_enriched_at;
        ids only, so that re-reading rows already known costs little). Below id ``floor``
        only those enriched after ``floor_since``."""
        e = MessageEnrichment
        postgres = self.session.get_bind().dialect.name == "postgresql"
        # on PostgreSQL one array, not a row per id: each look re-reads the ids of the
        # overlap, thousands in a bulk load
        query = select(func.array_agg(e.message_id) if postgres else e.message_id).where(
            e.enriched_at > since)
        if floor is not None and floor_since is not None:
            query = query.where(or_(e.message_id >= floor, e.enriched_at > floor_since))
        if postgres:
            return list(self.session.scalar(query) or ())
        return list(self.session.scalars(query))

    def dedup_rows(self, message_ids: Sequence[int]
                   ) -> list[tuple[int, str, int | None, datetime]]:
        """The :meth:`dedup_window` rows of these messages (those with a key), in id order."""
        e = MessageEnrichment
        out: list[tuple[int, str, int | None, datetime]] = []
        ids = sorted(set(message_ids))
        for start in range(0, len(ids), 1000):
            rows = self.session.execute(
                select(e.message_id, e.dedup_key, e.duplicate_of_id, e.enriched_at)
                .where(among(self.session, e.message_id, ids[start : start + 1000]),
                       e.dedup_key.is_not(None))
                .order_by(e.message_id)).all()
            out.extend((row[0], row[1] or "", row[2], row[3]) for row in rows)
        return out

    def last_enriched_at(self) -> datetime | None:
        """When the newest enrichment was made (the end of the index)."""
        return self.session.scalar(select(func.max(MessageEnrichment.enriched_at)))

    def get(self, message_id: int) -> Message | None:
        """A message by id."""
        return self.session.get(Message, message_id)

    def by_ids(self, ids: Sequence[int]) -> Sequence[Message]:
        """Messages by ids, in id order."""
        return self.session.scalars(
            select(Message).where(Message.id.in_(list(ids))).order_by(Message.id)
        ).all()

    def to_enrich(self, ids: Sequence[int]) -> tuple[Sequence[ToEnrich], dict[int, Any]]:
        """Messages by ids, in id order, as rows of the columns enrichment reads, and the
        settlement field of each one's form (``raw.fields.settlement``: the one thing of
        ``raw`` it reads) where it has one.

        Decoding every column (``raw``, ``attachments``, ``reach`` are JSON) was most of a
        batch's read; building, tracking and releasing an ORM object for each message most of
        the rest (docs/performance.md, session 15). The query is the ORM's: what the session
        has changed of them is flushed first."""
        settlement = Message.raw[FORM_SETTLEMENT].label("settlement")
        rows = self.session.execute(
            select(*_ENRICH_COLUMNS, settlement)
            .where(among(self.session, Message.id, list(ids))).order_by(Message.id)).all()
        return (cast(Sequence[ToEnrich], rows),
                {row.id: row.settlement for row in rows if row.settlement is not None})

    def existing_ids(self, ids: Sequence[int]) -> set[int]:
        """Which of these message ids are stored (ids only: no rows loaded)."""
        return set(self.session.scalars(select(Message.id).where(
            among(self.session, Message.id, list(ids)))))

    def in_cases(self, message_ids: Sequence[int]) -> set[int]:
        """Which of these messages are in a case."""
        return set(self.session.scalars(
            select(CaseMessage.message_id).where(CaseMessage.message_id.in_(list(message_ids)))
        ))

    def pending_ids(self, limit: int) -> list[int]:
        """Messages still waiting for enrichment, oldest first."""
        return list(self.session.scalars(
            select(Message.id).where(Message.enrich_status == "pending")
            .order_by(Message.id).limit(limit)
        ))

    def visible(self, scope: Scope, message_id: int) -> Message | None:
        """A message by id if the scope sees it (:meth:`Scope.message_filter`)."""
        return self.session.scalars(select(Message).where(
            Message.id == message_id, scope.message_filter())).first()

    def page(self, scope: Scope, *, region_code: str | None = None, source: str | None = None,
             limit: int = 50, offset: int = 0) -> tuple[Sequence[Message], int]:
        """A page of messages in the scope, newest first, and the total."""
        query = select(Message).where(scope.message_filter())
        if region_code:
            query = query.where(Message.region_code == region_code)
        if source:
            query = query.where(Message.source == source)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def revisions(self, message_id: int) -> Sequence[MessageRevision]:
        """Earlier texts of a message, oldest first."""
        return self.session.scalars(
            select(MessageRevision).where(MessageRevision.message_id == message_id)
            .order_by(MessageRevision.id)
        ).all()

    def count_by_source(self) -> dict[str, int]:
        """How many messages each source brought."""
        rows = self.session.execute(
            select(Message.source, func.count()).group_by(Message.source)
        ).all()
        return {source: count for source, count in rows}

    def count_by_status(self) -> dict[str, int]:
        """How many messages are pending, done or failed in enrichment."""
        rows = self.session.execute(
            select(Message.enrich_status, func.count()).group_by(Message.enrich_status)
        ).all()
        return {status: count for status, count in rows}

    def refresh_statistics(self) -> None:
        """Let PostgreSQL's planner see how big the table has grown (during a bulk import the
        autovacuum may lag, and a planner that still thinks the table is empty scans it)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("ANALYZE message"))

    def bulk_insert_plain(self, rows: Sequence[dict[str, Any]]) -> None:
        """A plain batched INSERT (the benchmark's floor; not used by the product)."""
        self.session.execute(insert(Message), list(rows))


class ChannelPlaceRepository:
    """Channels that speak for one place."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def places(self, channels: Sequence[str]) -> dict[str, Territory]:
        """The place of each of these channels that has one, in one query."""
        names = sorted({c for c in channels if c})
        if not names:
            return {}
        rows = self.session.execute(
            select(ChannelPlace.channel, Territory)
            .join(Territory, Territory.id == ChannelPlace.territory_id)
            .where(ChannelPlace.channel.in_(names))).all()
        return {channel: territory for channel, territory in rows}

    def all(self, scope: Scope) -> Sequence[tuple[ChannelPlace, Territory]]:
        """Every channel place in the scope's regions, by channel name."""
        query = (select(ChannelPlace, Territory)
                 .join(Territory, Territory.id == ChannelPlace.territory_id)
                 .order_by(ChannelPlace.channel))
        if not scope.all_regions:
            query = query.where(scope.region_filter(Territory.region_code))
        return [(row[0], row[1]) for row in self.session.execute(query).all()]

    def by_channel(self, channel: str) -> ChannelPlace | None:
        """The row of one channel."""
        return self.session.scalar(select(ChannelPlace).where(ChannelPlace.channel == channel))

    def add(self, row: ChannelPlace) -> ChannelPlace:
        """Insert and get an id."""
        self.session.add(row)
        self.session.flush()
        return row

    def delete(self, row: ChannelPlace) -> None:
        """Remove a channel's place."""
        self.session.delete(row)
        self.session.flush()

    def known_channels(self, region_codes: Sequence[str] | None, limit: int = 500
                       ) -> list[tuple[str, int]]:
        """Channels seen on messages, busiest first, with their message counts."""
        query = (select(Message.channel, func.count(Message.id))
                 .where(Message.channel.is_not(None))
                 .group_by(Message.channel).order_by(func.count(Message.id).desc())
                 .limit(limit))
        if region_codes is not None:
            query = query.where(Message.region_code.in_(list(region_codes)))
        return [(str(channel), int(count)) for channel, count in self.session.execute(query)]
