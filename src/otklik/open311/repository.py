"""All SQL of the Open311 read side: the public cases, their places, executors and answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.case import Answer, Case, CaseMessage, CaseStatus
from otklik.models.media import Photo
from otklik.models.message import Message
from otklik.models.open311 import Open311Request
from otklik.models.organization import Organization
from otklik.models.territory import Territory, TerritoryLevel

#: The statuses a public reader sees: a case an operator has routed to an executor (triage
#: and new cases are not checked yet; rejected ones are spam, off-topic or not the region's).
PUBLIC_STATUSES = (CaseStatus.routed, CaseStatus.in_work, CaseStatus.clarification,
                   CaseStatus.answer_drafted, CaseStatus.on_moderation, CaseStatus.answered,
                   CaseStatus.closed)

#: The answers a public reader may see: approved by a moderator (and maybe published).
PUBLIC_ANSWER_STATUSES = ("approved", "published")


class Open311Repository:
    """Reads for the GeoReport v2 endpoints (never writes)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def region(self, jurisdiction: str) -> Territory | None:
        """A region by its code ("68") or ISO 3166-2 code ("RU-TAM", any case)."""
        return self.session.scalars(select(Territory).where(
            Territory.level == TerritoryLevel.region,
            or_(Territory.region_code == jurisdiction,
                func.upper(Territory.iso_code) == jurisdiction.upper()),
        ).limit(1)).first()

    def _public(self, scope: Scope, region_code: str | None):  # type: ignore[no-untyped-def]
        query = select(Case).where(
            scope.case_filter(), Case.region_code.is_not(None), Case.merged_into_id.is_(None),
            Case.status.in_(PUBLIC_STATUSES))
        if region_code is not None:
            query = query.where(Case.region_code == region_code)
        return query

    def by_ids(self, scope: Scope, region_code: str | None, ids: Sequence[int]
               ) -> Sequence[Case]:
        """The public cases among these ids, newest first."""
        return self.session.scalars(self._public(scope, region_code).where(Case.id.in_(ids))
                                    .order_by(Case.received_at.desc(), Case.id.desc())).all()

    def page(self, scope: Scope, region_code: str | None, *, start: datetime, end: datetime,
             service_codes: Sequence[str] | None, statuses: Sequence[CaseStatus] | None,
             limit: int, offset: int) -> Sequence[Case]:
        """One page of public cases received in [start, end], newest first."""
        query = self._public(scope, region_code).where(
            Case.received_at >= start, Case.received_at <= end)
        if service_codes:
            query = query.where(func.coalesce(Case.subtopic, Case.topic).in_(
                list(service_codes)))
        if statuses is not None:
            query = query.where(Case.status.in_(statuses))
        return self.session.scalars(query.order_by(Case.received_at.desc(), Case.id.desc())
                                    .limit(limit).offset(offset)).all()

    def territories(self, ids: set[int]) -> dict[int, Territory]:
        """Territories by id (the cases' settlements and municipalities)."""
        if not ids:
            return {}
        return {t.id: t for t in self.session.scalars(
            select(Territory).where(Territory.id.in_(sorted(ids))))}

    def organization_names(self, ids: set[int]) -> dict[int, str]:
        """Executors' names by id."""
        if not ids:
            return {}
        rows = self.session.execute(select(Organization.id, Organization.name)
                                    .where(Organization.id.in_(sorted(ids))))
        return {row.id: row.name for row in rows}

    def public_answers(self, case_ids: Sequence[int]) -> dict[int, str]:
        """The latest approved (or published) answer's text of each case."""
        if not case_ids:
            return {}
        rows = self.session.execute(
            select(Answer.case_id, Answer.text, Answer.approved_at, Answer.id)
            .where(Answer.case_id.in_(list(case_ids)),
                   Answer.status.in_(PUBLIC_ANSWER_STATUSES))
            .order_by(Answer.approved_at, Answer.id))
        latest: dict[int, str] = {}
        for row in rows:
            if row.case_id is not None:
                latest[row.case_id] = row.text  # ordered oldest first: the last one wins
        return latest

    def points(self, case_ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        """Each case's point (lat, lon) where a message of it has one: the primary message's
        first (given by the resident or an integrator, or read from a photo's GPS)."""
        if not case_ids:
            return {}
        rows = self.session.execute(
            select(CaseMessage.case_id, Message.lat, Message.lon)
            .join(Message, Message.id == CaseMessage.message_id)
            .where(CaseMessage.case_id.in_(list(case_ids)), Message.lat.is_not(None),
                   Message.lon.is_not(None))
            .order_by(CaseMessage.is_primary.desc(), Message.id))
        out: dict[int, tuple[float, float]] = {}
        for row in rows:
            out.setdefault(row.case_id, (float(row.lat), float(row.lon)))
        return out

    def media(self, case_ids: Sequence[int]) -> dict[int, str]:
        """Each case's picture: a photo Otklik stores (its path), else a ``media_url`` an
        integrator gave, else a photo link of a social-network post; the primary message's
        first."""
        if not case_ids:
            return {}
        ids = list(case_ids)
        out: dict[int, str] = {}
        stored = self.session.execute(
            select(CaseMessage.case_id, Photo.key)
            .join(Photo, Photo.message_id == CaseMessage.message_id)
            .where(CaseMessage.case_id.in_(ids))
            .order_by(CaseMessage.is_primary.desc(), Photo.id))
        for row in stored:
            out.setdefault(row.case_id, f"/media/photos/{row.key}")
        missing = [i for i in ids if i not in out]
        if not missing:
            return out
        given = self.session.execute(
            select(CaseMessage.case_id, Open311Request.media_url)
            .join(Open311Request, Open311Request.message_id == CaseMessage.message_id)
            .where(CaseMessage.case_id.in_(missing), Open311Request.media_url.is_not(None))
            .order_by(CaseMessage.is_primary.desc(), Open311Request.id))
        for case_id, url in given:
            if url:
                out.setdefault(case_id, url)
        missing = [i for i in ids if i not in out]
        if not missing:
            return out
        linked = self.session.execute(
            select(CaseMessage.case_id, Message.attachments)
            .join(Message, Message.id == CaseMessage.message_id)
            .where(CaseMessage.case_id.in_(missing))
            .order_by(CaseMessage.is_primary.desc(), Message.id))
        for row in linked:
            for attachment in row.attachments or []:
                url = str(attachment.get("url") or "")
                if attachment.get("type") == "photo" and url.startswith(("https://",
                                                                            "http://")):
                    out.setdefault(row.case_id, url)
        return out

    def filed(self, token: str) -> Open311Request | None:
        """A request filed through POST requests, by its token."""
        return self.session.scalar(select(Open311Request).where(Open311Request.token == token))

    def filed_again(self, dedupe_key: str, since: datetime) -> Open311Request | None:
        """The same request filed since ``since`` (a re-post), if any."""
        return self.session.scalar(
            select(Open311Request).where(Open311Request.dedupe_key == dedupe_key,
                                         Open311Request.created_at >= since)
            .order_by(Open311Request.id).limit(1))

    def filed_for_message(self, message_id: int) -> Open311Request | None:
        """The request that stored this message, if any."""
        return self.session.scalar(
            select(Open311Request).where(Open311Request.message_id == message_id)
            .order_by(Open311Request.id).limit(1))

    def add_filed(self, row: Open311Request) -> Open311Request:
        """Insert a filed request."""
        self.session.add(row)
        self.session.flush()
        return row

    def case_of_message(self, message_id: int) -> int | None:
        """The case a message belongs to (the case it was merged into, if it was)."""
        row = self.session.execute(
            select(Case.id, Case.merged_into_id).join(CaseMessage, CaseMessage.case_id == Case.id)
            .where(CaseMessage.message_id == message_id)).first()
        if row is None:
            return None
        return int(row.merged_into_id or row.id)

    def places_near(self, lat: float, lon: float, box: float
                    ) -> Sequence[tuple[str, float, float]]:
        """(region code, lat, lon) of settlements and municipalities inside a box around a
        point (the candidates for the nearest place)."""
        rows = self.session.execute(
            select(Territory.region_code, Territory.lat, Territory.lon).where(
                Territory.level.in_((TerritoryLevel.settlement, TerritoryLevel.municipality)),
                Territory.lat.between(lat - box, lat + box),
                Territory.lon.between(lon - 2 * box, lon + 2 * box)))
        return [(r.region_code, float(r.lat), float(r.lon)) for r in rows]

    def count_filed(self) -> int:
        """How many requests were filed through POST requests."""
        return int(self.session.scalar(select(func.count()).select_from(Open311Request)) or 0)
