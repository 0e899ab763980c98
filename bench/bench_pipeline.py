"""End to end on PostgreSQL + RabbitMQ: import → enriched → case with 1, 2 and 4 worker
processes (``otklik worker --processes N``), against the language stages alone on the same
stream in the same run (the reference: ``otklik enrich --data … --out …``, no database).

Each run gets a fresh database (a copy of a template with the five demo regions, their
organizations and routing) and a RabbitMQ virtual host of its own. The stream (the demo's
generator) is imported with ``--defer``, so the jobs wait in RabbitMQ; then the workers start
and the clock runs until every message is enriched, every relevant one is in a case and the
queues are empty (the rollups' 20 s debounce is not waited for). Worker memory is sampled from
/proc (every process of the worker group).

    python bench/bench_pipeline.py            # 5,000 messages (a few minutes)
    python bench/bench_pipeline.py --full     # 50,000 messages
    python bench/bench_pipeline.py --messages 2000 --workers 1 2

Needs PostgreSQL (OTKLIK_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/
postgres) and RabbitMQ with rabbitmqctl on 127.0.0.1; without them it says so and exits 0.
Prints a table and ratios; never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("OTKLIK_ENV", "test")
os.environ["OTKLIK_BROKER_URL"] = "stub"  # this process only reads; workers are subprocesses

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

PG_URL = os.environ.get("OTKLIK_BENCH_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT = ("127.0.0.1", 5672)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text()
                          .splitlines() if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
            f"Python {platform.python_version()}")


def services_missing() -> str | None:
    try:
        with socket.create_connection(RABBIT, timeout=2):
            pass
    except OSError:
        return "RabbitMQ is not listening on 127.0.0.1:5672"
    if subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True,
                      timeout=60).returncode != 0:
        return "rabbitmqctl does not answer"
    try:
        engine = create_engine(_psycopg(PG_URL))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any driver error: say it and skip
        return f"PostgreSQL at {PG_URL} cannot be reached ({type(exc).__name__})"
    return None


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _admin() -> Any:
    return create_engine(_psycopg(PG_URL), isolation_level="AUTOCOMMIT")


def _url_of(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def build_template(name: str) -> None:
    """A database with the schema and the demo's reference data (regions, bodies, routing)."""
    from otklik.audit.actor import Actor
    from otklik.db.migrate import upgrade
    from otklik.db.session import make_engine
    from otklik.demo.routing import load_regions_for_cases

    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = _url_of(name)
    upgrade(url)
    engine = make_engine(url)
    actor = Actor.system("bench")
    with Session(engine) as session:
        load_regions_for_cases(session, actor)
        session.commit()
    engine.dispose()


def copy_database(template: str, name: str) -> str:
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return _url_of(name)


def drop_database(name: str) -> None:
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def demo_template(prefix: str, seed: int = 11, total: int = 5_000, **export: Any
                  ) -> Iterator[tuple[str, Path, int]]:
    """The demo stream written to a JSONL file and a template database with the schema and
    the demo's reference data: yields (template's name, the stream's path, its messages);
    both are removed afterwards."""
    from otklik.demo.stream import export_jsonl

    template = f"otklik_{prefix}_tmpl_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix=f"otklik-{prefix}-") as folder:
        stream = Path(folder) / "stream.jsonl"
        total = export_jsonl(stream, seed=seed, total=total, **export)
        build_template(template)
        try:
            yield template, stream, total
        finally:
            drop_database(template)


@contextmanager
def database_from(template: str, prefix: str) -> Iterator[str]:
    """A database copied from ``template``: yields its URL; dropped afterwards."""
    name = f"otklik_{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield copy_database(template, name)
    finally:
        drop_database(name)


@contextmanager
def vhost() -> Iterator[str]:
    name = f"otklik_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*",
                    ".*"], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


def env_for(database_url: str, broker_url: str) -> dict[str, str]:
    """The subprocesses' environment: this machine's OTKLIK_ settings left out, except the
    path's batch (``--batch``: ``OTKLIK_ENRICH_BATCH``)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OTKLIK_") or k == "OTKLIK_ENRICH_BATCH"}
    env.update(OTKLIK_ENV="test", OTKLIK_DATABASE_URL=database_url,
               OTKLIK_BROKER_URL=broker_url, OTKLIK_LOG_LEVEL="WARNING",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *sys.path]))
    return env


def otklik(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "otklik.cli", *args], env=env,
                            start_new_session=True, **kwargs)


def reference_rate(stream: Path) -> float:
    """Messages/s of the language stages alone, in this process, over the same stream (what
    ``otklik enrich --data … --out …`` runs), after a warm-up batch."""
    from otklik.nlp.pipeline import Pipeline

    records = [json.loads(line) for line in stream.open(encoding="utf-8")]
    pipeline = Pipeline.default()
    for _ in pipeline.iter_process(records[:64]):
        pass
    started = time.perf_counter()
    done = sum(1 for _ in pipeline.iter_process(records))
    return done / max(time.perf_counter() - started, 1e-6)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by the worker group (the process and its
    descendants)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in _descendants(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far (every core; /proc/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values) - idle) / ticks, sum(values) / ticks


class MemorySampler(threading.Thread):
    """The peak RSS of the largest process and of the whole worker group."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.stop = pid, threading.Event()
        self.peak_process = self.peak_total = 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            sizes = [_rss_mb(p) for p in _descendants(self.pid)]
            if sizes:
                self.peak_process = max(self.peak_process, max(sizes))
                self.peak_total = max(self.peak_total, sum(sizes))
            self.stop.wait(0.5)


