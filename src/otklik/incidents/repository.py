"""Every query of incidents: the incidents, their links, timeline, updates and thresholds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.case import Case, CaseMessage
from otklik.models.incident import (
    ACTIVE_INCIDENT_STATUSES,
    Incident,
    IncidentCase,
    IncidentChannel,
    IncidentEntry,
    IncidentMessage,
    IncidentThreshold,
    IncidentUpdate,
)
from otklik.models.message import Message, MessageEnrichment
from otklik.paging import page_query


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """The columns of a stored message the live detector reads (not its text or raw form)."""

    id: int
    created_at: datetime
    author_key: str | None
    author_id: str | None
    region_code: str | None


@dataclass(frozen=True, slots=True)
class StreamEnrichment:
    """The columns of an enrichment the live detector reads; ``result`` holds only the
    urgency stage's answer and its explanation (the rest of the stored result is not read)."""

    region_code: str | None
    topic: str | None
    urgency: str | None
    municipality_id: int | None
    settlement_id: int | None
    street: str | None
    duplicate_of_id: int | None
    result: dict[str, Any]


def stream_region(message: StreamMessage, enrichment: StreamEnrichment) -> str | None:
    """The region whose window a message is in: its own (the channel's), else the one its
    enrichment found in the text."""
    return message.region_code or enrichment.region_code


def _in_region(region_code: str | None) -> ColumnElement[bool]:
    """:func:`stream_region` in SQL (both branches use an index on the message's region)."""
    if region_code is None:
        return and_(Message.region_code.is_(None), MessageEnrichment.region_code.is_(None))
    return or_(Message.region_code == region_code,
               and_(Message.region_code.is_(None), MessageEnrichment.region_code == region_code))


def _stream_columns() -> Select[*tuple[Any, ...]]:
    e = MessageEnrichment
    return (select(Message.id, Message.created_at, Message.author_key, Message.author_id,
                   Message.region_code, e.region_code, e.topic, e.urgency, e.municipality_id,
                   e.settlement_id, e.street, e.duplicate_of_id, e.result["urgency"],
                   e.result[("explain", "urgency")])
            .join(e, e.message_id == Message.id))


def _stream_row(row: Any) -> tuple[StreamMessage, StreamEnrichment]:
    (message_id, created_at, author_key, author_id, region, enriched_region, topic, urgency,
     municipality_id, settlement_id, street, duplicate_of_id, answer, explain) = row
    return (StreamMessage(message_id, created_at, author_key, author_id, region),
            StreamEnrichment(enriched_region, topic, urgency, municipality_id, settlement_id,
                             street, duplicate_of_id,
                             result={"urgency": answer, "explain": {"urgency": explain}}))


def _case_ids_of(incident_id: int) -> CompoundSelect[Any]:
    """The incident's cases as a subquery: linked ones and those holding its messages."""
    return select(IncidentCase.case_id).where(IncidentCase.incident_id == incident_id).union(
        select(CaseMessage.case_id).join(
            IncidentMessage, IncidentMessage.message_id == CaseMessage.message_id)
        .where(IncidentMessage.incident_id == incident_id))


