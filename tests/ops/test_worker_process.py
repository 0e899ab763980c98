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


def test_a_worker_named_queues_takes_those_and_path_stands_for_the_paths_queues() -> None:
    """``otklik worker --queues``: repeated or comma-separated names, ``path`` for the path's
    queues, each name once, in the order given."""
    from otklik.worker import PATH_QUEUES, chosen_queues

    assert chosen_queues(["path"]) == list(PATH_QUEUES)
    assert chosen_queues(["incidents,fakes", "publish", "fakes"]) == [
        "incidents", "fakes", "publish"]
    assert chosen_queues(["path", "cases", "audit"]) == [*PATH_QUEUES, "audit"]


def test_a_misspelt_queue_is_refused_with_the_names_that_exist() -> None:
    """A queue no job runs on would leave a worker idle and its intended jobs waiting."""
    from otklik.errors import InvalidInput
    from otklik.worker import chosen_queues

    with pytest.raises(InvalidInput, match="'enrichment'.*path, .*enrich") as refused:
        chosen_queues(["enrichment"])
    assert "cases" in str(refused.value)
    with pytest.raises(InvalidInput, match="at least one queue"):
        chosen_queues([" , "])


def test_the_worker_command_passes_the_queues_to_dramatiq(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI starts ``dramatiq otklik.worker … --queues …``; a bad name stops it before."""
    import subprocess as subprocess_module

    from typer.testing import CliRunner

    import otklik.queue as queue
    from otklik.cli import app

    started: list[list[str]] = []
    monkeypatch.setattr(queue, "is_in_memory", lambda: False)
    monkeypatch.setattr(subprocess_module, "call", lambda command: started.append(command) or 0)
    result = CliRunner().invoke(app, ["worker", "--processes", "2", "--queues", "path",
                                      "-Q", "incidents"])
    assert result.exit_code == 0, result.output
    assert started[0][started[0].index("--queues") + 1:] == [
        "enrich", "cases", "analytics", "incidents"]
    assert started[0][started[0].index("--processes") + 1] == "2"

    result = CliRunner().invoke(app, ["worker", "--queues", "nope"])
    assert result.exit_code != 0  # otklik's main prints the error's one line
    assert "'nope'" in str(result.exception) and len(started) == 1


def test_a_worker_without_the_enrich_queue_does_not_load_the_language_models(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker for the other domains' queues has no use for the models (≈ 300 MB)."""
    import otklik.intake.tasks as tasks
    import otklik.queue as queue
    from otklik.worker import Preload

    built: list[object] = []
    monkeypatch.setattr(tasks, "active_pipeline", lambda session: built.append(session))
    monkeypatch.setattr(queue, "is_in_memory", lambda: False)

    class Worker:
        consumer_whitelist = {"incidents", "fakes"}

    Preload().before_worker_boot(queue.broker, Worker())
    assert built == []
    Worker.consumer_whitelist = {"enrich", "cases"}
    Preload().before_worker_boot(queue.broker, Worker())
    assert len(built) == 1