def queue_depth(broker_url: str, only: list[str] | None = None) -> int:
    """Jobs ready in the workers' queues (``only``: in these; the delayed rollups are not
    counted)."""
    import pika

    import otklik.worker  # noqa: F401  (declares every actor: their queue names)
    from otklik.ops.queues import queue_names

    names = set(only or ()) or set(queue_names())
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    total = 0
    try:
        for name in sorted(names):
            channel = connection.channel()
            try:
                total += channel.queue_declare(queue=name, passive=True).method.message_count
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:
                pass
    finally:
        connection.close()
    return total


def progress(engine: Any, *, cases_too: bool = True) -> tuple[int, int, int]:
    """(messages, enriched, relevant messages still without a case). ``cases_too`` False:
    the last is not counted (-1): it reads the whole message, enrichment and case tables,
    and this poller, every 0.25 s, took the cores the workers and the database measured run
    on (at 20,000 messages tens of milliseconds a look); while enrichment is under way the
    cheap counts say enough."""
    from otklik.db.base import utcnow
    from otklik.models.message import Message
    from otklik.upkeep.invariants import relevant_without_case_query

    with Session(engine) as session:
        messages = session.scalar(select(func.count(Message.id))) or 0
        pending = session.scalar(select(func.count(Message.id))
                                 .where(Message.enrich_status == "pending")) or 0
        waiting = -1
        if cases_too:
            waiting = session.scalar(select(func.count()).select_from(
                relevant_without_case_query(utcnow()).subquery())) or 0
    return messages, messages - pending, waiting


@dataclass
class Run:
    workers: int
    total: int
    first_count: int  # enriched when the clock of the rate starts (a worker process ready)
    import_s: float
    startup_s: float
    enriched_s: float
    cased_s: float
    cases: int
    peak_process_mb: float
    peak_total_mb: float
    worker_cpu_s: float = 0.0  # the worker group's CPU from ready to the last case
    machine_busy: float = 0.0  # the machine's busy share over the same time (all cores)

    @property
    def rate(self) -> float:
        return (self.total - self.first_count) / max(self.cased_s - self.startup_s, 1e-6)

    @property
    def enrich_rate(self) -> float:
        return (self.total - self.first_count) / max(self.enriched_s - self.startup_s, 1e-6)


#: What Dramatiq logs when a worker process has booted: with :class:`otklik.worker.Preload`,
#: after its language models are loaded and before it takes a job. The clock starts at the
#: first one (with several processes the others' loading counts as working time).
READY = b"Worker process is ready for action"


def run_once(template: str, stream: Path, total: int, workers: int, threads: int,
             tmp: Path, queues: list[str] | None = None) -> Run:
    """One run on a fresh database; ``queues``: the workers take only these (``otklik worker
    --queues``), and the clock stops when they are empty (the others' jobs wait)."""
    with database_from(template, "bench") as url:
        return _run_in(url, stream, total, workers, threads, tmp, queues)


