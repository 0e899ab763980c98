"""What the task queue holds: depths per queue, dead-lettered jobs, and putting one back.

Dramatiq keeps a job that failed all its retries in the queue's dead-letter queue: on
RabbitMQ the queue ``<queue>.XQ``, on Redis the sorted set ``dramatiq:<queue>.XQ`` with the
bodies in ``dramatiq:<queue>.XQ.msgs``; the in-memory brokers keep a list per queue. A job's
arguments are ids only (STYLE.md: a job takes ids, reloads), so showing them shows no
resident's text. The error shown is the traceback Dramatiq's Retries middleware stored in
the job on its previous failed attempt (the last attempt's own error is in the worker's log).

RabbitMQ has no "peek": a dead-letter queue is read with ``basic_get`` without acking on a
connection of our own, and closing it puts every message back where it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from sqlalchemy.orm import Session

from otklik import queue
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.errors import NotFound

#: Dead-lettered jobs listed per queue (the page is for a look and a decision, not a dump).
LIST_LIMIT = 50


@dataclass(frozen=True)
class QueueDepth:
    """The jobs waiting in one queue: ready to run, delayed (retries, schedules), dead."""

    name: str
    ready: int
    delayed: int
    dead: int


@dataclass(frozen=True)
class DeadLetter:
    """One job that failed all its retries."""

    queue: str
    message_id: str
    actor: str
    args: list[Any]
    retries: int
    error: str
    failed_at: int | None  # ms since the epoch, when known

    @property
    def error_line(self) -> str:
        """The last line of the stored traceback: the exception and its message."""
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


def broker_kind(broker: dramatiq.Broker | None = None) -> str:
    """``rabbitmq``, ``redis`` or ``memory`` (the inline and stub brokers)."""
    broker = broker or queue.broker
    if isinstance(broker, StubBroker):
        return "memory"
    name = type(broker).__name__.lower()
    return "rabbitmq" if "rabbit" in name else "redis"


def queue_names(broker: dramatiq.Broker | None = None) -> list[str]:
    """The queues of every declared actor (not their delay and dead-letter twins)."""
    broker = broker or queue.broker
    names = {actor.queue_name for actor in (broker.get_actor(a) for a in
                                            broker.get_declared_actors())}
    names |= {q for q in broker.get_declared_queues() if not q.endswith((".DQ", ".XQ"))}
    return sorted(names)


def check_broker(broker: dramatiq.Broker | None = None) -> None:
    """Raise when the broker cannot be reached (for ``/readyz``)."""
    broker = broker or queue.broker
    kind = broker_kind(broker)
    if kind == "rabbitmq":
        with _rabbit_channel(broker):
            pass
    elif kind == "redis":
        broker.client.ping()  # type: ignore[attr-defined]


def depths(broker: dramatiq.Broker | None = None) -> list[QueueDepth]:
    """How many jobs wait in each queue."""
    broker = broker or queue.broker
    names = queue_names(broker)
    kind = broker_kind(broker)
    if kind == "memory":
        stub: StubBroker = broker  # type: ignore[assignment]
        return [QueueDepth(name, _stub_size(stub, name), _stub_size(stub, dq_name(name)),
                           len(stub.dead_letters_by_queue.get(name, [])))
                for name in names]
    if kind == "redis":
        client = broker.client  # type: ignore[attr-defined]
        ns = broker.namespace  # type: ignore[attr-defined]
        return [QueueDepth(name, int(client.llen(f"{ns}:{name}")),
                           int(client.llen(f"{ns}:{dq_name(name)}")),
                           int(client.zcard(f"{ns}:{xq_name(name)}")))
                for name in names]
    with _rabbit_channel(broker) as channel:
        counter = _RabbitCounter(channel)
        return [QueueDepth(name, counter(name), counter(dq_name(name)), counter(xq_name(name)))
                for name in names]


def dead_letters(queue_name: str, broker: dramatiq.Broker | None = None,
                 limit: int = LIST_LIMIT) -> list[DeadLetter]:
    """The first ``limit`` dead-lettered jobs of a queue (nothing is taken out)."""
    broker = broker or queue.broker
    _known(queue_name, broker)
    kind = broker_kind(broker)
    if kind == "memory":
        stub: StubBroker = broker  # type: ignore[assignment]
        return [_dead(queue_name, m.asdict())
                for m in stub.dead_letters_by_queue.get(queue_name, [])[:limit]]
    if kind == "redis":
        client = broker.client  # type: ignore[attr-defined]
        key = f"{broker.namespace}:{xq_name(queue_name)}"  # type: ignore[attr-defined]
        ids = client.zrange(key, 0, limit - 1)
        bodies = client.hmget(f"{key}.msgs", ids) if ids else []
        return [_dead(queue_name, json.loads(body)) for body in bodies if body]
    with _rabbit_channel(broker) as channel:
        return [_dead(queue_name, json.loads(body))
                for _, body in _rabbit_peek(channel, xq_name(queue_name), limit)]


def requeue(queue_name: str, message_id: str,
            broker: dramatiq.Broker | None = None) -> DeadLetter:
    """Put one dead-lettered job back on its queue with its retries counted from zero."""
    return _take(queue_name, message_id, broker or queue.broker, send_again=True)


def drop(queue_name: str, message_id: str, broker: dramatiq.Broker | None = None) -> DeadLetter:
    """Delete one dead-lettered job for good."""
    return _take(queue_name, message_id, broker or queue.broker, send_again=False)


def _take(queue_name: str, message_id: str, broker: dramatiq.Broker,
          *, send_again: bool) -> DeadLetter:
    _known(queue_name, broker)
    kind = broker_kind(broker)
    if kind == "memory":
        stub: StubBroker = broker  # type: ignore[assignment]
        held = stub.dead_letters_by_queue.get(queue_name, [])
        found = next((m for m in held if m.message_id == message_id), None)
        if found is None:
            raise _gone(message_id)
        if send_again:
            broker.enqueue(_fresh(found.asdict()))
        held.remove(found)
        return _dead(queue_name, found.asdict())
    if kind == "redis":
        client = broker.client  # type: ignore[attr-defined]
        key = f"{broker.namespace}:{xq_name(queue_name)}"  # type: ignore[attr-defined]
        for redis_id in client.zrange(key, 0, -1):
            body = client.hget(f"{key}.msgs", redis_id)
            data = json.loads(body) if body else {}
            if data.get("message_id") == message_id:
                if send_again:
                    broker.enqueue(_fresh(data))
                client.zrem(key, redis_id)
                client.hdel(f"{key}.msgs", redis_id)
                return _dead(queue_name, data)
        raise _gone(message_id)
    with _rabbit_channel(broker) as channel:
        for tag, body in _rabbit_peek(channel, xq_name(queue_name), None):
            data = json.loads(body)
            if data.get("message_id") == message_id:
                if send_again:  # sent before the ack: a crash between keeps it dead, not lost
                    broker.enqueue(_fresh(data))
                channel.basic_ack(tag)
                return _dead(queue_name, data)
    raise _gone(message_id)


def _fresh(data: dict[str, Any]) -> dramatiq.Message[Any]:
    options = {k: v for k, v in data.get("options", {}).items()
               if k not in ("retries", "traceback", "requeue_timestamp", "redis_message_id",
                            "eta")}
    return dramatiq.Message(queue_name=data["queue_name"], actor_name=data["actor_name"],
                            args=tuple(data.get("args", ())), kwargs=data.get("kwargs", {}),
                            options=options, message_id=data["message_id"],
                            message_timestamp=data.get("message_timestamp", 0))


def _dead(queue_name: str, data: dict[str, Any]) -> DeadLetter:
    options = data.get("options", {})
    return DeadLetter(queue=queue_name, message_id=str(data.get("message_id", "")),
                      actor=str(data.get("actor_name", "")),
                      args=[a for a in data.get("args", [])],
                      retries=int(options.get("retries", 0)),
                      error=str(options.get("traceback", "")),
                      failed_at=options.get("requeue_timestamp"))


def _known(queue_name: str, broker: dramatiq.Broker) -> None:
    if queue_name not in queue_names(broker):
        raise NotFound("no such queue")


def _gone(message_id: str) -> NotFound:
    return NotFound(f"job {message_id} is no longer dead-lettered (requeued or dropped "
                    "meanwhile)")


def _stub_size(broker: StubBroker, name: str) -> int:
    held = broker.queues.get(name)
    return int(held.qsize()) if held is not None else 0


@contextmanager
def _rabbit_channel(broker: dramatiq.Broker) -> Iterator[Any]:
    """A connection of our own (the broker's are per thread and busy consuming)."""
    import pika

    connection = pika.BlockingConnection(broker.parameters)  # type: ignore[attr-defined]
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


class _RabbitCounter:
    """Messages in a queue by a passive declare; a queue nobody declared yet holds none (the
    broker then closes the channel, and the next count opens another)."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def __call__(self, name: str) -> int:
        import pika

        if not self.channel.is_open:
            self.channel = self.channel.connection.channel()
        try:
            return int(self.channel.queue_declare(queue=name, passive=True).method.message_count)
        except pika.exceptions.ChannelClosedByBroker:
            return 0


def _rabbit_peek(channel: Any, name: str, limit: int | None) -> Iterator[tuple[int, bytes]]:
    """Read without acking (closing the connection returns them in order)."""
    import pika

    taken = 0
    while limit is None or taken < limit:
        try:
            method, _, body = channel.basic_get(queue=name, auto_ack=False)
        except pika.exceptions.ChannelClosedByBroker:  # the queue does not exist
            return
        if method is None:
            return
        taken += 1
        yield method.delivery_tag, body


def _brief(value: Any, items: int = 20) -> Any:
    """Arguments for the audit log: a batch's ids cut to the first ``items``."""
    if isinstance(value, list):
        return [_brief(v, items) for v in value[:items]]
    return value


def require_queue_admin(actor: Actor) -> None:
    """The queue is every region's: only an administrator of all regions sees it (anyone
    else gets the 404 of a page outside their scope)."""
    actor.require("admin")
    if not actor.scope.all_regions:
        raise NotFound("not found")


def requeue_audited(session: Session, actor: Actor, queue_name: str,
                    message_id: str) -> DeadLetter:
    """An administrator puts a dead-lettered job back on its queue (audited)."""
    require_queue_admin(actor)
    job = requeue(queue_name, message_id)
    audit.record(session, actor, "queue.requeue", "queue_job", message_id,
                 details={"queue": queue_name, "actor": job.actor, "args": _brief(job.args)})
    return job


def drop_audited(session: Session, actor: Actor, queue_name: str,
                 message_id: str) -> DeadLetter:
    """An administrator deletes a dead-lettered job for good (audited)."""
    require_queue_admin(actor)
    job = drop(queue_name, message_id)
    audit.record(session, actor, "queue.drop", "queue_job", message_id,
                 details={"queue": queue_name, "actor": job.actor, "args": _brief(job.args),
                          "error": job.error_line[:300]})
    return job
