"""Read-only queries of the workspace screens: the queue with its filters, names for display.

Every query starts from the scoped base of :class:`CaseRepository`, so a user never sees a
case outside their scope (regions, a deputy's district, an executor's organization:
:mod:`otklik.accounts.scope`).

Full-text search: PostgreSQL matches ``to_tsvector('russian', message.text)`` against
``websearch_to_tsquery('russian', q)`` (GIN expression index ``ix_message_text_fts``); SQLite
matches the FTS5 table ``message_fts`` with crude Russian stems as prefixes ("трубы" ->
``труб*``); a SQLite build without FTS5 falls back to case-insensitive substrings. Both
tables are made by migration 0005.

The queue pages by keyset (the last row's sort key rides in the "next" link), so page 1,000
costs what page 1 does; counts stop at :data:`COUNT_CAP` ("более 10 000").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.cases.repository import CaseRepository
from otklik.models.account import Role, User
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
from otklik.territories.repository import TerritoryRepository
from otklik.workspace.confidence import UNCERTAIN, case_confidence

SORTS = ("deadline", "newest", "oldest", UNCERTAIN)
#: Counting stops here: above it the queue says "более 10 000" (exact counts of a million
#: rows would cost more than the page itself).
COUNT_CAP = 10_000
#: Above COUNT_CAP matches, each status tab counts up to this ("более 1 000"): ten bounded
#: index ranges of 10,000 would cost more than the page.
STATUS_CAP = 1_000


@dataclass
class QueueFilter:
    """What the operator asked the queue for."""

    statuses: list[CaseStatus] = field(default_factory=list)
    topic: str | None = None
    municipality_id: int | None = None
    executor_id: int | None = None
    assignee_id: int | None = None
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
    """One page of the queue, its (capped) total, the capped counters per status and the
    key of the next page (None on the last one)."""

    rows: Sequence[Case]
    total: int
    counts: dict[str, int]
    next_key: str | None = None
    #: Where the counts per status stop ("более ..."): COUNT_CAP when counted exactly.
    status_cap: int = COUNT_CAP


# -- full-text search ----------------------------------------------------------------------------

_RUSSIAN: ColumnElement[Any] = literal_column("'russian'::regconfig")
_ENDINGS = sorted((
    "иями", "ями", "ами", "ого", "его", "ому", "ему", "ыми", "ими", "ой", "ей", "ий", "ый",
    "ая", "яя", "ое", "ее", "ые", "ие", "ах", "ях", "ам", "ям", "ов", "ев", "ом", "ем", "ью",
    "ию", "ия", "ии", "а", "я", "ы", "и", "у", "ю", "е", "о", "ь", "й",
), key=len, reverse=True)


_TOKENS = re.compile(r'(-?)"([^"]*)"|(-?)(\w+)')


def _stem(word: str) -> str:
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            return word[: -len(ending)]
    return word


def fts5_query(q: str) -> str | None:
    """An FTS5 MATCH expression for what a person typed, in the same syntax PostgreSQL's
    ``websearch_to_tsquery`` reads: words (each a prefix of its stem, as SQLite has no
    Russian stemmer: "трубы" finds "труба", "трубой"), "quoted phrases", ``or`` between
    words, ``-word`` to exclude."""
    groups: list[list[str]] = [[]]
    excluded: list[str] = []
    for minus_phrase, phrase, minus, word in _TOKENS.findall(q.lower())[:16]:
        if word == "or" and not minus:
            groups.append([])
            continue
        words = re.findall(r"\w+", phrase) if phrase or minus_phrase else [word]
        if not words:
            continue
        term = ('"' + " ".join(words) + '"') if len(words) > 1 else f'"{_stem(words[0])}"*'
        (excluded if minus or minus_phrase else groups[-1]).append(term)
    alternatives = [" ".join(g) for g in groups if g]
    if not alternatives:
        return None
    match = " OR ".join(alternatives)
    if excluded:
        match = f"({match})" + "".join(f" NOT {term}" for term in excluded)
    return match


def _has_fts5_table(session: Session) -> bool:
    return session.scalar(text(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_fts'")) is not None


def _search(session: Session, q: str) -> ColumnElement[bool]:
    """Cases with a message matching the query."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        matched = select(CaseMessage.case_id).join(Message, Message.id == CaseMessage.message_id) \
            .where(func.to_tsvector(_RUSSIAN, Message.text).op("@@")(
                func.websearch_to_tsquery(_RUSSIAN, q)))
        return Case.id.in_(matched)
    if dialect == "sqlite" and _has_fts5_table(session):
        match = fts5_query(q)
        if match is None:
            return literal(True)
        hits = text("SELECT rowid FROM message_fts WHERE message_fts MATCH :fts").bindparams(
            fts=match).columns(rowid=Message.id.type)
        return Case.id.in_(select(CaseMessage.case_id).where(
            CaseMessage.message_id.in_(select(hits.subquery().c.rowid))))
    needle = q.lower()
    matched = select(CaseMessage.case_id).join(Message, Message.id == CaseMessage.message_id) \
        .where(func.lower(Message.text).contains(needle, autoescape=True))
    return or_(func.lower(Case.title).contains(needle, autoescape=True), Case.id.in_(matched))


