"""Background jobs of analytics: the rollups kept fresh from the task queue.

A unit of work that changes what the rollups count calls :func:`rollups_changed` (enrichment
of messages: ``"messages"``; a case's history entry or its problem: ``"cases"``). After it
commits, a tiny :func:`request_refresh` job notes the request and, unless a refresh is
already waiting, schedules one :func:`refresh_rollups_job` a few seconds later, so a burst of
enrichment batches costs one refresh, not one per batch. The markers live in
``analytics_watermark`` (name → time):

* ``rollup_scheduled`` — when a refresh was sent that has not started yet (``EPOCH``: none);
  a refresh clears it in its own committed transaction *before* it reads, so a request
  that commits later always schedules the next refresh and none is lost;
* ``rollup_req_messages`` / ``rollup_req_cases`` — the latest request of each kind; the case
  and problem rollups (which rebuild the last 92 days) are skipped when no case changed
  since they were last refreshed; the message rollup skips itself by its own watermark.

:func:`refresh_rollups` is the one entry point that refreshes everything (the job, ``otklik
cases tick`` and ``otklik report rollup`` use it). It serializes concurrent refreshes: the
refresh rebuilds days by delete + insert, and two of them interleaved on PostgreSQL would
insert a day twice. PostgreSQL takes a transaction-scoped advisory lock; SQLite starts with a
write, which takes the database's single write lock until commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import dramatiq
from sqlalchemy import String, and_, bindparam, or_, text
from sqlalchemy.orm import Session

from otklik.analytics import watermarks
from otklik.db.base import utcnow
from otklik.db.session import session_scope
from otklik.db.types import UTCDateTime
from otklik.models.analytics import AnalyticsWatermark
from otklik.queue import broker, enqueue_after_commit, is_in_memory

log = logging.getLogger(__name__)

Kind = Literal["messages", "cases"]
KINDS: tuple[Kind, ...] = ("messages", "cases")
#: "Nothing scheduled" / "never requested".
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SCHEDULED = "rollup_scheduled"
REQUESTED: dict[str, str] = {"messages": "rollup_req_messages", "cases": "rollup_req_cases"}
LOCK_ROW = "rollup_lock"
LAST_STARTED, LAST_FINISHED = "rollup_last_started", "rollup_last_finished"
#: How long changes are gathered before one refresh (a queue on another host; in-memory
#: brokers wait less so that CLI commands, which drain the queue at the end, stay quick).
DELAY_MS = 20_000
INLINE_DELAY_MS = 2_000
#: A scheduled refresh not started after this long is taken for lost (a killed worker with
#: an in-memory broker) and the next request schedules another.
STALE = timedelta(minutes=15)
#: Clocks of different hosts disagree a little: a case request this close before the last
#: case refresh still triggers a rebuild.
SKEW = timedelta(seconds=5)
#: PostgreSQL advisory lock key of the rollup refresh ("otkl").
LOCK_KEY = 0x6F746B6C
_SESSION_KEY = "otklik_rollups_requested"


def rollups_changed(session: Session, kind: Kind) -> None:
    """After this unit of work commits, ask for a rollup refresh (once per transaction)."""
    transaction = session.get_transaction()
    asked: dict[str, object] = session.info.setdefault(_SESSION_KEY, {})
    if transaction is not None and asked.get(kind) is transaction:
        return
    asked[kind] = transaction
    enqueue_after_commit(session, request_refresh, kind)


@dramatiq.actor(broker=broker, queue_name="analytics", max_retries=5, time_limit=60_000)
def request_refresh(kind: str) -> None:
    """Note a change and schedule one refresh unless one is already waiting."""
    with session_scope() as session:
        schedule = note_request(session, kind)
        delay = refresh_delay_ms(session) if schedule else 0
    if schedule:  # after the commit: the marker says it is on its way
        refresh_rollups_job.send_with_options(delay=delay or None)


def refresh_delay_ms(session: Session) -> int:
    """How long to gather changes: the base delay, or twice the last refresh's duration when
    that is longer (a country-scale refresh of tens of seconds must not run back to back)."""
    base = INLINE_DELAY_MS if is_in_memory() else DELAY_MS
    if not base:
        return 0
    watermarks.load(session, [LAST_STARTED, LAST_FINISHED])
    started = session.get(AnalyticsWatermark, LAST_STARTED)
    finished = session.get(AnalyticsWatermark, LAST_FINISHED)
    if started is None or finished is None or finished.value < started.value:
        return base
    took = (finished.value - started.value).total_seconds() * 1000
    return int(min(max(base, 2 * took), STALE.total_seconds() * 500))


@dramatiq.actor(broker=broker, queue_name="analytics", max_retries=5, time_limit=3_600_000)
def refresh_rollups_job() -> None:
    """Bring the rollups up to date (scheduled by :func:`request_refresh`)."""
    with session_scope() as session:
        watermarks.put(session, {SCHEDULED: EPOCH})
    with session_scope() as session:
        result = refresh_rollups(session)
        watermarks.put(session, {LAST_STARTED: result.started, LAST_FINISHED: utcnow()})
    log.info("rollups refreshed: %s", result)


def note_request(session: Session, kind: str, *, now: datetime | None = None) -> bool:
    """Record a request of ``kind``; True when the caller must send a refresh (none waits)."""
    if kind not in REQUESTED:
        raise ValueError(f"rollup change kind {kind!r}: one of {', '.join(KINDS)}")
    now = now or utcnow()
    written = session.execute(_note_statement(session), {
        "request": REQUESTED[kind], "now": now, "stale": now - STALE}).scalars().all()
    return SCHEDULED in written


#: :func:`note_request`'s statement by dialect, built once per process (building and hashing
#: it was most of the job's CPU).
_NOTE: dict[str, Any] = {}


def _note_statement(session: Session) -> Any:
    """One upsert of both rows (each made when missing, else moved when its condition holds
    of the stored row), not a create-if-missing and two UPDATEs, nor an upsert each: the
    job runs after every unit of work that changes what rollups count. The request only
    moves forward. Atomic test-and-set of the refresh (the rows are written in this order):
    of two concurrent requests, the second waits for the first's row lock, re-reads the row
    and finds the refresh already scheduled (a missing row is inserted as scheduled, as a
    new row at EPOCH would have been set); one scheduled longer than :data:`STALE` ago is
    taken for lost. RETURNING, not the rowcount: an INSERT's is not reported (-1) through
    psycopg."""
    dialect = session.get_bind().dialect.name
    found = _NOTE.get(dialect)
    if found is None:
        w = watermarks.TABLE.c
        now = bindparam("now", type_=UTCDateTime())
        statement = watermarks.dialect_insert(session)(watermarks.TABLE).values(
            [{"name": bindparam("request", type_=String()), "value": now},
             {"name": SCHEDULED, "value": now}])
        when = or_(and_(w.name == SCHEDULED,
                        or_(w.value == EPOCH, w.value < bindparam("stale", type_=UTCDateTime()))),
                   and_(w.name != SCHEDULED, w.value < statement.excluded.value))
        found = _NOTE[dialect] = statement.on_conflict_do_update(
            index_elements=["name"], set_={"value": statement.excluded.value}, where=when
        ).returning(w.name)
    return found


def lock_rollups(session: Session) -> None:
    """Wait until no other refresh of the rollups runs; held until this transaction ends.

    Call it first in the unit of work, before anything of the rollups is read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    else:
        # SQLite: the first write takes the one write lock (others wait busy_timeout).
        watermarks.put(session, {LOCK_ROW: utcnow()})


