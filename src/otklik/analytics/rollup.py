"""The rollups (``message_daily_stat``, ``case_daily_stat``, ``problem_daily_stat`` and the
coarser cubes of ``analytics/cubes.py`` derived from the first two), kept fresh incrementally.

Each refresh finds the reporting days touched by enrichments newer than the watermark and
rebuilds exactly those days, then the cubes' days and months holding them (delete + insert
from one GROUP BY), so it is idempotent and
safe to run from a scheduler every few minutes; a refresh with nothing new costs one
``max(enriched_at)`` (an index on ``message_enrichment.enriched_at`` makes it a look-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Delete,
    Insert,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from otklik.analytics import watermarks
from otklik.analytics.cubes import (
    CASE_CUBES,
    HI,
    LO,
    MESSAGE_CUBES,
    day_ranges,
    rebuild_all,
    refill,
)
from otklik.analytics.repository import day_expr
from otklik.days import CASE_WINDOW, day_start_utc, reporting_day
from otklik.db.base import utcnow
from otklik.models.analytics import (
    FIRST_COLUMNS,
    HOUR_BUCKETS,
    RESOLUTION_COLUMNS,
    AnalyticsWatermark,
    CaseDailyStat,
    MessageDailyStat,
    ProblemDailyStat,
)
from otklik.models.case import Case, CaseStatus
from otklik.models.message import Message, MessageEnrichment

ROLLUP_NAME = "message_daily"
#: Enrichments committed slightly out of order are caught by re-reading this overlap.
OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh rebuilt."""

    days: int
    rows: int
    watermark: datetime | None
    #: True when enrichments newer than the previous watermark were found (not only the
    #: overlap's days rebuilt again).
    advanced: bool = False


def _watermark(session: Session, name: str) -> datetime | None:
    row = session.get(AnalyticsWatermark, name)
    return row.value if row else None


def _mark(session: Session, name: str, value: datetime) -> None:
    """Move a rollup's watermark (created on the first refresh)."""
    watermarks.put(session, {name: value})


def rollup_watermark(session: Session) -> datetime | None:
    """Up to which enrichment time the rollup is complete (None: never built)."""
    return _watermark(session, ROLLUP_NAME)


def refresh_message_rollup(session: Session, *, full: bool = False) -> RefreshResult:
    """Bring the rollup up to date with the enrichments (all days when ``full``)."""
    watermark = None if full else rollup_watermark(session)
    e = MessageEnrichment
    newest = session.scalar(select(func.max(e.enriched_at)))
    # Nothing within the overlap: a no-op. Within it, the overlap's days are rebuilt again,
    # so a batch committed late by another worker (its enrichment time older than the
    # watermark another refresh already moved past) is still counted.
    if newest is None or (watermark is not None and newest <= watermark - OVERLAP):
        return RefreshResult(0, 0, watermark)
    day = day_expr(session, Message.created_at)
    touched = select(day).distinct().join(e, e.message_id == Message.id)
    if watermark is not None:
        touched = touched.where(e.enriched_at > watermark - OVERLAP)
    days = [d if isinstance(d, date) else date.fromisoformat(str(d))
            for d in session.scalars(touched)]
    def build(ranged: bool) -> tuple[Delete, Insert]:
        group = (day.label("day"), e.region_code, e.municipality_id, e.topic, Message.source,
                 e.sentiment)
        query = (select(*group, func.count())
                 .select_from(Message).join(e, e.message_id == Message.id)
                 .where(e.relevant.is_(True)))
        table = cast(Table, MessageDailyStat.__table__)
        gone = delete(table)
        if ranged:
            gone = gone.where(table.c.day >= LO, table.c.day <= HI)
            query = query.where(Message.created_at >= START, Message.created_at < END)
        return gone, insert(table).from_select(
            ["day", "region_code", "municipality_id", "topic", "source", "sentiment",
             "messages"], query.group_by(*group))

    session.flush()  # the statements below are not the ORM's: nothing of the session waits
    if full:
        rows = refill(session, "message_daily", lambda: build(False), {})
    else:
        rows = sum(refill(session, "message_daily:ranged", lambda: build(True),
                          _period(first, last)) for first, last in day_ranges(days))
    rebuild_all(session, MESSAGE_CUBES, None if full else days)
    _mark(session, ROLLUP_NAME, newest)
    return RefreshResult(len(days), rows, newest,
                         advanced=watermark is None or newest > watermark)


#: Cases received within ``CASE_WINDOW`` (otklik.days) are re-counted on every refresh. Older
#: cases are refreshed when their ``updated_at`` moves, and completely by
#: ``otklik report rollup --full`` (nightly).
CASE_ROLLUP_NAME = "case_daily"
PROBLEM_ROLLUP_NAME = "problem_daily"