# -- the queue -----------------------------------------------------------------------------------


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
    if f.assignee_id is not None:
        query = query.where(Case.assignee_id == f.assignee_id)
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


def encode_key(sort: str, case: Case) -> str:
    """The keyset cursor after a row: its sort value (ISO time, or empty for none) and id."""
    value = case.received_at if sort in ("newest", "oldest") else case.resolution_due
    return f"{value.isoformat() if value else ''}~{case.id}"


def _next_key(session: Session, sort: str, case: Case) -> str:
    """The cursor after a row; for the least-confidence order, its confidence and id."""
    if sort != UNCERTAIN:
        return encode_key(sort, case)
    value = session.scalar(select(case_confidence()).where(Case.id == case.id))
    return f"{float(value or 0.0)!r}~{case.id}"


def _decode_confidence_key(key: str | None) -> tuple[float, int] | None:
    if not key or "~" not in key:
        return None
    value, _, ident = key.rpartition("~")
    try:
        return float(value), int(ident)
    except ValueError:
        return None


def _decode_key(key: str | None) -> tuple[datetime | None, int] | None:
    if not key or "~" not in key:
        return None
    value, _, ident = key.rpartition("~")
    try:
        moment = datetime.fromisoformat(value) if value else None
        return (moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment,
                int(ident))
    except ValueError:
        return None


def _page(session: Session, query: Select[Any], sort: str, key: str | None,
          limit: int) -> list[Case]:
    """One keyset page: a range scan from the last key on (resolution_due, id) or
    (received_at, id), never an OFFSET."""
    if sort == UNCERTAIN:
        # Least sure first: (confidence, id) ascending; the cursor carries both.
        confidence = case_confidence()
        mark = _decode_confidence_key(key)
        if mark is not None:
            query = query.where(tuple_(confidence, Case.id) > tuple_(
                literal(mark[0]), literal(mark[1])))
        return list(session.scalars(query.order_by(confidence.asc(), Case.id.asc())
                                    .limit(limit)))
    after = _decode_key(key)
    if sort in ("newest", "oldest"):
        newest = sort == "newest"
        order = (Case.received_at.desc(), Case.id.desc()) if newest else (
            Case.received_at.asc(), Case.id.asc())
        if after is not None and after[0] is not None:
            pair = tuple_(Case.received_at, Case.id)
            last = tuple_(literal(after[0], Case.received_at.type), literal(after[1]))
            query = query.where(pair < last if newest else pair > last)
        return list(session.scalars(query.order_by(*order).limit(limit)))
    # Deadline first, cases without a deadline last: two ranges, each an index range scan
    # (one ORDER BY ... NULLS LAST with an OR would make PostgreSQL read from the start).
    rows: list[Case] = []
    if after is None or after[0] is not None:
        dated = query.where(Case.resolution_due.is_not(None))
        if after is not None:
            dated = dated.where(tuple_(Case.resolution_due, Case.id) > tuple_(
                literal(after[0], Case.resolution_due.type), literal(after[1])))
        rows = list(session.scalars(
            dated.order_by(Case.resolution_due.asc(), Case.id.asc()).limit(limit)))
    if len(rows) < limit:
        undated = query.where(Case.resolution_due.is_(None))
        if after is not None and after[0] is None:
            undated = undated.where(Case.id > after[1])
        rows += session.scalars(undated.order_by(Case.id.asc()).limit(limit - len(rows)))
    return rows


