"""Every query of the fakes registry: fakes, their history, copies, suspects, replies."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.fakes import (
    Fake,
    FakeCopy,
    FakeRegistryState,
    FakeReply,
    FakeRevision,
    FakeSuspect,
)
from otklik.models.message import Message, MessageEnrichment
from otklik.models.territory import Territory
from otklik.paging import page_query, page_rows

#: Matched against the stream: every verdict but "true" (a true claim has no copies to count).
MATCHED_STATUSES = ("suspected", "checking", "fake", "partly_true", "unconfirmed")
#: The one row of :class:`FakeRegistryState`.
STATE_ID = 1


class FakeRepository:
    """Fakes within a scope and everything linked to them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the registry ---------------------------------------------------------------------------

    def get(self, fake_id: int) -> Fake | None:
        """A fake by id (no scope check: services do that)."""
        return self.session.get(Fake, fake_id)

    def add(self, row: Any) -> Any:
        """Insert a row and get its id."""
        self.session.add(row)
        self.session.flush()
        return row

    def version(self) -> tuple[int, int, int]:
        """The registry's version, with the count of fakes and the sum of their revision
        numbers: a bump rolled back in one process and another committed in its place cannot
        pass for the same registry."""
        row = self.session.execute(select(
            select(FakeRegistryState.version).where(FakeRegistryState.id == STATE_ID)
            .scalar_subquery(),
            select(func.count()).select_from(Fake).scalar_subquery(),
            select(func.coalesce(func.sum(Fake.version), 0)).scalar_subquery())).one()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)

    def bump_version(self) -> None:
        """Raise the registry's version: every process's matcher is rebuilt on next use."""
        done = self.session.execute(update(FakeRegistryState).where(
            FakeRegistryState.id == STATE_ID).values(version=FakeRegistryState.version + 1))
        if not getattr(done, "rowcount", 0):
            self.session.add(FakeRegistryState(id=STATE_ID, version=1))
        self.session.flush()

    def matched(self) -> Sequence[tuple[int, str, str]]:
        """(id, region, claim) of every fake the stream is matched against."""
        return self.session.execute(select(Fake.id, Fake.region_code, Fake.claim).where(
            Fake.status.in_(MATCHED_STATUSES)).order_by(Fake.id)).all()

    def _conds(self, scope: Scope, region_code: str | None, status: str | None,
               q: str | None) -> builtins.list[ColumnElement[bool]]:
        conds = [scope.region_filter(Fake.region_code)]
        if region_code:
            conds.append(Fake.region_code == region_code)
        if status:
            conds.append(Fake.status == status)
        if q:
            conds.append(Fake.claim.ilike(f"%{q}%"))
        return conds

    def page(self, scope: Scope, *, region_code: str | None = None, status: str | None = None,
             q: str | None = None, limit: int = 50, offset: int = 0
             ) -> tuple[Sequence[Fake], int]:
        """A page of fakes (newest first) and the total."""
        conds = self._conds(scope, region_code, status, q)
        total = self.session.scalar(select(func.count()).select_from(Fake).where(*conds))
        rows = self.session.scalars(select(Fake).where(*conds).order_by(
            Fake.id.desc()).limit(limit).offset(offset)).all()
        return rows, int(total or 0)

    def refuted(self, region_code: str | None = None, limit: int = 200) -> Sequence[Fake]:
        """Fakes with an approved refutation (the public "myth or truth" page)."""
        query = select(Fake).where(Fake.refutation_state == "approved").order_by(
            Fake.refutation_approved_at.desc(), Fake.id.desc()).limit(limit)
        if region_code:
            query = query.where(Fake.region_code == region_code)
        return self.session.scalars(query).all()

    def revisions_page(self, fake_id: int, limit: int, offset: int
                       ) -> tuple[Sequence[FakeRevision], int]:
        """A page of a fake's history, newest first, and how many changes in all."""
        return page_query(self.session, select(FakeRevision).where(
            FakeRevision.fake_id == fake_id).order_by(FakeRevision.number.desc()),
            limit, offset)

    def revisions(self, fake_id: int) -> Sequence[FakeRevision]:
        """A fake's history, newest first."""
        return self.session.scalars(select(FakeRevision).where(
            FakeRevision.fake_id == fake_id).order_by(FakeRevision.number.desc())).all()

    def count(self) -> int:
        """All fakes."""
        return int(self.session.scalar(select(func.count()).select_from(Fake)) or 0)

    def count_copies(self) -> int:
        """All copies (refutations seen in the wild are not copies)."""
        return int(self.session.scalar(select(func.count()).select_from(FakeCopy).where(
            FakeCopy.kind == "copy")) or 0)

    # -- copies ---------------------------------------------------------------------------------

    def messages(self, ids: Sequence[int]) -> Sequence[Message]:
        """Messages by id (with their text, reach and raw payload)."""
        if not ids:
            return []
        return self.session.scalars(select(Message).where(Message.id.in_(list(ids)))).all()

    def message_texts(self, ids: Sequence[int]
                      ) -> builtins.list[tuple[int, str | None, str, str | None]]:
        """(id, region, text, the enrichment's urgency) of these messages, not deleted, in
        id order: what matching and the cheap test of a suspect read (not the raw payload)."""
        if not ids:
            return []
        rows = self.session.execute(
            select(Message.id, Message.region_code, Message.text, MessageEnrichment.urgency)
            .outerjoin(MessageEnrichment, MessageEnrichment.message_id == Message.id)
            .where(Message.id.in_(list(ids)), Message.deleted_at.is_(None))
            .order_by(Message.id))
        return [(int(i), region, text or "", urgency) for i, region, text, urgency in rows]

    def message_ids_after(self, after: int, limit: int) -> builtins.list[int]:
        """Ids of stored messages above ``after``, in order (a batch of a re-run)."""
        return list(self.session.scalars(select(Message.id).where(Message.id > after)
                                         .order_by(Message.id).limit(limit)))

    def linked(self, message_ids: Sequence[int]) -> set[tuple[int, int]]:
        """(fake, message) pairs already linked among these messages."""
        if not message_ids:
            return set()
        return set(self.session.execute(select(FakeCopy.fake_id, FakeCopy.message_id).where(
            FakeCopy.message_id.in_(list(message_ids)))).all())

    def copies(self, scope: Scope, fake_id: int, kind: str | None = None, limit: int = 200
               ) -> Sequence[tuple[FakeCopy, Message]]:
        """A fake's linked messages the scope sees, newest first."""
        rows = self.session.execute(self._copies(scope, fake_id, kind).limit(limit)).all()
        return [(c, m) for c, m in rows]

    def copies_page(self, scope: Scope, fake_id: int, kind: str | None, limit: int,
                    offset: int) -> tuple[list[tuple[FakeCopy, Message]], int]:
        """A page of a fake's linked messages the scope sees, newest first, and how many in
        all."""
        rows, total = page_rows(self.session, self._copies(scope, fake_id, kind), limit,
                                offset)
        return [(c, m) for c, m in rows], total

    @staticmethod
    def _copies(scope: Scope, fake_id: int, kind: str | None
                ) -> Select[FakeCopy, Message]:
        query = (select(FakeCopy, Message).join(Message, Message.id == FakeCopy.message_id)
                 .where(FakeCopy.fake_id == fake_id, scope.message_filter())
                 .order_by(FakeCopy.posted_at.desc(), FakeCopy.message_id.desc()))
        return query.where(FakeCopy.kind == kind) if kind else query

    def copy_rows(self, fake_ids: Sequence[int] | None, kind: str = "copy",
                  start: datetime | None = None, end: datetime | None = None
                  ) -> Sequence[tuple[int, str, str | None, int, datetime]]:
        """(fake, source, channel, reach, posted) of copies, for timelines and analytics."""
        query = select(FakeCopy.fake_id, FakeCopy.source, FakeCopy.channel, FakeCopy.reach,
                       FakeCopy.posted_at).where(FakeCopy.kind == kind)
        if fake_ids is not None:
            query = query.where(FakeCopy.fake_id.in_(list(fake_ids)))
        if start is not None:
            query = query.where(FakeCopy.posted_at >= start)
        if end is not None:
            query = query.where(FakeCopy.posted_at < end)
        return self.session.execute(query.order_by(FakeCopy.posted_at)).all()

    def totals(self, fake_ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
        """fake → (copies, reach, refutations seen in the wild)."""
        out = {i: (0, 0, 0) for i in fake_ids}
        if not fake_ids:
            return out
        rows = self.session.execute(
            select(FakeCopy.fake_id, FakeCopy.kind, func.count(),
                   func.coalesce(func.sum(FakeCopy.reach), 0))
            .where(FakeCopy.fake_id.in_(list(fake_ids)))
            .group_by(FakeCopy.fake_id, FakeCopy.kind))
        for fake_id, kind, n, reach in rows:
            copies, total, seen = out[fake_id]
            if kind == "copy":
                out[fake_id] = (int(n), int(reach), seen)
            else:
                out[fake_id] = (copies, total, seen + int(n))
        return out

    def scoped_fake_ids(self, scope: Scope, region_code: str | None = None,
                        topic: str | None = None) -> builtins.list[int]:
        """Ids of the fakes the scope sees."""
        conds = self._conds(scope, region_code, None, None)
        if topic:
            conds.append(Fake.topic == topic)
        return list(self.session.scalars(select(Fake.id).where(*conds)))

    def fakes_by_id(self, ids: Sequence[int]) -> dict[int, Fake]:
        """Fakes by id."""
        if not ids:
            return {}
        return {f.id: f for f in self.session.scalars(select(Fake).where(
            Fake.id.in_(list(ids))))}

    def territory_names(self, ids: set[int]) -> dict[int, str]:
        """Names of territories by id."""
        if not ids:
            return {}
        return dict(self.session.execute(select(Territory.id, Territory.name).where(
            Territory.id.in_(sorted(ids)))).all())

    # -- suspects -------------------------------------------------------------------------------

    def suspect_by_hash(self, text_hash: str) -> FakeSuspect | None:
        """A suspect by its text's hash."""
        return self.session.scalar(select(FakeSuspect).where(
            FakeSuspect.text_hash == text_hash))

    def suspect(self, suspect_id: int) -> FakeSuspect | None:
        """A suspect by id."""
        return self.session.get(FakeSuspect, suspect_id)

    def suspects(self, scope: Scope, status: str = "new", limit: int = 100, offset: int = 0
                 ) -> tuple[Sequence[FakeSuspect], int]:
        """Suspects of the scope's regions and those of no known region (a text a resident
        sent without a place), the most spread first: a page and how many in all."""
        return page_query(self.session, select(FakeSuspect).where(
            FakeSuspect.status == status, or_(FakeSuspect.region_code.is_(None),
                                              scope.region_filter(FakeSuspect.region_code)))
            .order_by(FakeSuspect.authors.desc(), FakeSuspect.id.desc()), limit, offset)

    def spreads(self, wanted: Sequence[tuple[int, int, datetime]]) -> dict[int, tuple[int, int]]:
        """(distinct authors, distinct channels) of each message's near-copies written since
        its own time, the original included: ``wanted`` is (message id, its original — the
        enrichment's duplicate link, else itself —, since). One query for the whole batch:
        each family (the original and the messages linked to it) is read once, its rows
        counted per message in Python."""
        if not wanted:
            return {}
        originals = sorted({original for _, original, _ in wanted})
        floor = min(since for _, _, since in wanted)
        e = MessageEnrichment
        rows: list[tuple[int, int, str | None, str | None, datetime]] = []
        for start in range(0, len(originals), 1000):
            chunk = originals[start:start + 1000]
            rows.extend((int(f), int(i), a, c, at) for f, i, a, c, at in self.session.execute(
                select(Message.id, Message.id, Message.author_key, Message.channel,
                       Message.created_at)
                .where(Message.id.in_(chunk), Message.created_at >= floor)
                .union_all(
                    select(e.duplicate_of_id, Message.id, Message.author_key, Message.channel,
                           Message.created_at)
                    .join(e, e.message_id == Message.id)
                    .where(e.duplicate_of_id.in_(chunk), Message.created_at >= floor))))
        family: dict[int, dict[int, tuple[str | None, str | None, datetime]]] = {}
        for original, message_id, author, channel, at in rows:
            family.setdefault(original, {})[message_id] = (author, channel, at)
        out: dict[int, tuple[int, int]] = {}
        for message_id, original, since in wanted:
            members = [m for m in family.get(original, {}).values() if m[2] >= since]
            out[message_id] = (len({a for a, _, _ in members if a is not None}),
                               len({c for _, c, _ in members if c is not None}))
        return out

    def enrichments(self, ids: Sequence[int]) -> dict[int, MessageEnrichment]:
        """Enrichments of messages by message id."""
        if not ids:
            return {}
        return {e.message_id: e for e in self.session.scalars(select(MessageEnrichment).where(
            MessageEnrichment.message_id.in_(list(ids))))}

    def message_by_url(self, url: str) -> Message | None:
        """A stored message by its link (with or without a trailing slash)."""
        variants = {url, url.rstrip("/"), url.rstrip("/") + "/"}
        return self.session.scalar(select(Message).where(Message.url.in_(sorted(variants)))
                                   .order_by(Message.id).limit(1))

    # -- replies --------------------------------------------------------------------------------

    def reply(self, fake_id: int, message_id: int) -> FakeReply | None:
        """The reply under one copy, if any."""
        return self.session.scalar(select(FakeReply).where(
            FakeReply.fake_id == fake_id, FakeReply.message_id == message_id))

    def copy_messages(self, fake_id: int) -> Sequence[Message]:
        """The messages that copy a fake (replies go under them)."""
        return self.session.scalars(
            select(Message).join(FakeCopy, FakeCopy.message_id == Message.id)
            .where(FakeCopy.fake_id == fake_id, FakeCopy.kind == "copy")
            .order_by(Message.id)).all()

    def replies(self, fake_id: int) -> dict[str, int]:
        """Replies of a fake by status."""
        return {s: int(n) for s, n in self.session.execute(
            select(FakeReply.status, func.count()).where(FakeReply.fake_id == fake_id)
            .group_by(FakeReply.status))}
