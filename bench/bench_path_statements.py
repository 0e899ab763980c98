"""The whole path on PostgreSQL in one process, counted: import → enrichment → dedup → case
→ problem → auto-answer → rollup, SQL statements per message and the rate against the
language stages alone measured in the same run.

The demo stream (its generator) is imported with its jobs queued (the in-memory broker) and a
one-thread worker runs every job, as one ``otklik worker`` thread would; every statement sent
to PostgreSQL is counted by kind and by the job that sent it. The reference is the language
stages alone (the pipeline of ``otklik enrich``, no database) over the same stream, in this
process, just before.

    python bench/bench_path_statements.py                 # 1,000 messages
    python bench/bench_path_statements.py --messages 3000

Needs PostgreSQL (OTKLIK_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/
postgres); without it, it says so and exits 0. Prints a table and ratios; never asserts on
time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pipeline as common  # noqa: E402  (sets OTKLIK_ENV=test and the stub broker)
from sqlalchemy import event, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

_job = threading.local()


def run(total: int) -> dict[str, Any]:
    with (common.demo_template("bench", total=total) as (template, stream, total),
          common.database_from(template, "bench") as url):
        reference = common.reference_rate(stream)
        figures = _path(url, stream)
    return {"messages": total, "reference_msg_s": reference, **figures}


def _path(url: str, stream: Path) -> dict[str, Any]:
    os.environ["OTKLIK_DATABASE_URL"] = url
    from otklik.config import get_settings

    get_settings.cache_clear()
    from otklik.db.session import get_engine, reset_engine_cache

    reset_engine_cache()
    import dramatiq

    import otklik.worker  # noqa: F401  (declares every actor)
    from otklik.channels.files import RowResult
    from otklik.channels.schemas import IncomingMessage
    from otklik.intake.importer import import_rows
    from otklik.models.case import Case, Problem
    from otklik.queue import broker

    kinds: Counter[str] = Counter()
    by_job: Counter[str] = Counter()
    shapes: Counter[tuple[str, str]] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        kind = statement.lstrip().split(None, 1)[0].upper()
        job = getattr(_job, "name", "import")
        kinds[kind] += 1
        by_job[job] += 1
        shapes[(job, " ".join(statement.split())[:110])] += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)

    class Named(dramatiq.Middleware):  # type: ignore[misc]
        def before_process_message(self, _broker: Any, message: Any) -> None:
            _job.name = message.actor_name

        def after_process_message(self, _broker: Any, message: Any, **_: Any) -> None:
            _job.name = "other"

    broker.add_middleware(Named())
    rows = [RowResult(n, IncomingMessage.model_validate(json.loads(line)))
            for n, line in enumerate(stream.open(encoding="utf-8"), 1)]
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    # the pipeline's one-off build (models, territory index) is start-up, not the path
    from otklik.db.session import session_scope
    from otklik.intake.tasks import active_pipeline

    with session_scope() as session:
        active_pipeline(session)
    kinds.clear()
    by_job.clear()
    shapes.clear()
    started = time.perf_counter()
    import_rows(rows, enqueue=True)
    worker.start()
    try:
        for queue_name in list(broker.queues):
            broker.join(queue_name, timeout=1_800_000)
        worker.join()
    finally:
        worker.stop()
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        cases = session.scalar(select(func.count(Case.id))) or 0
        problems = session.scalar(select(func.count(Problem.id))) or 0
    return {"seconds": seconds, "statements": dict(kinds), "by_job": dict(by_job),
            "cases": cases, "problems": problems,
            "shapes": [[job, shape, n] for (job, shape), n in shapes.most_common(40)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--shapes", action="store_true",
                        help="also print the 40 most frequent statements and their jobs")
    args = parser.parse_args()
    missing = common.services_missing()
    if missing and "PostgreSQL" in missing:
        print(f"bench_path_statements skipped: {missing}")
        return
    print(f"machine: {common.machine()}; load average {common.load_average()}")
    figures = run(args.messages)
    total, statements = figures["messages"], figures["statements"]
    rate = total / figures["seconds"]
    all_statements = sum(statements.values())
    print(f"\nwhole path, {total:,} messages, one worker thread, PostgreSQL: "
          f"{figures['seconds']:.1f} s, {rate:,.0f} msg/s; language stages alone "
          f"{figures['reference_msg_s']:,.0f} msg/s; ÷ ref {rate / figures['reference_msg_s']:.2f}")
    print(f"cases {figures['cases']:,}, problems {figures['problems']:,}")
    print(f"SQL statements: {all_statements:,} ({all_statements / total:.1f} per message): "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(statements.items(), key=lambda kv: -kv[1])))
    print("by job: " + ", ".join(f"{k} {v:,}" for k, v in sorted(
        figures["by_job"].items(), key=lambda kv: -kv[1])))
    if args.shapes:
        print("most frequent statements:")
        for job, shape, n in figures["shapes"]:
            print(f"  {n:6,}  {job:32} {shape}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
