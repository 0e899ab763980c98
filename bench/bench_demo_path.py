"""The whole path in one process as ``otklik demo`` loads it, on PostgreSQL: import →
enrichment (with near-duplicates) → cases → problems → the simulated work, against the
language stages alone on the same stream in the same run (the reference of
``bench_pipeline.py``: the pipeline of ``otklik enrich --data … --out …``, one process, no
database).

This is the measure the issue quotes for "today" (``otklik demo`` loading its stream with
its cases, against ``otklik enrich`` alone). It differs from ``bench_pipeline.py``, which
runs the live path through RabbitMQ and ``otklik worker`` (a job per batch, the live
consumers: detector, direct line, fakes, webhooks, acknowledgements): here the bulk path of
a load — messages imported and enriched in batches of 500 as a bulk load (not ``live``),
then the cases built in 6-hour buckets at the time each message arrived, each bucket's
problems assigned — the path of ``otklik demo`` and of importing an archive — and the
demo's 90 days of work played over the cases (``simulate_work``: each case's life, the
answers published, the SLA's daily ticks; the demo's incidents are left out).

    python bench/bench_demo_path.py                   # 5,000 messages (~3-5 minutes)
    python bench/bench_demo_path.py --messages 20000  # the demo's own size

Needs PostgreSQL (OTKLIK_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/
postgres); without it, says so and exits 0. Prints a table and ratios; never asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import (  # noqa: E402  (sets the environment before otklik is imported)
    database_from,
    demo_template,
    load_average,
    machine,
    reference_rate,
    services_missing,
)


def run_path(url: str, stream: Path, prof: str | None = None) -> dict[str, float]:
    """Seconds of each stage of the load, in this process, against the database at ``url``
    (``prof``: a stage to run under cProfile, its 25 costliest calls printed)."""
    os.environ["OTKLIK_DATABASE_URL"] = url
    from sqlalchemy import Engine, event

    from otklik.channels.files import RowResult
    from otklik.channels.schemas import IncomingMessage
    from otklik.config import get_settings
    from otklik.db.session import reset_engine_cache
    from otklik.demo import simulation
    from otklik.intake.importer import import_rows
    from otklik.intake.tasks import enrich_pending

    get_settings.cache_clear()
    reset_engine_cache()
    messages = [IncomingMessage.model_validate_json(line)
                for line in stream.open(encoding="utf-8")]
    rows = (RowResult(n, message) for n, message in enumerate(messages, 1))
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    statements: dict[str, int] = {}
    executed = [0]

    def count(*_: object) -> None:
        executed[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    for stage, work in (
            ("import", lambda: import_rows(rows, enqueue=False)),
            ("enrichment", enrich_pending),
            ("cases and problems", simulation.build_all_cases),
            ("simulated work", simulation.simulate_work)):
        profile = cProfile.Profile() if prof and stage.startswith(prof) else None
        started, started_cpu = time.perf_counter(), time.process_time()
        executed[0] = 0
        if profile:
            profile.runcall(work)
        else:
            work()
        seconds[stage] = time.perf_counter() - started
        cpu[stage] = time.process_time() - started_cpu
        statements[stage] = executed[0]
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    event.remove(Engine, "before_cursor_execute", count)
    reset_engine_cache()
    return {**{f"{k} s": v for k, v in seconds.items()},
            **{f"{k} cpu": v for k, v in cpu.items()},
            **{f"{k} sql": float(v) for k, v in statements.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--prof", choices=["import", "enrichment", "cases", "simulated"],
                        help="run this stage under cProfile and print its costliest calls")
    args = parser.parse_args()
    missing = services_missing()
    if missing and "PostgreSQL" in missing:
        print(f"bench_demo_path skipped: {missing}")
        return
    print(f"machine: {machine()}; load average {load_average()}")
    with (demo_template("bench", seed=args.seed, total=args.messages)
          as (template, stream, total), database_from(template, "bench_demo") as url):
        # The pipeline is built once per process (models, the territory index): warm it
        # for both measures, so neither pays for the load.
        reference = reference_rate(stream)
        stages = run_path(url, stream, args.prof)
        reference_after = reference_rate(stream)
    path = ("import", "enrichment", "cases and problems")  # the "whole path"
    path_s = sum(stages[f"{stage} s"] for stage in path)
    path_cpu = sum(stages[f"{stage} cpu"] for stage in path)
    path_sql = sum(stages[f"{stage} sql"] for stage in path)
    ref = (reference + reference_after) / 2
    print(f"\nthe demo's load path, {total:,} messages, one process, PostgreSQL "
          f"(load average now {load_average()})")
    print(f"{'stage':<20} {'s':>8} {'CPU s':>8} {'msg/s':>8} {'SQL':>8}")

    def row(stage: str, wall: float, cpu: float, sql: float) -> None:
        print(f"{stage:<20} {wall:>8.1f} {cpu:>8.1f} {total / max(wall, 1e-6):>8,.0f} "
              f"{sql:>8,.0f}")

    for stage in path:
        row(stage, stages[f"{stage} s"], stages[f"{stage} cpu"], stages[f"{stage} sql"])
    row("whole path", path_s, path_cpu, path_sql)
    work = "simulated work"
    row(work, stages[f"{work} s"], stages[f"{work} cpu"], stages[f"{work} sql"])
    row("path and work", path_s + stages[f"{work} s"], path_cpu + stages[f"{work} cpu"],
        path_sql + stages[f"{work} sql"])
    print(f"reference (language stages alone, before / after): {reference:,.0f} / "
          f"{reference_after:,.0f} msg/s")
    print(f"whole path ÷ reference: {total / path_s / ref:.2f}   "
          f"(by CPU seconds: {total / path_cpu / ref:.2f})")


if __name__ == "__main__":
    main()