def capped_count(session: Session, query: Select[Any], cap: int | None = None) -> int:
    """How many rows the query has, counting at most ``cap + 1`` (more means "over cap";
    :data:`COUNT_CAP` by default)."""
    cap = COUNT_CAP if cap is None else cap
    bounded = query.with_only_columns(Case.id).order_by(None).limit(cap + 1).subquery()
    return session.scalar(select(func.count()).select_from(bounded)) or 0


def status_counts(session: Session, scope: Scope, f: QueueFilter, now: datetime,
                  cap: int | None = None, status_cap: int | None = None) -> dict[str, int]:
    """Per status (and ``""`` for all), how many cases match the other filters: all of them
    up to ``cap + 1``; exact per status by one GROUP BY when they are at most ``cap``, else
    one round trip of per-status counts bounded at ``min(cap, status_cap) + 1`` (an index
    range each, never a full count). The caps default to COUNT_CAP and STATUS_CAP."""
    cap = COUNT_CAP if cap is None else cap
    status_cap = STATUS_CAP if status_cap is None else status_cap
    base = _filtered(session, scope, f, now, with_status=False)
    if f.q and f.q.strip():
        # A text search is costly to repeat: one bounded pass gives the total and, when it
        # is under the cap, exact counts per status (above it, only "более ...").
        sample = base.with_only_columns(Case.status).order_by(None).limit(cap + 1).subquery()
        found = {str(getattr(status, "value", status)): n for status, n in session.execute(
            select(sample.c.status, func.count()).group_by(sample.c.status))}
        everything = sum(found.values())
        if everything > cap:
            return {"": everything}
        return {"": everything, **{s.value: found.get(s.value, 0) for s in CaseStatus}}
    everything = capped_count(session, base, cap)
    if everything <= cap:
        rows = base.with_only_columns(Case.status).order_by(None).subquery()
        counts = {str(getattr(status, "value", status)): n for status, n in session.execute(
            select(rows.c.status, func.count()).group_by(rows.c.status))}
        return {"": everything, **{s.value: counts.get(s.value, 0) for s in CaseStatus}}
    # Only the statuses the filter can match: "overdue" means open, so no closed case is
    # counted (each count reads an index range of its status).
    possible = [s for s in CaseStatus if not f.overdue or s in OPEN_STATUSES]
    bound = min(cap, status_cap) + 1
    parts = [
        select(literal(s.value).label("status"), select(func.count()).select_from(
            base.where(Case.status == s).with_only_columns(Case.id).order_by(None)
            .limit(bound).subquery()).scalar_subquery().label("n"))
        for s in possible
    ]
    counted = {name: n or 0 for name, n in session.execute(union_all(*parts))}
    return {"": everything, **{s.value: counted.get(s.value, 0) for s in CaseStatus}}


