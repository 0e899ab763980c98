"""A process that runs jobs paces Python's garbage collector (``otklik.worker``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from otklik.worker import GC_THRESHOLDS


def test_a_worker_process_runs_the_collector_at_the_workers_pace() -> None:
    """``dramatiq otklik.worker`` imports the module in each process it starts: that import
    alone sets the thresholds (a fresh interpreter, as a worker process is)."""
    assert GC_THRESHOLDS[0] > 700  # rarer than Python's default young collections
    env = {**os.environ, "OTKLIK_BROKER_URL": "stub", "OTKLIK_ENV": "test"}
    out = subprocess.run(
        [sys.executable, "-c", "import gc, otklik.worker; print(*gc.get_threshold())"],
        capture_output=True, text=True, env=env, timeout=120, check=True)
    assert tuple(int(n) for n in out.stdout.split()) == GC_THRESHOLDS


def test_a_separate_worker_loads_the_language_pipeline_before_its_first_job(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """On RabbitMQ or Redis the pipeline is built at boot (Dramatiq starts the consumers
    after ``before_worker_boot``); the embedded queue leaves it to the first batch."""
    import otklik.intake.tasks as tasks
    import otklik.queue as queue
    from otklik.worker import Preload

    built: list[object] = []
    monkeypatch.setattr(tasks, "active_pipeline", lambda session: built.append(session))
    Preload().before_worker_boot(queue.broker, None)
    assert built == []  # the tests' stub broker is in-memory: nothing loaded at boot

    monkeypatch.setattr(queue, "is_in_memory", lambda: False)
    with caplog.at_level(logging.INFO, logger="otklik.worker"):
        Preload().before_worker_boot(queue.broker, None)
    assert len(built) == 1
    assert "language pipeline loaded" in caplog.text


def test_a_pipeline_that_cannot_be_preloaded_leaves_it_to_the_first_batch(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The database away at boot: the worker still starts (a warning), no exception."""
    import otklik.intake.tasks as tasks
    import otklik.queue as queue
    from otklik.worker import Preload

    def refuse(session: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(tasks, "active_pipeline", refuse)
    monkeypatch.setattr(queue, "is_in_memory", lambda: False)
    with caplog.at_level(logging.WARNING, logger="otklik.worker"):
        Preload().before_worker_boot(queue.broker, None)
    assert "not preloaded" in caplog.text
