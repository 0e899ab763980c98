"""The task queue: Dramatiq on RabbitMQ or Redis, or in-process for the embedded default.

Jobs are enqueued after the surrounding transaction commits and dropped on rollback
(:func:`enqueue_after_commit`); a job takes ids, reloads, and is idempotent.

``OTKLIK_BROKER_URL``:
- ``inline`` (default): an in-memory broker; ``otklik serve`` and CLI commands run an
  in-process worker, so one process does everything (SQLite on a laptop);
- ``stub``: in-memory, nothing runs until a test calls :func:`drain`;
- ``amqp://…`` RabbitMQ, ``redis://…`` Redis: ``otklik worker`` processes on any host.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

from otklik.config import get_settings

_lock = threading.Lock()
log = logging.getLogger(__name__)
_PENDING_KEY = "otklik_pending_jobs"


class _TestRetries(Retries):  # type: ignore[misc]
    """Retries for the ``stub`` broker of the tests: the same counts, back-off in milliseconds.

    A job that fails in a test is retried as in production, but an actor's back-off of
    minutes would keep :func:`drain` (and the test after it) waiting for nothing.
    """

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None
                              ) -> None:
        if exception is not None:
            message.options["min_backoff"] = 5
            message.options["max_backoff"] = 50
        super().after_process_message(broker, message, result=result, exception=exception)


def _middleware(test: bool = False) -> list[Any]:
    retries = _TestRetries if test else Retries
    return [AgeLimit(), TimeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
            retries(max_retries=5, min_backoff=1000, max_backoff=300_000)]


def build_broker(url: str) -> dramatiq.Broker:
    """A broker for the URL (see the module docstring)."""
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=_middleware())
    if url.startswith("redis://"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, middleware=_middleware())
    broker = StubBroker(middleware=_middleware(test=url == "stub"))
    broker.emit_after("process_boot")
    return broker


broker: dramatiq.Broker = build_broker(get_settings().broker_url)
dramatiq.set_broker(broker)


def is_in_memory() -> bool:
    """True for the inline and stub brokers (one process)."""
    return isinstance(broker, StubBroker)


def enqueue_after_commit(session: Session, actor: dramatiq.Actor[Any, Any], *args: Any) -> None:
    """Send ``actor(*args)`` once ``session`` commits; forget it if it rolls back."""
    pending: list[tuple[dramatiq.Actor[Any, Any], tuple[Any, ...]]] = session.info.setdefault(
        _PENDING_KEY, []
    )
    if not event.contains(session, "after_commit", _send_pending):
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)
    pending.append((actor, args))


def enqueue_item_after_commit(session: Session, actor: dramatiq.Actor[Any, Any],
                              item: Any) -> None:
    """Send ``actor([item, …])`` once ``session`` commits: one job for every item a unit of
    work queues for this actor (its one argument is the list), not a job each. A SAVEPOINT
    rolled back drops a job it queued (the next item starts another); items it added to an
    earlier job stay in it, so the job must skip ids whose rows do not exist."""
    for queued, args in reversed(session.info.get(_PENDING_KEY, [])):
        if queued is actor and len(args) == 1 and isinstance(args[0], list):
            args[0].append(item)
            return
    enqueue_after_commit(session, actor, [item])


def pending_mark(session: Session) -> int:
    """How many jobs are waiting for this session's commit (see drop_pending_since)."""
    return len(session.info.get(_PENDING_KEY, []))


def pending_since(session: Session, mark: int
                  ) -> list[tuple[dramatiq.Actor[Any, Any], tuple[Any, ...]]]:
    """The jobs queued for this session's commit after ``mark``."""
    return list(session.info.get(_PENDING_KEY, [])[mark:])


def drop_pending_since(session: Session, mark: int) -> None:
    """Forget the jobs queued after ``mark``: their SAVEPOINT was rolled back."""
    pending = session.info.get(_PENDING_KEY)
    if pending is not None:
        del pending[mark:]


def _forget(session: Session) -> list[tuple[dramatiq.Actor[Any, Any], tuple[Any, ...]]]:
    # The listeners stay on the (short-lived) session: SQLAlchemy forbids removing them
    # while it is dispatching, and with nothing pending they do nothing.
    pending: list[tuple[dramatiq.Actor[Any, Any], tuple[Any, ...]]] = session.info.pop(
        _PENDING_KEY, [])
    return pending