def queue(session: Session, scope: Scope, f: QueueFilter, now: datetime, *, limit: int,
          after: str | None = None, with_counts: bool = True) -> QueuePage:
    """A page of the queue after a keyset cursor (deadline first by default), its capped
    total and capped counts per status."""
    if f.q and f.q.strip() and f.sort != UNCERTAIN:  # that order pages by SQL below
        found = _searched_page(session, scope, f, now, limit=limit, after=after)
        if found is not None:
            return found
    query = _filtered(session, scope, f, now)
    rows = _page(session, query, f.sort, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    counts = status_counts(session, scope, f, now) if with_counts else {}
    status_cap = min(STATUS_CAP, COUNT_CAP) if counts.get("", 0) > COUNT_CAP else COUNT_CAP
    key = (f.statuses[0].value if f.statuses else "") if len(f.statuses) <= 1 else None
    known = key is not None and key in counts and (key == "" or counts[key] <= status_cap)
    total = counts[key] if known and key is not None else capped_count(session, query)
    return QueuePage(rows=rows, total=total, counts=counts, status_cap=status_cap,
                     next_key=_next_key(session, f.sort, rows[-1]) if more and rows else None)


def _sort_key(sort: str, due: datetime | None, received: datetime, ident: int) -> tuple[Any, ...]:
    if sort == "newest":
        return (-received.timestamp(), -ident)
    if sort == "oldest":
        return (received.timestamp(), ident)
    return (due is None, due.timestamp() if due else 0.0, ident)


def _searched_page(session: Session, scope: Scope, f: QueueFilter, now: datetime, *,
                   limit: int, after: str | None, cap: int | None = None) -> QueuePage | None:
    """A text search in one pass: the matching cases' (id, status, deadline, received) are
    read once, up to ``cap``; counts, order and the page come from them, then the page's
    cases are loaded by id. None when more than ``cap`` match (the general path pages it)."""
    cap = COUNT_CAP if cap is None else cap
    base = _filtered(session, scope, f, now, with_status=False)
    found = session.execute(base.with_only_columns(
        Case.id, Case.status, Case.resolution_due, Case.received_at).order_by(None)
        .limit(cap + 1)).all()
    if len(found) > cap:
        return None
    counts: dict[str, int] = {"": len(found), **{s.value: 0 for s in CaseStatus}}
    for row in found:
        counts[str(getattr(row.status, "value", row.status))] += 1
    wanted = {s.value for s in f.statuses}
    keyed = sorted((_sort_key(f.sort, due, received, ident), ident)
                   for ident, status, due, received in found
                   if not wanted or str(getattr(status, "value", status)) in wanted)
    total = len(keyed)
    last = _decode_key(after)
    if last is not None:
        value, ident = last
        if f.sort in ("newest", "oldest"):
            if value is None:
                return None
            mark = _sort_key(f.sort, None, value, ident)
        else:
            mark = _sort_key(f.sort, value, now, ident)
        keyed = [item for item in keyed if item[0] > mark]
    ids = [ident for _, ident in keyed[:limit + 1]]
    by_id = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))} \
        if ids else {}
    rows = [by_id[i] for i in ids[:limit] if i in by_id]
    more = len(ids) > limit and bool(rows)
    return QueuePage(rows=rows, total=total, counts=counts,
                     next_key=encode_key(f.sort, rows[-1]) if more else None)


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


def people(session: Session, scope: Scope, organization_ids: Iterable[int | None],
           limit: int = 300) -> list[User]:
    """Whom cases may be given to from the queue: the center's operators and curators in the
    scope and the staff of these executor organizations."""
    orgs = sorted({i for i in organization_ids if i is not None})
    conditions: list[ColumnElement[bool]] = [User.role.in_((Role.operator, Role.curator))]
    if orgs:
        conditions.append(and_(User.role == Role.executor, User.organization_id.in_(orgs)))
    rows = session.scalars(select(User).where(User.is_active.is_(True), or_(*conditions))
                           .order_by(User.full_name, User.username).limit(limit)).all()
    return [u for u in rows if u.role == Role.executor or u.all_regions or scope.all_regions
            or set(u.region_codes or ()) & scope.region_codes]


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Full names (or logins) of users by id."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.full_name, User.username)
                           .where(User.id.in_(wanted)))
    return {i: full or login for i, full, login in rows}


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
    return TerritoryRepository(session).names(ids)


def region_timezones(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Each region's time zone (for showing times as local to the case)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = session.execute(select(Territory.region_code, Territory.timezone).where(
        Territory.level == TerritoryLevel.region, Territory.region_code.in_(wanted)))
    return {code: tz or "Europe/Moscow" for code, tz in rows}


def municipalities(session: Session, scope: Scope, limit: int = 1000) -> Sequence[Territory]:
    """Municipalities in the scope (a district's only) by region and name (for filters and
    forms)."""
    return session.scalars(
        select(Territory).where(Territory.level == TerritoryLevel.municipality,
                                scope.region_filter(Territory.region_code),
                                scope.district_filter(Territory.id))
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