def refresh_case_rollup(session: Session, *, now: datetime | None = None,
                        full: bool = False) -> int:
    """Rebuild ``case_daily_stat`` for the recent window and for days of changed cases."""
    from otklik.analytics.repository import AnalyticsRepository, hours_between

    now = now or utcnow()
    watermark = None if full else session.get(AnalyticsWatermark, CASE_ROLLUP_NAME)
    day = day_expr(session, Case.received_at)
    days: set[date] = set()
    if not full:
        start = reporting_day(now - CASE_WINDOW)
        days = {start + timedelta(days=i) for i in range((reporting_day(now) - start).days + 1)}
        if watermark is not None:
            changed = select(day).distinct().where(Case.updated_at > watermark.value,
                                                   Case.received_at < day_start_utc(start))
            days.update(d if isinstance(d, date) else date.fromisoformat(str(d))
                        for d in session.scalars(changed))

    def build(ranged: bool) -> tuple[Delete, Insert]:
        repo = AnalyticsRepository
        first = hours_between(session, Case.first_response_at, Case.received_at)
        resolved = hours_between(session, Case.answered_at, Case.received_at)
        rejected = Case.status == CaseStatus.rejected

        def n(cond: Any) -> Any:
            return func.sum(case((and_(cond, ~rejected), 1), else_=0))

        where: list[ColumnElement[bool]] = [Case.merged_into_id.is_(None)]
        table = cast(Table, CaseDailyStat.__table__)
        gone = delete(table)
        if ranged:
            gone = gone.where(table.c.day >= LO, table.c.day <= HI)
            where += [Case.received_at >= START, Case.received_at < END]
        group = (day.label("day"), Case.executor_id, Case.region_code, Case.municipality_id,
                 Case.topic, Case.source)
        query = select(
            *group, func.count(), func.sum(case((rejected, 1), else_=0)), n(repo.answered()),
            n(repo.on_time()),
            n(and_(Case.answered_at.is_not(None), Case.answered_at > Case.resolution_due)),
            n(repo.has_answer()), n(repo.brush_off()), n(repo.reopened()),
            *[n(and_(Case.first_response_at.is_not(None), b)) for b in _buckets(first)],
            *[n(and_(Case.answered_at.is_not(None), b)) for b in _buckets(resolved)],
        ).where(*where).group_by(*group)
        return gone, insert(table).from_select(
            ["day", "executor_id", "region_code", "municipality_id", "topic", "source",
             "cases", "rejected", "answered", "on_time", "answered_late", "with_answer",
             "brush_offs", "reopened", *FIRST_COLUMNS, *RESOLUTION_COLUMNS], query)

    session.flush()  # the statements below are not the ORM's: nothing of the session waits
    if full:
        rows = refill(session, "case_daily", lambda: build(False), {})
    else:
        rows = sum(refill(session, "case_daily:ranged", lambda: build(True), _period(lo, hi))
                   for lo, hi in day_ranges(days))
    rebuild_all(session, CASE_CUBES, None if full else sorted(days))
    _mark(session, CASE_ROLLUP_NAME, now)
    return rows


def refresh_problem_rollup(session: Session, *, now: datetime | None = None,
                           full: bool = False) -> int:
    """Rebuild ``problem_daily_stat`` for the recent window (problems are assigned and merged
    after the messages arrive), or entirely when ``full``."""
    from otklik.models.case import CaseMessage
    from otklik.models.message import Message, MessageEnrichment

    now = now or utcnow()
    e = MessageEnrichment
    day = day_expr(session, Message.created_at)

    def build(recent: bool) -> tuple[Delete, Insert]:
        where: list[ColumnElement[bool]] = [e.relevant.is_(True), Case.problem_id.is_not(None)]
        table = cast(Table, ProblemDailyStat.__table__)
        gone = delete(table)
        if recent:
            gone = gone.where(table.c.day >= LO)
            where.append(Message.created_at >= START)
        group = (day.label("day"), Case.problem_id, e.region_code, e.municipality_id, e.topic,
                 Message.source)
        query = (select(*group, func.count()).select_from(Message)
                 .join(e, e.message_id == Message.id)
                 .join(CaseMessage, CaseMessage.message_id == Message.id)
                 .join(Case, Case.id == CaseMessage.case_id)
                 .where(*where).group_by(*group))
        return gone, insert(table).from_select(
            ["day", "problem_id", "region_code", "municipality_id", "topic", "source",
             "messages"], query)

    session.flush()  # the statements below are not the ORM's: nothing of the session waits
    if full:
        rows = refill(session, "problem_daily", lambda: build(False), {})
    else:
        start = reporting_day(now - CASE_WINDOW)
        rows = refill(session, "problem_daily:recent", lambda: build(True),
                      {"lo": start, "start": day_start_utc(start)})
    _mark(session, PROBLEM_ROLLUP_NAME, now)
    return rows


def problem_rollup_watermark(session: Session) -> datetime | None:
    """When the problem rollup was last refreshed (None: never)."""
    return _watermark(session, PROBLEM_ROLLUP_NAME)


def case_rollup_watermark(session: Session) -> datetime | None:
    """When the case rollup was last refreshed (None: never)."""
    return _watermark(session, CASE_ROLLUP_NAME)


#: The first and last moments (UTC) of the periods a refresh replaces.
START: BindParameter[datetime] = bindparam("start")
END: BindParameter[datetime] = bindparam("end")


def _period(first: date, last: date) -> dict[str, Any]:
    """The parameters of a refresh's statements for the reporting days ``first``…``last``."""
    return {"lo": first, "hi": last, "start": day_start_utc(first),
            "end": day_start_utc(last + timedelta(days=1))}


def _buckets(hours: Any) -> list[Any]:
    """One condition per histogram bucket of ``hours``."""
    out = []
    lower: float | None = None
    for upper in (*HOUR_BUCKETS, None):
        cond = []
        if lower is not None:
            cond.append(hours >= lower)
        if upper is not None:
            cond.append(hours < upper)
        out.append(and_(*cond))
        lower = upper
    return out


def median_from_histogram(hist: list[int]) -> float | None:
    """The median hours interpolated inside its bucket (the open last bucket counts as its
    lower bound): within a bucket's width of the exact median."""
    total = sum(hist)
    if not total:
        return None
    half = total / 2
    seen = 0
    bounds = (0, *HOUR_BUCKETS)
    for i, count in enumerate(hist):
        if count and seen + count >= half:
            lower = bounds[i]
            if i >= len(HOUR_BUCKETS):
                return float(lower)
            return round(lower + (HOUR_BUCKETS[i] - lower) * (half - seen) / count, 2)
        seen += count
    return None
