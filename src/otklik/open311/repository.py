"""All SQL of the Open311 read side: the public cases, their places, executors and answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.case import Answer, Case, CaseStatus
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
             service_code: str | None, statuses: Sequence[CaseStatus] | None,
             limit: int, offset: int) -> Sequence[Case]:
        """One page of public cases received in [start, end], newest first."""
        query = self._public(scope, region_code).where(
            Case.received_at >= start, Case.received_at <= end)
        if service_code is not None:
            query = query.where(func.coalesce(Case.subtopic, Case.topic) == service_code)
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
