"""Read-only queries of the workspace screens: the queue with its filters, names for display.

Every query starts from the scoped base of :class:`CaseRepository`, so a user never sees a
case outside their regions (or, for an executor, outside their organization).

Full-text search: PostgreSQL uses ``to_tsvector('russian', text) @@ plainto_tsquery``; SQLite
falls back to case-insensitive substring matching (the engine registers a Unicode ``lower``;
FTS5 would need a migration with a virtual table).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.cases.repository import CaseRepository
from otklik.models.case import (
    OPEN_STATUSES,
    Answer,
    CalendarExceptionRow,
    Case,
    CaseMessage,
    CaseStatus,
    DeadlinePolicyRow,
    Extension,
    Publication,
    RoutingRule,
)
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization
from otklik.models.territory import Territory, TerritoryLevel

SORTS = ("deadline", "newest", "oldest")


@dataclass
class QueueFilter:
    """What the operator asked the queue for."""

    statuses: list[CaseStatus] = field(default_factory=list)
    topic: str | None = None
    municipality_id: int | None = None
    executor_id: int | None = None
    urgency: str | None = None
    source: str | None = None
    overdue: bool = False
    date_from: datetime | None = None
    date_to: datetime | None = None
    q: str | None = None
    problem_id: int | None = None
    sort: str = "deadline"


@dataclass
class QueuePage:
    """One page of the queue, its total and the counters per status."""

    rows: Sequence[Case]
    total: int
    counts: dict[str, int]


def _search(session: Session, q: str) -> ColumnElement[bool]:
    matched = select(CaseMessage.case_id).join(Message, Message.id == CaseMessage.message_id)
    if session.get_bind().dialect.name == "postgresql":
        text_match: ColumnElement[bool] = func.to_tsvector("russian", Message.text).op("@@")(
            func.plainto_tsquery("russian", q))
        title_match: ColumnElement[bool] = func.to_tsvector("russian", Case.title).op("@@")(
            func.plainto_tsquery("russian", q))
    else:
        needle = q.lower()
        text_match = func.lower(Message.text).contains(needle, autoescape=True)
        title_match = func.lower(Case.title).contains(needle, autoescape=True)
    return or_(title_match, exists(matched.where(CaseMessage.case_id == Case.id, text_match)))


def _filtered(session: Session, scope: Scope, f: QueueFilter, now: datetime,
              with_status: bool = True) -> Select[Any]:
    query: Select[Any] = CaseRepository(session).scoped(scope)
    if with_status and f.statuses:
        query = query.where(Case.status.in_(f.statuses))
    if f.topic:
        query = query.where(Case.topic == f.topic)
    if f.municipality_id is not None:
        query = query.where(Case.municipality_id == f.municipality_id)
    if f.executor_id is not None:
        query = query.where(Case.executor_id == f.executor_id)
    if f.urgency:
        query = query.where(Case.urgency == f.urgency)
    if f.source:
        query = query.where(Case.source == f.source)
    if f.problem_id is not None:
        query = query.where(Case.problem_id == f.problem_id)
    if f.overdue:
        query = query.where(Case.status.in_(list(OPEN_STATUSES)), or_(
            Case.resolution_due < now,
            and_(Case.first_response_at.is_(None), Case.first_response_due < now)))
    if f.date_from is not None:
        query = query.where(Case.received_at >= f.date_from)
    if f.date_to is not None:
        query = query.where(Case.received_at < f.date_to)
    if f.q and f.q.strip():
        query = query.where(_search(session, f.q.strip()))
    return query


def queue(session: Session, scope: Scope, f: QueueFilter, now: datetime, *, limit: int,
          offset: int) -> QueuePage:
    """A page of the queue (deadline first by default), the total and counts per status."""
    query = _filtered(session, scope, f, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order: tuple[Any, ...]
    if f.sort == "newest":
        order = (Case.received_at.desc(), Case.id.desc())
    elif f.sort == "oldest":
        order = (Case.received_at.asc(), Case.id.asc())
    else:
        order = (Case.resolution_due.asc().nulls_last(), Case.id.desc())
    rows = session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
    base = _filtered(session, scope, f, now, with_status=False).subquery()
    counts = {str(getattr(s, "value", s)): n for s, n in session.execute(
        select(base.c.status, func.count()).group_by(base.c.status))}
    return QueuePage(rows=rows, total=total, counts=counts)


def count_new_since(session: Session, scope: Scope, since: datetime) -> int:
    """Cases created in the scope after a moment (the queue's live counter)."""
    query: Select[Any] = CaseRepository(session).scoped(scope).where(Case.created_at > since)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def cases_in_status(session: Session, scope: Scope, statuses: Sequence[CaseStatus],
                    limit: int = 100) -> Sequence[Case]:
    """Cases in some statuses, nearest deadline first (triage and moderation queues)."""
    query: Select[Any] = CaseRepository(session).scoped(scope)
    return session.scalars(
        query.where(Case.status.in_(list(statuses)))
        .order_by(Case.resolution_due.asc().nulls_last(), Case.received_at, Case.id)
        .limit(limit)
    ).all()


def cases_by_ids(session: Session, scope: Scope, ids: Iterable[int]) -> Sequence[Case]:
    """The visible cases among these ids."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query: Select[Any] = CaseRepository(session).scoped(scope)
    return session.scalars(query.where(Case.id.in_(wanted)).order_by(Case.id)).all()


# -- names for display ---------------------------------------------------------------------------


def organization_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Short names of organizations by id."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(Organization.id, Organization.short_name, Organization.name)
                           .where(Organization.id.in_(wanted)))
    return {i: short or name for i, short, name in rows}


def territory_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of territories by id."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(Territory.id, Territory.name).where(Territory.id.in_(wanted)))
    return {i: name for i, name in rows}


def region_timezones(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Each region's time zone (for showing times as local to the case)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = session.execute(select(Territory.region_code, Territory.timezone).where(
        Territory.level == TerritoryLevel.region, Territory.region_code.in_(wanted)))
    return {code: tz or "Europe/Moscow" for code, tz in rows}


def municipalities(session: Session, scope: Scope, limit: int = 1000) -> Sequence[Territory]:
    """Municipalities in the scope by region and name (for filters and forms)."""
    return session.scalars(
        select(Territory).where(Territory.level == TerritoryLevel.municipality,
                                scope.region_filter(Territory.region_code))
        .order_by(Territory.region_code, Territory.name).limit(limit)
    ).all()


def organizations(session: Session, scope: Scope, region_code: str | None = None,
                  limit: int = 1000) -> Sequence[Organization]:
    """Active organizations in the scope (for route and filter selects)."""
    query = select(Organization).where(Organization.is_active.is_(True),
                                       scope.region_filter(Organization.region_code))
    if region_code:
        query = query.where(Organization.region_code == region_code)
    return session.scalars(query.order_by(Organization.region_code, Organization.name)
                           .limit(limit)).all()


def regions(session: Session, scope: Scope) -> Sequence[Territory]:
    """Regions in the scope."""
    return session.scalars(
        select(Territory).where(Territory.level == TerritoryLevel.region,
                                scope.region_filter(Territory.region_code))
        .order_by(Territory.region_code)
    ).all()


# -- the case card -------------------------------------------------------------------------------


def enrichment_of(session: Session, message_id: int | None) -> MessageEnrichment | None:
    """What the language stages decided about a message."""
    return session.get(MessageEnrichment, message_id) if message_id is not None else None


def parent_messages(session: Session, messages: Sequence[Any]) -> Sequence[Message]:
    """The posts the case's comments reply to, when they are not in the case themselves."""
    own = {m.id for m in messages}
    wanted = sorted({m.parent_id for m in messages if m.parent_id and m.parent_id not in own})
    if not wanted:
        return []
    return session.scalars(select(Message).where(Message.id.in_(wanted))).all()


def publications_of(session: Session, answer_ids: Iterable[int]) -> dict[int, list[Publication]]:
    """Where each answer went, by answer id."""
    wanted = sorted(set(answer_ids))
    out: dict[int, list[Publication]] = {i: [] for i in wanted}
    if not wanted:
        return out
    for row in session.scalars(select(Publication).where(Publication.answer_id.in_(wanted))
                               .order_by(Publication.id)):
        out[row.answer_id].append(row)
    return out


def pending_answers(session: Session, case_ids: Iterable[int]) -> dict[int, Answer]:
    """The final answer waiting for moderation, by case id."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Answer).where(
        Answer.case_id.in_(wanted), Answer.kind == "final", Answer.status == "on_moderation")
        .order_by(Answer.id))
    return {a.case_id: a for a in rows if a.case_id is not None}


def pending_extensions(session: Session, scope: Scope, limit: int = 100) -> Sequence[Extension]:
    """Requests for more time waiting for a curator, in the scope."""
    visible = CaseRepository(session).scoped(scope).with_only_columns(Case.id)
    return session.scalars(select(Extension).where(
        Extension.status == "pending", Extension.case_id.in_(visible.scalar_subquery()))
        .order_by(Extension.created_at).limit(limit)).all()


# -- admin ---------------------------------------------------------------------------------------


def rules(session: Session, scope: Scope, region_code: str | None) -> Sequence[RoutingRule]:
    """Routing rules (enabled or not) of a region in the scope, in order."""
    query = select(RoutingRule).where(scope.region_filter(RoutingRule.region_code))
    if region_code:
        query = query.where(RoutingRule.region_code == region_code)
    return session.scalars(query.order_by(RoutingRule.region_code, RoutingRule.position,
                                          RoutingRule.id).limit(1000)).all()


def policies(session: Session, scope: Scope) -> Sequence[DeadlinePolicyRow]:
    """Deadline policies: the country's and the scope's regions'."""
    return session.scalars(select(DeadlinePolicyRow).where(or_(
        DeadlinePolicyRow.region_code.is_(None),
        scope.region_filter(DeadlinePolicyRow.region_code)))
        .order_by(DeadlinePolicyRow.region_code.is_(None), DeadlinePolicyRow.region_code,
                  DeadlinePolicyRow.position, DeadlinePolicyRow.id)).all()


def calendar_exceptions(session: Session, scope: Scope) -> Sequence[CalendarExceptionRow]:
    """Corrections of the production calendar, newest day first."""
    return session.scalars(select(CalendarExceptionRow).where(or_(
        CalendarExceptionRow.region_code.is_(None),
        scope.region_filter(CalendarExceptionRow.region_code)))
        .order_by(CalendarExceptionRow.day.desc()).limit(500)).all()