#: Pauses between attempts to send a committed job while the broker is unreachable.
SEND_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0)


def _send_pending(session: Session) -> None:
    # SQLAlchemy also reports a released SAVEPOINT as a commit: wait for the real one.
    if session.in_nested_transaction():
        return
    for actor, args in _forget(session):
        send_or_leave_to_reconcile(actor, *args)


def send_or_leave_to_reconcile(actor: dramatiq.Actor[Any, Any], *args: Any) -> bool:
    """Send a job whose work is already committed; while the broker is down (a RabbitMQ
    restart) try again a few times, then log and go on: the work is in the database, and
    ``otklik reconcile`` (run by the scheduler) queues it again. The caller (an import, a
    request) is never failed for a broker outage after its data is safe. True when sent."""
    for pause in (*SEND_BACKOFF_SECONDS, None):
        try:
            actor.send(*args)
            return True
        except Exception as exc:  # the broker's connection errors differ per broker
            if pause is None:
                log.error("job %s not queued (%s): the reconciler will queue its work",
                          actor.actor_name, exc)
                return False
            log.warning("broker unreachable sending %s (%s); retrying in %ss",
                        actor.actor_name, exc, pause)
            time.sleep(pause)
    return False


def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # only the outermost rollback drops jobs
        _forget(session)


class _InlineWorker:
    """A Dramatiq worker inside this process (the embedded default)."""

    def __init__(self, threads: int = 1) -> None:
        self.worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=200)

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        stop_worker(self.worker)


def stop_worker(worker: dramatiq.Worker) -> None:
    """Stop a worker of this process and take it off the broker.

    A Dramatiq worker leaves its middleware on the broker when stopped, and that middleware
    starts a consumer for every queue declared afterwards (a module with more actors imported
    later): the stopped worker's consumer would then take that queue's jobs and nobody would
    run them — lost for every later worker and drain of the process."""
    worker.stop()
    worker.broker.middleware[:] = [m for m in worker.broker.middleware
                                   if getattr(m, "worker", None) is not worker]


_inline_worker: _InlineWorker | None = None


def start_inline_worker(threads: int = 1) -> bool:
    """Start the in-process worker when the broker is inline; True when started."""
    global _inline_worker
    if get_settings().broker_url != "inline" or not is_in_memory():
        return False
    with _lock:
        if _inline_worker is None:
            _inline_worker = _InlineWorker(threads)
            _inline_worker.start()
    return True


def stop_inline_worker() -> None:
    """Stop the in-process worker (waits for running jobs)."""
    global _inline_worker
    with _lock:
        if _inline_worker is not None:
            _inline_worker.stop()
            _inline_worker = None


def drain(timeout_ms: int = 600_000) -> None:
    """Run every queued job to completion (in-memory brokers: tests and CLI commands).

    Done is when the worker has nothing in hand and every queue is empty, seen three times
    in a row (a job's follow-ups are sent as it finishes). The brokers' own ``join`` counts
    unfinished tasks instead, and a message taken by a worker that was being stopped is
    never counted done: one such message would keep every later drain waiting.
    """
    if not isinstance(broker, StubBroker):
        return
    # Without the in-process worker running, a temporary one does the work.
    worker = dramatiq.Worker(broker, worker_timeout=100) if _inline_worker is None else None
    if worker:
        worker.start()
    running = worker or _inline_worker.worker  # type: ignore[union-attr]
    deadline = time.monotonic() + timeout_ms / 1000
    try:
        quiet = 0
        while quiet < 3:
            running.join()
            waiting = sum(q.qsize() for q in list(broker.queues.values()))
            quiet = 0 if waiting else quiet + 1
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"{waiting} job(s) still queued after {timeout_ms} ms")
            time.sleep(0.01)
    finally:
        if worker:
            stop_worker(worker)


@contextmanager
def inline_worker() -> Iterator[None]:
    """Run an in-process worker for the duration of a CLI command (inline broker only)."""
    started = start_inline_worker()
    try:
        yield
    finally:
        if started:
            drain()
            stop_inline_worker()
