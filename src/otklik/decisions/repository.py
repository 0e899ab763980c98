"""Every query of the decisions registry."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.case import Case, CaseMessage
from otklik.models.decision import Decision, DecisionLink
from otklik.models.message import Message, MessageEnrichment
from otklik.models.territory import Territory, TerritoryLevel


class DecisionRepository:
    """Decisions within a scope, their links, and the messages they concern."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, decision_id: int) -> Decision | None:
        """A decision by id (no scope check: services do that)."""
        return self.session.get(Decision, decision_id)

    def add(self, decision: Decision) -> Decision:
        """Insert a decision and get its id."""
        self.session.add(decision)
        self.session.flush()
        return decision

    def delete(self, decision: Decision) -> None:
        """Remove a decision with its links."""
        self.session.execute(delete(DecisionLink).where(DecisionLink.decision_id == decision.id))
        self.session.delete(decision)
        self.session.flush()

    def links(self, decision_ids: Sequence[int]) -> dict[int, builtins.list[DecisionLink]]:
        """Links of several decisions."""
        out: dict[int, list[DecisionLink]] = {i: [] for i in decision_ids}
        if decision_ids:
            for link in self.session.scalars(select(DecisionLink).where(
                    DecisionLink.decision_id.in_(list(decision_ids))).order_by(DecisionLink.id)):
                out[link.decision_id].append(link)
        return out

    def set_links(self, decision_id: int, problem_ids: Sequence[int], topics: Sequence[str],
                  territory_ids: Sequence[int]) -> None:
        """Replace a decision's links."""
        self.session.execute(delete(DecisionLink).where(DecisionLink.decision_id == decision_id))
        rows = ([DecisionLink(decision_id=decision_id, problem_id=p) for p in problem_ids]
                + [DecisionLink(decision_id=decision_id, topic=t) for t in topics]
                + [DecisionLink(decision_id=decision_id, territory_id=t) for t in territory_ids])
        self.session.add_all(rows)
        self.session.flush()

    @staticmethod
    def in_district(municipality_ids: frozenset[int]) -> ColumnElement[bool]:
        """Decisions a deputy of a district sees: those about no territory in particular
        (the whole region) and those about a territory of the district (a municipality of
        it, a settlement in it, or the region itself)."""
        ids = sorted(municipality_ids)
        placed = select(DecisionLink.decision_id).where(DecisionLink.territory_id.is_not(None))
        inside = (select(DecisionLink.decision_id)
                  .join(Territory, Territory.id == DecisionLink.territory_id)
                  .where(or_(Territory.id.in_(ids), Territory.parent_id.in_(ids),
                             Territory.level == TerritoryLevel.region)))
        return or_(Decision.id.not_in(placed), Decision.id.in_(inside))

    def in_district_by_id(self, decision_id: int, municipality_ids: frozenset[int]) -> bool:
        """True when a deputy of the district sees this decision (:meth:`in_district`)."""
        return bool(self.session.scalar(select(func.count()).select_from(Decision).where(
            Decision.id == decision_id, self.in_district(municipality_ids))))

    def _scoped(self, scope: Scope, region_code: str | None, start: date | None,
                end: date | None, municipality_ids: frozenset[int] | None = None
                ) -> builtins.list[ColumnElement[bool]]:
        conds = [scope.region_filter(Decision.region_code)]
        if municipality_ids is not None:
            conds.append(self.in_district(municipality_ids))
        if region_code:
            conds.append(Decision.region_code == region_code)
        if start:
            conds.append(Decision.decided_on >= start)
        if end:
            conds.append(Decision.decided_on < end)
        return conds

    def page(self, scope: Scope, *, region_code: str | None = None, start: date | None = None,
             end: date | None = None, problem_id: int | None = None,
             municipality_ids: frozenset[int] | None = None, limit: int = 50,
             offset: int = 0) -> tuple[Sequence[Decision], int]:
        """A page of decisions (newest first) and the total (``municipality_ids``: a deputy's
        district, see :meth:`in_district`)."""
        conds = self._scoped(scope, region_code, start, end, municipality_ids)
        if problem_id is not None:
            conds.append(Decision.id.in_(select(DecisionLink.decision_id).where(
                DecisionLink.problem_id == problem_id)))
        total = self.session.scalar(select(func.count()).select_from(Decision).where(*conds))
        rows = self.session.scalars(select(Decision).where(*conds)
                                    .order_by(Decision.decided_on.desc(), Decision.id.desc())
                                    .limit(limit).offset(offset)).all()
        return rows, int(total or 0)

    def count(self) -> int:
        """All decisions."""
        return int(self.session.scalar(select(func.count()).select_from(Decision)) or 0)

    def counts_by_region(self, scope: Scope, start: date | None, end: date | None,
                         municipality_ids: frozenset[int] | None = None
                         ) -> builtins.list[tuple[str, int, int]]:
        """(region code, decisions, budget in rubles) per region."""
        rows = self.session.execute(
            select(Decision.region_code, func.count(),
                   func.coalesce(func.sum(Decision.budget_rub), 0))
            .where(*self._scoped(scope, None, start, end, municipality_ids))
            .group_by(Decision.region_code).order_by(Decision.region_code))
        return [(r, int(n or 0), int(b or 0)) for r, n, b in rows]

    # -- effect -------------------------------------------------------------------------------

    def _linked(self, region_code: str, problem_ids: Sequence[int], topics: Sequence[str],
                municipality_ids: Sequence[int]) -> builtins.list[ColumnElement[bool]]:
        e = MessageEnrichment
        alternatives: list[ColumnElement[bool]] = []
        if problem_ids:
            alternatives.append(Message.id.in_(
                select(CaseMessage.message_id).join(Case, Case.id == CaseMessage.case_id)
                .where(Case.problem_id.in_(list(problem_ids)))))
        place: list[ColumnElement[bool]] = []
        if topics:
            place.append(e.topic.in_(list(topics)))
        if municipality_ids:
            place.append(e.municipality_id.in_(list(municipality_ids)))
        if place:
            alternatives.append(and_(*place))
        return [e.relevant.is_(True), e.region_code == region_code,
                or_(*alternatives) if alternatives else false()]

    def linked_messages(self, scope: Scope, region_code: str, problem_ids: Sequence[int],
                        topics: Sequence[str], municipality_ids: Sequence[int],
                        start: datetime, end: datetime, *, limit: int | None = None,
                        offset: int = 0
                        ) -> tuple[builtins.list[tuple[int, datetime, str]], int]:
        """Messages on the decision's subjects written in ``[start, end)`` that the scope sees
        (a deputy: those of their district): a page and the total (``limit=None``: only the
        total)."""
        conds = [*self._linked(region_code, problem_ids, topics, municipality_ids),
                 scope.message_filter(),
                 Message.created_at >= start, Message.created_at < end]
        base = select(Message.id).join(MessageEnrichment,
                                       MessageEnrichment.message_id == Message.id).where(*conds)
        total = int(self.session.scalar(select(func.count()).select_from(base.subquery())) or 0)
        if limit is None:
            return [], total
        rows = self.session.execute(
            select(Message.id, Message.created_at, func.substr(Message.text, 1, 200))
            .join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
            .where(*conds).order_by(Message.created_at.desc()).limit(limit).offset(offset))
        return [(i, at, t) for i, at, t in rows], total
