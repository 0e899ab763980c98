"""The one delivery log and retry policy of every outgoing message (alerts to people, the
roster's webhook, integrators' webhook subscriptions).

:func:`queue_delivery` adds a ``delivery`` row inside the caller's unit of work and, after the
commit, one queue job for it (``notify/tasks.py``): each delivery is its own job, so a channel
or receiver that is down or hangs delays nobody else. The job (:func:`run_delivery`):

1. claims the row (``pending`` and due → ``sending``, committed), asks the row's *source*
   for the message (:class:`DeliverySource.prepare`: the text, the thread, the signed body),
2. makes one attempt through the channel (notify/channels.py, bounded by a timeout),
3. records the attempt (``delivery_attempt``: status code, response, error, duration) and
   the outcome: ``sent``; or ``pending`` again with ``next_attempt_at`` after an exponential
   back-off (:func:`backoff`) while attempts remain and the failure is temporary; else
   ``failed``. The source hears each outcome (:class:`DeliverySource.after_attempt`: a
   subscription counts consecutive failures and switches itself off).

A retry is sent as a delayed queue job, and ``otklik notify tick`` also sends every due retry
(and frees a row whose attempt died half-way), so a lost delayed job only waits for the next
tick. A repeated event sends nothing twice: the caller passes a ``dedup`` key.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import time
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.db.session import session_scope
from otklik.events import CONSUMERS_MODULE
from otklik.models.notify import Delivery, DeliveryAttempt
from otklik.notify.channels import Outgoing, SendResult, elapsed_ms, get_channel
from otklik.notify.repository import NotifyRepository
from otklik.notify.settings import get_notify_settings
from otklik.notify.tasks import send_delivery  # declares the "notify" queue before any worker
from otklik.queue import enqueue_after_commit

log = logging.getLogger("otklik.notify")

#: Send a retry as a delayed queue job (tests switch it off and drive retries with the tick).
REQUEUE_DELAYED = True
#: An attempt still ``sending`` after this long died half-way: the tick makes it due again.
STALE_SENDING = timedelta(minutes=10)
NOT_CONFIGURED = "not sent: the channel is not configured"


class DeliverySource(ABC):
    """Whom deliveries of one ``source`` are for: builds each attempt's message and hears its
    outcome."""

    @abstractmethod
    def prepare(self, session: Session, delivery: Delivery) -> Outgoing | str:
        """The message of the next attempt, or why there is none any more (the target was
        switched off or removed): the delivery is then given up with that reason."""

    def after_attempt(self, session: Session, delivery: Delivery,  # noqa: B027
                      result: SendResult) -> None:
        """Called after each attempt, in the unit of work that records it."""


_SOURCES: dict[str, DeliverySource] = {}


def register_source(name: str, source: DeliverySource) -> None:
    """Make ``source`` the one that serves deliveries of ``name``."""
    _SOURCES[name] = source


def source_of(name: str) -> DeliverySource:
    """The registered source (the modules that register them are imported by then)."""
    if name not in _SOURCES:
        # Each domain registers its source in a module the composition root loads.
        importlib.import_module(CONSUMERS_MODULE)
        importlib.import_module("otklik.notify.service")
    return _SOURCES[name]


def dedup_key(*parts: Any) -> str:
    """A short stable key of the parts (what makes a delivery the same one)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def queue_delivery(session: Session, *, channel: str, target: str, source: str,
                   source_id: int | None, event: str, payload: dict[str, Any],
                   alert_id: int | None = None, dedup: str | None = None) -> Delivery | None:
    """Add a delivery and send it after the commit; None when ``dedup`` was already sent."""
    repo = NotifyRepository(session)
    if dedup is not None and repo.delivery_by_dedup(dedup) is not None:
        return None
    now = utcnow()
    row = Delivery(channel=channel, target=target[:1000], source=source, source_id=source_id,
                   alert_id=alert_id, event=event[:64], payload=payload, dedup_key=dedup,
                   status="pending", attempts=0, next_attempt_at=now, updated_at=now)
    session.add(row)
    session.flush()
    enqueue_after_commit(session, send_delivery, row.id)
    return row


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones (30 s, 1 min, 2 min …
    by default, at most the setting's maximum)."""
    settings = get_notify_settings()
    seconds = min(settings.backoff_max_seconds,
                  settings.backoff_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds)


def _claim(delivery_id: int, now: datetime) -> tuple[Outgoing, str] | None:
    """Start an attempt (committed): the message and the channel, or None (nothing to do)."""
    with session_scope() as session:
        repo = NotifyRepository(session)
        row = repo.delivery_for_update(delivery_id)
        if row is None or row.status != "pending":
            return None
        if row.next_attempt_at is not None and row.next_attempt_at > now + timedelta(seconds=1):
            return None  # an early duplicate of a delayed retry
        prepared = source_of(row.source).prepare(session, row)
        if isinstance(prepared, str):
            row.status, row.last_error, row.updated_at = "failed", prepared[:1000], now
            row.next_attempt_at = None
            return None
        if not get_channel(row.channel).configured():
            row.status, row.last_error, row.updated_at = "failed", NOT_CONFIGURED, now
            row.next_attempt_at = None
            return None
        row.status, row.attempts, row.updated_at = "sending", row.attempts + 1, now
        return prepared, row.channel


def run_delivery(delivery_id: int) -> str | None:
    """One attempt of a delivery (the job's body); the status it ended in, None when there
    was nothing to do."""
    now = utcnow()
    claimed = _claim(delivery_id, now)
    if claimed is None:
        return None
    outgoing, channel = claimed
    started = time.monotonic()
    try:
        result = get_channel(channel).send(outgoing)
    except Exception as exc:  # a channel's bug must still end up in the log
        log.exception("delivery %s: the %s channel failed", delivery_id, channel)
        result = SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:1000])
    duration = elapsed_ms(started)
    retry_in: timedelta | None = None
    with session_scope() as session:
        row = session.get(Delivery, delivery_id)
        if row is None:
            return None
        finished = utcnow()
        session.add(DeliveryAttempt(
            delivery_id=row.id, number=row.attempts, started_at=now, duration_ms=duration,
            ok=result.ok, status_code=result.status_code,
            response=(result.response or None) and result.response[:1000],
            error=(result.error or None) and result.error[:1000]))
        row.last_status_code = result.status_code
        row.updated_at = finished
        if result.ok:
            row.status, row.sent_at, row.last_error = "sent", finished, None
            row.next_attempt_at = None
            row.external_id = result.external_id
        elif result.retry and row.attempts < get_notify_settings().max_attempts:
            retry_in = backoff(row.attempts)
            row.status, row.last_error = "pending", result.error
            row.next_attempt_at = finished + retry_in
        else:
            row.status, row.next_attempt_at = "failed", None
            row.last_error = (f"gave up after {row.attempts} attempts: {result.error}"
                              if result.retry else result.error)
        source_of(row.source).after_attempt(session, row, result)
        status = row.status
    if retry_in is not None and REQUEUE_DELAYED:
        send_delivery.send_with_options(args=(delivery_id,),
                                        delay=int(retry_in.total_seconds() * 1000))
    return status


def requeue_due(session: Session, now: datetime | None = None) -> int:
    """Send every delivery whose retry is due (and free attempts that died half-way) after
    the commit; the number queued."""
    now = now or utcnow()
    repo = NotifyRepository(session)
    for row in repo.stale_sending(now - STALE_SENDING):
        row.status, row.next_attempt_at, row.updated_at = "pending", now, now
        row.last_error = "the attempt was interrupted; sending again"
    session.flush()
    due = repo.due_deliveries(now)
    for row in due:
        row.next_attempt_at = min(now, utcnow())  # due when the job runs
        enqueue_after_commit(session, send_delivery, row.id)
    return len(due)