@dataclass(frozen=True)
class RollupRefresh:
    """What :func:`refresh_rollups` did (None: that rollup was skipped)."""

    message_days: int
    message_rows: int
    watermark: datetime | None
    case_rows: int | None
    problem_rows: int | None
    started: datetime


def _requested_after(session: Session, kind: str, moment: datetime | None) -> bool:
    if moment is None:
        return True
    row = session.get(AnalyticsWatermark, REQUESTED[kind])
    return row is not None and row.value > moment - SKEW


def refresh_rollups(session: Session, *, full: bool = False, every: bool = False,
                    now: datetime | None = None) -> RollupRefresh:
    """Refresh every rollup, serialized with other refreshes; idempotent.

    The message rollup skips itself when no enrichment falls within its overlap of the
    watermark (``rollup.OVERLAP``); the case
    and problem rollups are rebuilt when a case changed since their last refresh (or a
    newer enrichment was rolled up, for problems), or always when ``every`` (the periodic tick) or
    ``full`` (all days)."""
    from otklik.analytics.rollup import (
        CASE_ROLLUP_NAME,
        PROBLEM_ROLLUP_NAME,
        ROLLUP_NAME,
        case_rollup_watermark,
        problem_rollup_watermark,
        refresh_case_rollup,
        refresh_message_rollup,
        refresh_problem_rollup,
    )

    lock_rollups(session)
    # the markers the refresh reads, in one query (it reads each by its key)
    watermarks.load(session, [ROLLUP_NAME, CASE_ROLLUP_NAME, PROBLEM_ROLLUP_NAME,
                              REQUESTED["cases"]])
    now = now or utcnow()
    messages = refresh_message_rollup(session, full=full)
    forced = full or every
    cases_due = forced or _requested_after(session, "cases", case_rollup_watermark(session))
    case_rows = refresh_case_rollup(session, now=now, full=full) if cases_due else None
    problems_due = (forced or messages.advanced or problem_rollup_watermark(session) is None
                    or _requested_after(session, "cases", problem_rollup_watermark(session)))
    problem_rows = refresh_problem_rollup(session, now=now, full=full) if problems_due else None
    return RollupRefresh(messages.days, messages.rows, messages.watermark, case_rows,
                         problem_rows, now)
