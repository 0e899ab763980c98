"""A process that runs jobs paces Python's garbage collector (``otklik.worker``)."""

from __future__ import annotations

import os
import subprocess
import sys

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