def _run_in(url: str, stream: Path, total: int, workers: int, threads: int, tmp: Path,
            queues: list[str] | None = None) -> Run:
    from otklik.db.session import make_engine
    from otklik.models.case import Case
    from otklik.models.message import Message

    engine = make_engine(url)
    try:
        with vhost() as host:
            broker_url = f"amqp://guest:guest@127.0.0.1:5672/{host}"
            env = env_for(url, broker_url)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "otklik.cli", "import", str(stream),
                            "--defer"], env=env, check=True, capture_output=True)
            import_s = time.perf_counter() - started
            log = (tmp / f"workers-{workers}.log").open("wb")
            chosen = ["--queues", ",".join(queues)] if queues else []
            worker = otklik(["worker", "--processes", str(workers), "--threads",
                             str(threads), *chosen], env, stdout=log,
                            stderr=subprocess.STDOUT)
            sampler = MemorySampler(worker.pid)
            sampler.start()
            started = time.perf_counter()
            startup_s = enriched_s = 0.0
            first_count = 0
            try:
                while not startup_s:  # a process is ready once its models are loaded
                    time.sleep(0.05)
                    if READY in (tmp / f"workers-{workers}.log").read_bytes():
                        startup_s = time.perf_counter() - started
                        first_count = progress(engine, cases_too=False)[1]
                        cpu_at_ready, busy_at_ready = cpu_seconds(worker.pid), machine_busy()
                    elif time.perf_counter() - started > 300:
                        raise SystemExit(f"{workers} workers: not ready in 5 minutes "
                                         f"(see {tmp / f'workers-{workers}.log'})")
                while True:
                    time.sleep(0.25)
                    messages, enriched, waiting = progress(engine, cases_too=bool(enriched_s))
                    now = time.perf_counter() - started
                    if not enriched_s and enriched >= messages:
                        enriched_s = now
                        continue  # the next look counts the messages without a case too
                    if enriched_s and not waiting and queue_depth(broker_url, queues) == 0:
                        cased_s = now
                        worker_cpu_s = cpu_seconds(worker.pid) - cpu_at_ready
                        busy, every = (b - a for a, b in zip(busy_at_ready, machine_busy(),
                                                             strict=True))
                        break
                    if now > 1800:
                        raise SystemExit(f"{workers} workers: not done in 30 minutes "
                                         f"({enriched}/{messages} enriched, {waiting} waiting)")
            finally:
                sampler.stop.set()
                try:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(timeout=120)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(worker.pid, signal.SIGKILL)
                log.close()
        text_of_log = (tmp / f"workers-{workers}.log").read_text(errors="replace")
        retried = text_of_log.count("Retrying message")
        if retried or "Traceback" in text_of_log:
            kept = Path(tempfile.gettempdir()) / f"bench_pipeline-workers-{workers}.log"
            kept.write_text(text_of_log)
            print(f"  {workers} worker process(es): {retried} job(s) retried, "
                  f"{text_of_log.count('Traceback')} traceback(s) — the log: {kept}")
        with Session(engine) as session:
            cases = session.scalar(select(func.count(Case.id))) or 0
            stored = session.scalar(select(func.count(Message.id))) or 0
        return Run(workers, stored, first_count, import_s, startup_s, enriched_s, cased_s,
                   cases, sampler.peak_process, sampler.peak_total, worker_cpu_s,
                   busy / max(every, 1e-6))
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="50,000 messages")
    parser.add_argument("--messages", type=int, default=0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=0, metavar="N",
                        help="messages per enrichment job (OTKLIK_ENRICH_BATCH; default: the "
                             "setting's)")
    parser.add_argument("--queues", nargs="+", metavar="QUEUE",
                        help="the workers take only these queues ('path': enrich, cases, "
                             "analytics); the clock stops when they are empty")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    total = args.messages or (50_000 if args.full else 5_000)
    if args.batch:
        os.environ["OTKLIK_ENRICH_BATCH"] = str(args.batch)
    queues = None
    if args.queues:
        from otklik.worker import chosen_queues

        queues = chosen_queues(args.queues)
    missing = services_missing()
    if missing:
        print(f"bench_pipeline skipped: {missing}")
        return
    print(f"machine: {machine()}; load average {load_average()} (other work on the machine "
          "slows every figure; the ratios to the reference measured in the same run less so)")
    t0 = time.perf_counter()
    with demo_template("bench", total=total) as (template, stream, total):
        tmp = stream.parent
        print(f"stream of {total:,} messages and the template database in "
              f"{time.perf_counter() - t0:.0f} s")
        reference = reference_rate(stream)
        print(f"reference: the language stages alone (the pipeline of otklik enrich, one "
              f"process): {reference:,.0f} msg/s")
        runs = []
        for workers in args.workers:
            run = run_once(template, stream, total, workers, args.threads, tmp, queues)
            runs.append(run)
            print(f"  {workers} worker process(es): {run.rate:,.0f} msg/s to case "
                  f"(load average {load_average()})")
    base = runs[0].rate
    header = (f"{'processes':>9} {'import s':>8} {'start s':>7} {'enriched s':>10} "
              f"{'to case s':>9} {'msg/s':>7} {'enrich msg/s':>12} {'× 1 proc':>8} "
              f"{'÷ ref':>6} {'cases':>6} {'RSS/proc MB':>11} {'RSS all MB':>10} "
              f"{'CPU s':>6} {'busy':>5}")
    from otklik.config import get_settings

    print(f"\nimport → enriched → case, {total:,} messages, {args.threads} threads/process, "
          f"batch {os.environ.get('OTKLIK_ENRICH_BATCH') or get_settings().enrich_batch}, "
          f"queues: {', '.join(queues) if queues else 'all'}")
    print(header)
    for run in runs:
        print(f"{run.workers:>9} {run.import_s:>8.1f} {run.startup_s:>7.1f} "
              f"{run.enriched_s:>10.1f} {run.cased_s:>9.1f} {run.rate:>7,.0f} "
              f"{run.enrich_rate:>12,.0f} {run.rate / base:>8.2f} {run.rate / reference:>6.2f} "
              f"{run.cases:>6} {run.peak_process_mb:>11.0f} {run.peak_total_mb:>10.0f} "
              f"{run.worker_cpu_s:>6.1f} {run.machine_busy:>5.0%}")
    print("msg/s: the messages not enriched when a worker process was ready ÷ the seconds "
          "from then to the last case (start-up excluded); ÷ ref: against the language stages "
          "alone, one process; CPU s: the worker processes' CPU over the same time; busy: the "
          "machine's busy share of all its cores then (the database, the broker and this "
          "poller included)")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine(), "messages": total, "reference_msg_s": reference,
            "runs": [{**run.__dict__, "rate": run.rate, "enrich_rate": run.enrich_rate}
                     for run in runs]}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