class IncidentRepository:
    """Incidents and everything tied to them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- incidents -------------------------------------------------------------------------
    def get(self, incident_id: int) -> Incident | None:
        """An incident by id, whatever the scope (jobs)."""
        return self.session.get(Incident, incident_id)

    def visible(self, scope: Scope, incident_id: int) -> Incident | None:
        """An incident the scope sees, else None."""
        return self.session.scalars(select(Incident).where(
            Incident.id == incident_id, scope.incident_filter())).first()

    def add(self, incident: Incident) -> Incident:
        """Insert; the id is assigned."""
        self.session.add(incident)
        self.session.flush()
        return incident

    def by_signal(self, key: str) -> Incident | None:
        """The incident a signal opened."""
        return self.session.scalars(select(Incident).where(Incident.signal_key == key)).first()

    def active_in_regions(self, region_codes: Iterable[str | None]
                          ) -> dict[str | None, list[Incident]]:
        """The incidents still being run in each of these regions (None: no region), oldest
        first, in one query; a region without one is absent."""
        wanted = {code or None for code in region_codes}
        named = sorted(code for code in wanted if code is not None)
        where = [Incident.region_code.in_(named)] if named else []
        if None in wanted:
            where.append(Incident.region_code.is_(None))
        found: dict[str | None, list[Incident]] = {}
        if not where:
            return found
        for incident in self.session.scalars(
                select(Incident).where(Incident.status.in_(ACTIVE_INCIDENT_STATUSES),
                                       or_(*where)).order_by(Incident.id)):
            found.setdefault(incident.region_code or None, []).append(incident)
        return found

    def page(self, scope: Scope, *, status: str | None = None, region_code: str | None = None,
             limit: int = 50, offset: int = 0) -> tuple[Sequence[Incident], int]:
        """Incidents in the scope, newest first, and how many there are."""
        query: Select[Any] = select(Incident).where(scope.incident_filter())
        if status:
            query = query.where(Incident.status == status)
        if region_code:
            query = query.where(Incident.region_code == region_code)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Incident.started_at.desc(), Incident.id.desc())
                                    .limit(limit).offset(offset)).all()
        return rows, total

    def count_by_status(self) -> dict[str, int]:
        """Incidents per status (``otklik stats``)."""
        return {str(status): n for status, n in self.session.execute(
            select(Incident.status, func.count()).group_by(Incident.status))}

    # -- links -----------------------------------------------------------------------------
    def linked_message_ids(self, incident_id: int) -> set[int]:
        """Ids of the incident's messages."""
        return set(self.session.scalars(select(IncidentMessage.message_id).where(
            IncidentMessage.incident_id == incident_id)))

    def add_messages(self, incident_id: int, message_ids: Iterable[int]) -> list[int]:
        """Link messages (those already linked are skipped); returns the new ones."""
        have = self.linked_message_ids(incident_id)
        new = sorted(set(message_ids) - have)
        for message_id in new:
            self.session.add(IncidentMessage(incident_id=incident_id, message_id=message_id))
        self.session.flush()
        return new

    def linked_case_ids(self, incident_id: int) -> set[int]:
        """Ids of the incident's cases: those linked, and those holding its messages (a case
        built by its own job at the same moment as the incident is the incident's too)."""
        return set(self.session.scalars(_case_ids_of(incident_id)))

    def _explicit_case_ids(self, incident_id: int) -> set[int]:
        return set(self.session.scalars(select(IncidentCase.case_id).where(
            IncidentCase.incident_id == incident_id)))

    def add_cases(self, incident_id: int, case_ids: Iterable[int]) -> list[int]:
        """Link cases (those already linked are skipped); returns the new ones."""
        new = sorted(set(case_ids) - self._explicit_case_ids(incident_id))
        for case_id in new:
            self.session.add(IncidentCase(incident_id=incident_id, case_id=case_id))
        self.session.flush()
        return new

    def incidents_of_messages(self, message_ids: Sequence[int]) -> set[int]:
        """The incidents these messages are linked to."""
        if not message_ids:
            return set()
        return set(self.session.scalars(select(IncidentMessage.incident_id).where(
            IncidentMessage.message_id.in_(list(message_ids)))))

    def messages(self, incident_id: int, *, after: datetime | None = None,
                 limit: int = 200) -> Sequence[tuple[Message, MessageEnrichment | None]]:
        """The incident's messages, newest first (``after``: only those linked later)."""
        query = (select(Message, MessageEnrichment)
                 .join(IncidentMessage, IncidentMessage.message_id == Message.id)
                 .outerjoin(MessageEnrichment, MessageEnrichment.message_id == Message.id)
                 .where(IncidentMessage.incident_id == incident_id))
        if after is not None:
            query = query.where(IncidentMessage.added_at > after)
        rows = self.session.execute(query.order_by(Message.created_at.desc(), Message.id.desc())
                                    .limit(limit)).all()
        return [(m, e) for m, e in rows]

    def count_messages(self, incident_id: int) -> int:
        """How many messages the incident holds."""
        return self.session.scalar(select(func.count()).where(
            IncidentMessage.incident_id == incident_id)) or 0

    def cases(self, scope: Scope, incident_id: int) -> Sequence[Case]:
        """The incident's cases the scope sees."""
        return self.session.scalars(
            select(Case).where(Case.id.in_(_case_ids_of(incident_id)), scope.case_filter())
            .order_by(Case.id)).all()

    def move_links(self, source_id: int, target_id: int) -> tuple[int, int]:
        """Link the source incident's messages and cases to the target too."""
        messages = self.add_messages(target_id, self.linked_message_ids(source_id))
        cases = self.add_cases(target_id, self._explicit_case_ids(source_id))
        return len(messages), len(cases)

    # -- window of the stream --------------------------------------------------------------
    def stream(self, region_code: str | None, since: datetime, limit: int,
               before: datetime | None = None
               ) -> Sequence[tuple[StreamMessage, StreamEnrichment]]:
        """The region's enriched messages created since ``since`` (and before ``before``
        when given; the latest ``limit``; all of those created at the oldest one's time, so
        a tie is never cut), oldest first, as the few columns the detector reads: a rebuild
        replays thousands of them, so neither the texts nor the stored results are loaded
        whole. The region of a message is its own, else the one its enrichment found
        (:func:`stream_region`)."""
        def where(since: datetime) -> Select[Any]:
            query = _stream_columns().where(Message.created_at >= since,
                                            Message.deleted_at.is_(None),
                                            _in_region(region_code))
            if before is not None:
                query = query.where(Message.created_at < before)
            return query.order_by(Message.created_at.desc(), Message.id.desc())

        rows = self.session.execute(where(since).limit(limit)).all()
        if len(rows) >= limit:  # a cut window starts at its oldest message's time, whole
            rows = self.session.execute(where(rows[-1][1])).all()
        return [_stream_row(row) for row in reversed(rows)]

    def stream_rows(self, message_ids: Sequence[int]
                    ) -> Sequence[tuple[StreamMessage, StreamEnrichment]]:
        """These messages (those enriched and not deleted) as the detector's columns, in
        (created_at, id) order."""
        out: list[tuple[StreamMessage, StreamEnrichment]] = []
        ids = sorted(set(message_ids))
        for start in range(0, len(ids), 1000):
            out.extend(_stream_row(row) for row in self.session.execute(
                _stream_columns().where(Message.id.in_(ids[start:start + 1000]),
                                        Message.deleted_at.is_(None))))
        out.sort(key=lambda r: (r[0].created_at, r[0].id))
        return out

    def stream_digest(self, region_code: str | None, since: datetime) -> tuple[int, int]:
        """(how many, the sum of their ids) of the messages :meth:`stream` would read (without
        its limit): a window kept in memory holds exactly these, or it is stale."""
        count, total = self.session.execute(
            select(func.count(), func.coalesce(func.sum(Message.id), 0))
            .select_from(Message).join(MessageEnrichment,
                                       MessageEnrichment.message_id == Message.id)
            .where(Message.created_at >= since, Message.deleted_at.is_(None),
                   _in_region(region_code))).one()
        return int(count), int(total)

    def stream_digests(self, wanted: Iterable[tuple[str | None, datetime]]
                       ) -> dict[tuple[str | None, datetime], tuple[int, int]]:
        """:meth:`stream_digest` of each (region, since), in one statement."""
        pairs = sorted(set(wanted), key=lambda p: (p[0] or "", p[1]))
        if not pairs:
            return {}
        parts = [select(literal(n).label("n"), func.count().label("count"),
                        func.coalesce(func.sum(Message.id), 0).label("total"))
                 .select_from(Message).join(MessageEnrichment,
                                            MessageEnrichment.message_id == Message.id)
                 .where(Message.created_at >= since, Message.deleted_at.is_(None),
                        _in_region(region_code))
                 for n, (region_code, since) in enumerate(pairs)]
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        return {pairs[int(n)]: (int(count), int(total))
                for n, count, total in self.session.execute(query)}

    def enriched_since(self, since: datetime) -> list[tuple[int, datetime]]:
        """(message id, enriched_at) of every enrichment made after ``since`` by any worker
        (ix_message_enrichment_enriched_at)."""
        e = MessageEnrichment
        return [(int(i), at) for i, at in self.session.execute(
            select(e.message_id, e.enriched_at).where(e.enriched_at > since))]

    def last_enriched_at(self) -> datetime | None:
        """When the newest enrichment was made."""
        return self.session.scalar(select(func.max(MessageEnrichment.enriched_at)))

    # -- timeline and updates --------------------------------------------------------------
    def add_entry(self, entry: IncidentEntry) -> IncidentEntry | None:
        """Add a timeline entry; None when one with its dedup key is already there."""
        if entry.dedup_key and self.session.scalar(select(exists().where(
                IncidentEntry.incident_id == entry.incident_id,
                IncidentEntry.dedup_key == entry.dedup_key))):
            return None
        self.session.add(entry)
        self.session.flush()
        return entry

    def timeline(self, incident_id: int) -> Sequence[IncidentEntry]:
        """The timeline in time order."""
        return self.session.scalars(self._timeline(incident_id)).all()

    def timeline_page(self, incident_id: int, limit: int, offset: int
                      ) -> tuple[Sequence[IncidentEntry], int]:
        """A page of the timeline in time order, and how many steps it has."""
        return page_query(self.session, self._timeline(incident_id), limit, offset)

    @staticmethod
    def _timeline(incident_id: int) -> Select[IncidentEntry]:
        return (select(IncidentEntry).where(IncidentEntry.incident_id == incident_id)
                .order_by(IncidentEntry.at, IncidentEntry.id))

    def add_update(self, update: IncidentUpdate) -> IncidentUpdate:
        """Insert a public update."""
        self.session.add(update)
        self.session.flush()
        return update

    def updates(self, incident_id: int) -> Sequence[IncidentUpdate]:
        """Public updates, newest first."""
        return self.session.scalars(select(IncidentUpdate).where(
            IncidentUpdate.incident_id == incident_id)
            .order_by(IncidentUpdate.created_at.desc(), IncidentUpdate.id.desc())).all()

    # -- thresholds ------------------------------------------------------------------------
    def thresholds(self) -> Sequence[IncidentThreshold]:
        """Every stored override."""
        return self.session.scalars(select(IncidentThreshold).order_by(
            IncidentThreshold.region_code, IncidentThreshold.topic)).all()

    def threshold(self, region_code: str, topic: str) -> IncidentThreshold | None:
        """The override of one region and topic ('' for any)."""
        return self.session.scalars(select(IncidentThreshold).where(
            IncidentThreshold.region_code == region_code,
            IncidentThreshold.topic == topic)).first()

    # -- channels of public updates --------------------------------------------------------
    def channels(self, region_code: str | None) -> Sequence[IncidentChannel]:
        """The enabled channels of a region's public updates."""
        return self.session.scalars(select(IncidentChannel).where(
            IncidentChannel.region_code == (region_code or ""),
            IncidentChannel.enabled.is_(True)).order_by(IncidentChannel.id)).all()

    def add_channel(self, channel: IncidentChannel) -> IncidentChannel:
        """Insert a channel of public updates."""
        self.session.add(channel)
        self.session.flush()
        return channel
