"""The tasks of one enrichment batch, one by one, in one process, on PostgreSQL: enrichment
(``enrich_now``) and then each consumer of ``MessagesEnriched`` on the batch's event, each
timed (wall and CPU) and its SQL statements counted. No broker: the consumers' functions
are called directly with the event the batch announced.

    python bench/profile_batch_tasks.py                      # 2,000 demo messages, batches of 100
    python bench/profile_batch_tasks.py --messages 2000 --batch 100 --days 90
    python bench/profile_batch_tasks.py --cprofile detect_after_enrichment

The database is a copy of ``bench_pipeline``'s template (the five demo regions, bodies,
routing), created and dropped here (OTKLIK_BENCH_POSTGRES_URL). Not part of ``make bench``
(docs/performance.md, «Задачи одной пачки по отдельности»). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("OTKLIK_ENV", "test")
os.environ["OTKLIK_BROKER_URL"] = "stub"

import bench_pipeline as bp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--days", type=int, default=90, help="the stream's span (denser: less)")
    parser.add_argument("--cprofile", help="profile this task (a consumer's name or 'enrich')")
    args = parser.parse_args()
    missing = bp.services_missing()
    if missing and "PostgreSQL" in missing:
        print(f"profile skipped: {missing}")
        return
    from otklik.demo.stream import export_jsonl

    template = f"otklik_prof_tmpl_{uuid.uuid4().hex[:8]}"
    name = f"otklik_prof_{uuid.uuid4().hex[:8]}"
    os.environ["OTKLIK_DATABASE_URL"] = bp._url_of(name)  # before any setting is read
    print(f"load average {bp.load_average()}")
    with tempfile.TemporaryDirectory(prefix="otklik-prof-") as folder:
        stream = Path(folder) / "stream.jsonl"
        total = export_jsonl(stream, seed=11, total=args.messages, days=args.days)
        bp.build_template(template)
        try:
            url = bp.copy_database(template, name)
            env = bp.env_for(url, "stub")
            subprocess.run([sys.executable, "-m", "otklik.cli", "import", str(stream),
                            "--defer"], env=env, check=True, capture_output=True)
            run(args, total)
        finally:
            bp.drop_database(name)
            bp.drop_database(template)
    print(f"load average {bp.load_average()}")


def run(args: argparse.Namespace, total: int) -> None:
    from sqlalchemy import event as sa_event
    from sqlalchemy import select

    import otklik.worker  # noqa: F401  (every consumer declared)
    from otklik import events
    from otklik.db.session import get_engine, session_scope
    from otklik.events import MessagesEnriched
    from otklik.intake import tasks
    from otklik.models.message import Message

    statements: list[int] = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    sa_event.listen(get_engine(), "before_cursor_execute", count)
    announced: list[MessagesEnriched] = []
    original = events.announce

    def capture(session: Any, event: Any) -> None:
        if isinstance(event, MessagesEnriched):
            announced.append(event)
        else:
            original(session, event)

    events.announce = capture  # type: ignore[assignment]
    with session_scope() as session:
        ids = list(session.scalars(select(Message.id).order_by(Message.id)))
        tasks.active_pipeline(session)  # the one-time build of the pipeline is not counted
    consumers = events.consumers_of(MessagesEnriched)
    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    sql: dict[str, int] = defaultdict(int)
    profiler = cProfile.Profile() if args.cprofile else None

    def timed(task: str, fn: Any, *a: Any) -> None:
        statements[0] = 0
        w, c = time.perf_counter(), time.process_time()
        if profiler is not None and task == args.cprofile:
            profiler.enable()
        try:
            fn(*a)
        finally:
            if profiler is not None and task == args.cprofile:
                profiler.disable()
        wall[task] += time.perf_counter() - w
        cpu[task] += time.process_time() - c
        sql[task] += statements[0]

    def enrich(batch: list[int]) -> None:
        with session_scope() as session:
            tasks.enrich_now(session, batch)

    started = time.perf_counter()
    for start in range(0, len(ids), args.batch):
        batch = ids[start:start + args.batch]
        announced.clear()
        timed("enrich", enrich, batch)
        for event in announced:
            payload = event.model_dump(mode="json")
            for job in consumers:
                timed(job.actor_name, job.fn, payload)
    elapsed = time.perf_counter() - started
    whole = sum(wall.values())
    print(f"\n{total:,} messages in batches of {args.batch}: {elapsed:.1f} s "
          f"({total / elapsed:,.0f} msg/s all tasks in one process)")
    print(f"{'task':<36} {'wall s':>7} {'cpu s':>7} {'share':>6} {'SQL':>7}")
    for task in ["enrich", *(j.actor_name for j in consumers)]:
        print(f"{task:<36} {wall[task]:>7.2f} {cpu[task]:>7.2f} "
              f"{wall[task] / whole:>6.0%} {sql[task]:>7}")
    try:
        from otklik.incidents import window

        for memory in window._memories.values():
            print(f"detector windows replayed: {memory.rebuilds} ({dict(memory.why)}), "
                  f"tails re-fed: {sum(w.forks for w in memory.windows.values())}")
    except ImportError:  # before the kept windows
        pass
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
