"""The daily rollup of messages (``message_daily_stat``), kept fresh incrementally.

Each refresh finds the reporting days touched by enrichments newer than the watermark and
rebuilds exactly those days (delete + insert from one GROUP BY), so it is idempotent and
safe to run from a scheduler every few minutes; a refresh with nothing new costs one
``max(enriched_at)`` (an index on ``message_enrichment.enriched_at`` makes it a look-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from otklik.analytics.repository import day_expr
from otklik.analytics.schemas import day_start_utc
from otklik.models.analytics import AnalyticsWatermark, MessageDailyStat
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


def rollup_watermark(session: Session) -> datetime | None:
    """Up to which enrichment time the rollup is complete (None: never built)."""
    row = session.get(AnalyticsWatermark, ROLLUP_NAME)
    return row.value if row else None


def _ranges(days: list[date]) -> list[tuple[date, date]]:
    """Contiguous ``[first, last]`` ranges of sorted days."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and (day - out[-1][1]).days == 1:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def refresh_message_rollup(session: Session, *, full: bool = False) -> RefreshResult:
    """Bring the rollup up to date with the enrichments (all days when ``full``)."""
    watermark = None if full else rollup_watermark(session)
    e = MessageEnrichment
    newest = session.scalar(select(func.max(e.enriched_at)))
    if newest is None or (watermark is not None and newest <= watermark):
        return RefreshResult(0, 0, watermark)
    day = day_expr(session, Message.created_at)
    touched = select(day).distinct().join(e, e.message_id == Message.id)
    if watermark is not None:
        touched = touched.where(e.enriched_at > watermark - OVERLAP)
    days = [d if isinstance(d, date) else date.fromisoformat(str(d))
            for d in session.scalars(touched)]
    rows = 0
    if full:
        session.execute(delete(MessageDailyStat))
    for first, last in _ranges(days):
        if not full:
            session.execute(delete(MessageDailyStat).where(MessageDailyStat.day >= first,
                                                           MessageDailyStat.day <= last))
        group = (day.label("day"), e.region_code, e.municipality_id, e.topic, Message.source,
                 e.sentiment)
        query = (select(*group, func.count())
                 .select_from(Message).join(e, e.message_id == Message.id)
                 .where(e.relevant.is_(True),
                        Message.created_at >= day_start_utc(first),
                        Message.created_at < day_start_utc(last + timedelta(days=1)))
                 .group_by(*group))
        result = session.execute(insert(MessageDailyStat).from_select(
            ["day", "region_code", "municipality_id", "topic", "source", "sentiment",
             "messages"], query))
        rows += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    mark = session.get(AnalyticsWatermark, ROLLUP_NAME)
    if mark is None:
        session.add(AnalyticsWatermark(name=ROLLUP_NAME, value=newest))
    else:
        mark.value = newest
    session.flush()
    return RefreshResult(len(days), rows, newest)
