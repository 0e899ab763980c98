"""``otklik scheduler``: the periodic work, with one leader at a time across hosts.

Every host may run a scheduler; only the one holding the leader lock sends work. On
PostgreSQL the lock is a session-level advisory lock (``pg_try_advisory_lock``) held on a
connection of its own: when the leader's process dies its connection closes, the lock is
released, and another scheduler takes over within one poll. On SQLite (one host by nature) it
is an exclusive lock on a file next to the database. The scheduler never does the work
itself: it sends idempotent jobs (:mod:`otklik.upkeep.jobs`, ``cases.tasks.tick``, the
analytics refresh), so a leader change that sends a job twice does the work once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

log = logging.getLogger(__name__)

#: The advisory lock key ("otklik-scheduler" as a 63-bit number; any fixed number will do).
LOCK_KEY = 0x6F746B6C696B5363


@dataclass
class Periodic:
    """A piece of periodic work: ``send()`` every ``every`` seconds."""

    name: str
    every: float
    send: Callable[[], Any]
    last: float = float("-inf")

    def due(self, now: float) -> bool:
        return now - self.last >= self.every


def default_work() -> list[Periodic]:
    """The periodic work of a center (intervals from the settings' defaults)."""
    from otklik.analytics.tasks import refresh_rollups_job
    from otklik.cases.tasks import tick
    from otklik.pd.tasks import retention_job
    from otklik.upkeep import jobs

    return [
        Periodic("connectors", 300, _poll_all_connectors),
        Periodic("cases_tick", 300, tick.send),
        Periodic("rollups", 900, refresh_rollups_job.send),
        Periodic("due_reports", 3600, jobs.run_due_reports.send),
        # over the last reconcile_window_hours of enrichments, and once a day over everything
        Periodic("reconcile", 300, jobs.reconcile_job.send),
        Periodic("reconcile_full", 86400, jobs.send_full_reconcile),
        Periodic("pd_retention", 86400, retention_job.send),
    ]


def _poll_all_connectors() -> None:
    from otklik.db.session import session_scope
    from otklik.intake.receiving import enabled_connector_ids
    from otklik.upkeep.jobs import poll_connector

    with session_scope() as session:
        ids = enabled_connector_ids(session)
    for connector_id in ids:
        poll_connector.send(connector_id)


class LeaderLock:
    """One leader across hosts: an advisory lock on PostgreSQL, a file lock on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def try_acquire(self) -> bool:
        """Take the lock if free (True), or keep it if still held; False when another
        scheduler leads."""
        if self.held:
            return self._still_held()
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            try:
                got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                              {"k": LOCK_KEY}).scalar())
                connection.commit()
            except Exception:
                connection.close()
                raise
            if not got:
                connection.close()
                return False
            self._connection = connection
            return True
        return self._take_file_lock()

    def _still_held(self) -> bool:
        if self._connection is None:
            return True
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except Exception:  # the connection died: so did the lock
            log.warning("scheduler lost its database connection and the leader lock")
            self.release()
            return False

    def _take_file_lock(self) -> bool:
        import fcntl

        database = make_url(str(self.engine.url)).database or "otklik"
        path = Path(database if database != ":memory:" else "otklik").with_suffix(
            ".scheduler.lock")
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                # unlock first: the server has released the lock when this returns, while a
                # closed connection's backend ends (and frees the lock) a moment later
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"),
                                         {"k": LOCK_KEY})
                self._connection.commit()
            except Exception:
                log.debug("unlocking the leader lock failed", exc_info=True)
            try:
                # the lock belongs to the database session: end it (a pooled connection
                # would keep the lock), which releases the lock even if unlock failed
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("closing the lock connection failed", exc_info=True)
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the file releases the flock
            self._file = None


def run(engine: Engine, work: list[Periodic], *, poll: float = 5.0, once: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic) -> int:
    """Lead when possible and send the due work; returns how many sends were made.
    ``once``: one round (leader or not) and return."""
    lock = LeaderLock(engine)
    sent = 0
    try:
        while not should_stop():
            try:
                leading = lock.try_acquire()
            except Exception:  # the database refuses connections: wait and try again
                log.warning("scheduler cannot reach the database", exc_info=True)
                leading = False
            if leading:
                now = clock()
                for item in work:
                    if item.due(now):
                        try:
                            item.send()
                            sent += 1
                        except Exception:
                            log.exception("scheduler could not send %s", item.name)
                            continue
                        item.last = now
            if once:
                break
            time.sleep(poll)
    finally:
        lock.release()
    return sent
