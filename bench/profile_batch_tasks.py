"""Every job of the whole path, one at a time in one process, on PostgreSQL: where a batch's
time goes (not part of ``make bench``: a tool for profiling, run by hand).

The demo stream is imported with its jobs queued in the in-memory broker (as ``--defer``
leaves them in RabbitMQ); then the jobs are taken from the queues and run one by one in this
process, the follow-up jobs they queue too (problems, answers, audit seals, rollups), until
the queues are empty. For each job: wall and CPU seconds, SQL statements and the seconds
spent in them (``stmts``: an executemany counts once; ``execs``: once per row, as the server
runs it), and the time of the garbage collector; the statements that took longest; and
with ``--prof JOB …`` a cProfile of those jobs (sorted by cumulative time, written beside the
printed table); with ``--statements JOB …`` every statement of those jobs. The language
stages' own time (wall and CPU) inside the enrichment job is timed apart, so the path's rate
can be set against them as ``bench_pipeline`` does, and the job's own cost beyond them is
printed (what its database work costs: the CPU figure holds on a busy machine).

    python bench/profile_batch_tasks.py --messages 2000
    python bench/profile_batch_tasks.py --prof build_cases_after_enrichment enrich_messages
    python bench/profile_batch_tasks.py --days 9      # a denser stream: a batch is hours
    python bench/profile_batch_tasks.py --statements enrich_messages  # its every statement
    python bench/profile_batch_tasks.py --warm 200   # a running worker: one batch first, unmeasured

The emergency detector's kept windows (:mod:`otklik.incidents.window`) print how often they
were replayed from the database, and why, and how often a late batch re-fed their tail.

Needs PostgreSQL (OTKLIK_BENCH_POSTGRES_URL, as ``bench_pipeline``); never asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pipeline as common  # noqa: E402  (sets OTKLIK_ENV=test and the stub broker)
from sqlalchemy import event, text  # noqa: E402


def run(url: str, stream: Path, profiled: list[str], out: Path,
        listed: list[str] | None = None, warm: int = 0) -> None:
    os.environ["OTKLIK_DATABASE_URL"] = url
    from otklik.config import get_settings

    get_settings.cache_clear()
    from otklik.db.session import get_engine, reset_engine_cache, session_scope

    reset_engine_cache()

    import otklik.worker  # noqa: F401  (declares every actor)
    from otklik.channels.files import RowResult
    from otklik.channels.schemas import IncomingMessage
    from otklik.intake.importer import import_rows
    from otklik.intake.tasks import active_pipeline
    from otklik.nlp.pipeline import Pipeline
    from otklik.queue import broker

    job = {"name": "import"}
    statements: Counter[str] = Counter()
    executed: Counter[str] = Counter()  # an executemany counts once per row of parameters
    sql: defaultdict[str, float] = defaultdict(float)
    shapes: defaultdict[tuple[str, str], float] = defaultdict(float)
    shape_n: Counter[tuple[str, str]] = Counter()
    started_at: dict[int, float] = {}

    def before(conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any,
               executemany: bool) -> None:
        statements[job["name"]] += 1
        executed[job["name"]] += len(parameters) if executemany else 1
        started_at[id(conn)] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        spent = time.perf_counter() - started_at.pop(id(conn), time.perf_counter())
        sql[job["name"]] += spent
        key = (job["name"], " ".join(statement.split())[:100])
        shapes[key] += spent
        shape_n[key] += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    stages = [0.0, 0.0]  # wall, CPU
    process = Pipeline.process

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        begun, cpu_begun = time.perf_counter(), time.process_time()
        try:
            return process(self, *args, **kwargs)
        finally:
            stages[0] += time.perf_counter() - begun
            stages[1] += time.process_time() - cpu_begun

    Pipeline.process = timed  # type: ignore[method-assign]
    collected: defaultdict[str, float] = defaultdict(float)
    gc_begun = [0.0]

    def collector(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            gc_begun[0] = time.perf_counter()
        else:
            collected[job["name"]] += time.perf_counter() - gc_begun[0]

    gc.callbacks.append(collector)
    rows = [RowResult(n, IncomingMessage.model_validate(json.loads(line)))
            for n, line in enumerate(stream.open(encoding="utf-8"), 1)]
    with session_scope() as session:
        active_pipeline(session)  # the models' one-off load is start-up, not the path
    wall: defaultdict[str, float] = defaultdict(float)
    cpu: defaultdict[str, float] = defaultdict(float)
    runs: Counter[str] = Counter()
    profiles: dict[str, cProfile.Profile] = {}
    if warm:
        # The stream's first messages and all their jobs, not measured: what a process pays
        # once (statements compiled, modules imported on first use, caches filled) is
        # start-up, as the models' load is; the stages and the path are then both timed
        # over the same remaining messages.
        job["name"] = "warm-up"
        import_rows(rows[:warm], enqueue=True)
        _run_queued(broker, job, {}, wall, cpu, runs)
        for counts in (statements, executed, sql, shapes, shape_n, collected, wall, cpu,
                       runs):
            counts.clear()
        stages[:] = [0.0, 0.0]
    job["name"] = "import"
    import_rows(rows[warm:], enqueue=True)
    profiles = {name: cProfile.Profile() for name in profiled}
    begun = time.perf_counter()
    _run_queued(broker, job, profiles, wall, cpu, runs)
    seconds = time.perf_counter() - begun
    measured = len(rows) - warm
    with engine.connect() as connection:
        messages = connection.execute(text("SELECT count(*) FROM message")).scalar() or 0
        cases = connection.execute(text('SELECT count(*) FROM "case"')).scalar() or 0
    report(measured, messages, cases, seconds, stages, wall, cpu, runs, statements, executed,
           sql, collected, shapes, shape_n, listed, warm)
    write_profiles(profiles, runs, out)


def _run_queued(broker: Any, job: dict[str, str], profiles: dict[str, cProfile.Profile],
                wall: defaultdict[str, float], cpu: defaultdict[str, float],
                runs: Counter[str]) -> None:
    """Take the queued jobs one by one, and the jobs they queue, until every queue is empty."""
    import dramatiq

    while any(not broker.queues[name].empty() for name in broker.queues):
        for name in sorted(broker.queues):
            queue = broker.queues[name]
            while not queue.empty():
                message = dramatiq.Message.decode(queue.get_nowait())
                actor = broker.get_actor(message.actor_name)
                job["name"] = message.actor_name
                profile = profiles.get(message.actor_name)
                w, c = time.perf_counter(), time.process_time()
                if profile:
                    profile.enable()
                try:
                    actor.fn(*message.args, **message.kwargs)
                finally:
                    if profile:
                        profile.disable()
                wall[message.actor_name] += time.perf_counter() - w
                cpu[message.actor_name] += time.process_time() - c
                runs[message.actor_name] += 1


def report(measured: int, messages: int, cases: int, seconds: float, stages: list[float],
           wall: dict[str, float], cpu: dict[str, float], runs: Counter[str],
           statements: Counter[str], executed: Counter[str], sql: dict[str, float],
           collected: dict[str, float], shapes: dict[tuple[str, str], float],
           shape_n: Counter[tuple[str, str]], listed: list[str] | None, warm: int) -> None:
    """Print the table (every figure over the ``measured`` messages after the warm-up)."""
    total = sum(wall.values())
    if warm:
        print(f"after a warm-up of the stream's first {warm:,} messages and their jobs "
              f"(not measured), {measured:,} messages measured:")
    print(f"{messages:,} messages, {cases:,} cases; jobs {seconds:.1f} s: "
          f"{measured / seconds:,.0f} msg/s; language stages inside the enrichment job "
          f"{stages[0]:.2f} s, CPU {stages[1]:.2f} s ({measured / max(stages[0], 1e-6):,.0f} "
          f"msg/s); path ÷ stages {stages[0] / seconds:.2f}")
    path = [name for name in runs if name in ISSUE_PATH]
    path_cpu = sum(cpu[name] for name in path)
    print(f"CPU of the jobs of the path enrichment → dedup → case → problem → rollup "
          f"({len(path)} kinds): {path_cpu:.2f} s, stages ÷ that "
          f"{stages[1] / max(path_cpu, 1e-6):.2f}; of every job: {sum(cpu.values()):.2f} s, "
          f"stages ÷ that {stages[1] / max(sum(cpu.values()), 1e-6):.2f} (import outside both)")
    print(f"the enrichment job beyond the language stages: CPU "
          f"{cpu['enrich_messages'] - stages[1]:.2f} s, wall "
          f"{wall['enrich_messages'] - stages[0]:.2f} s")
    print(f"{'job':36} {'runs':>5} {'wall s':>7} {'cpu s':>6} {'share':>6} {'stmts':>6} "
          f"{'execs':>6} {'sql s':>6} {'gc s':>5}")
    for name in sorted(runs, key=lambda n: -wall[n]):
        print(f"{name:36} {runs[name]:>5} {wall[name]:>7.2f} {cpu[name]:>6.2f} "
              f"{wall[name] / total:>6.0%} {statements[name]:>6} {executed[name]:>6} "
              f"{sql[name]:>6.2f} {collected[name]:>5.2f}")
    print("statements that took longest:")
    for (name, shape), spent in sorted(shapes.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {spent:6.2f} s {shape_n[(name, shape)]:5}× {name[:28]:28} {shape}")
    for name in listed or ():
        print(f"every statement of {name}:")
        for (job_name, shape), spent in sorted(shapes.items(), key=lambda kv: -kv[1]):
            if job_name == name:
                print(f"  {spent:6.2f} s {shape_n[(job_name, shape)]:5}× {shape}")
    for memory in window_memories():
        print(f"detector windows replayed: {memory.rebuilds} ({dict(memory.why)}), "
              f"tails re-fed: {sum(w.forks for w in memory.windows.values())}")


def write_profiles(profiles: dict[str, cProfile.Profile], runs: Counter[str], out: Path
                   ) -> None:
    """Each cProfile beside the printed table (text sorted by cumulative time, and pstats)."""
    if profiles:
        out.mkdir(parents=True, exist_ok=True)
    for name, profile in profiles.items():
        if not runs[name]:
            print(f"no job {name} ran: nothing to profile (the jobs that ran: "
                  f"{', '.join(sorted(runs))})")
            continue
        buffer = io.StringIO()
        pstats.Stats(profile, stream=buffer).sort_stats("cumulative").print_stats(80)
        (out / f"profile_{name}.txt").write_text(buffer.getvalue(), encoding="utf-8")
        profile.dump_stats(str(out / f"profile_{name}.pstats"))
        print(f"cProfile of {name}: {out / f'profile_{name}.txt'}")


#: The jobs of the path the scale issue measures (import → enrichment → dedup → case →
#: problem → rollup); the other jobs of a batch (the detector, the direct line, fakes,
#: publishing, audit seals) are printed in the same table.
ISSUE_PATH = frozenset({"enrich_messages", "build_cases_after_enrichment", "assign_problems_job",
                        "refresh_rollups_job", "rollups_after_enrichment", "request_refresh"})


def window_memories() -> list[Any]:
    """The emergency detector's kept windows of this process (one memory per database)."""
    from otklik.incidents import window

    return list(window._memories.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=0, metavar="N",
                        help="messages per enrichment job (OTKLIK_ENRICH_BATCH; default: the "
                             "setting's)")
    parser.add_argument("--prof", nargs="*", default=[], metavar="JOB",
                        help="profile these jobs (actor names) with cProfile")
    parser.add_argument("--statements", nargs="*", default=[], metavar="JOB",
                        help="list every statement (shape, count, seconds) of these jobs")
    parser.add_argument("--days", type=int, default=90,
                        help="the stream's span in days (fewer: denser, as a live stream)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the profiles go")
    parser.add_argument("--keep", metavar="NAME",
                        help="keep a copy of the worked database under this name (replaced "
                             "if it exists), to look at its tables and plans afterwards")
    parser.add_argument("--warm", type=int, default=0, metavar="N",
                        help="run the stream's first N messages and their jobs before the "
                             "clocks start (a running worker's rate: its one-off costs left "
                             "out, as the models' load is); --messages counts them too")
    args = parser.parse_args()
    if args.batch:
        os.environ["OTKLIK_ENRICH_BATCH"] = str(args.batch)
    missing = common.services_missing()
    if missing and "PostgreSQL" in missing:
        print(f"profile_batch_tasks skipped: {missing}")
        return
    print(f"machine: {common.machine()}; load average {common.load_average()}; batch "
          f"{os.environ.get('OTKLIK_ENRICH_BATCH') or 'the setting'}")
    with (common.demo_template("prof", total=args.messages, days=args.days)
          as (template, stream, _total), common.database_from(template, "prof") as url):
        run(url, stream, args.prof, args.out, args.statements, args.warm)
        if args.keep:
            from otklik.db.session import reset_engine_cache

            reset_engine_cache()  # its connections closed: a template must have none
            common.drop_database(args.keep)
            common.copy_database(url.rsplit("/", 1)[-1], args.keep)
            print(f"the worked database kept as {args.keep}")


if __name__ == "__main__":
    main()
