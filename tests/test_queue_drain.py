"""``queue.drain`` runs every queued job, also on a queue declared after an earlier drain's
worker stopped (a module with new actors imported later in the same process)."""

from __future__ import annotations

import uuid

import dramatiq
import pytest

from otklik import queue


def test_a_queue_declared_after_an_earlier_drain_is_drained() -> None:
    if not isinstance(queue.broker, dramatiq.brokers.stub.StubBroker):
        pytest.skip("the in-memory broker only")
    queue.drain()  # a temporary worker starts and stops (as in any earlier test)
    ran: list[int] = []
    name = f"late_{uuid.uuid4().hex[:8]}"

    def job(n: int) -> None:
        ran.append(n)

    actor = dramatiq.actor(job, actor_name=name, queue_name=name, broker=queue.broker)
    for n in range(3):
        actor.send(n)
    queue.drain(timeout_ms=20_000)
    assert sorted(ran) == [0, 1, 2]
    assert not [m for m in queue.broker.middleware
                if getattr(m, "worker", None) is not None and not _running(m.worker)]


def _running(worker: dramatiq.Worker) -> bool:
    return any(t.is_alive() for t in worker.workers)
