"""The API under load from a loopback generator, bounded in time: requests/s and p50/p99 of
the queue page, the case card, the dashboard and Open311's list of requests, against
``/healthz`` measured the same way in the same run (the reference: the server's own floor).

A PostgreSQL database with the five demo regions gets a demo stream imported (enriched and
cased in-process), an administrator, and ``otklik serve`` on a free port; then each target is
hit by ``--clients`` threads for ``--seconds`` seconds (closed loop: a client sends its next
request when the previous one answered).

    python bench/bench_api.py                  # 2,000 messages, 4 clients, 8 s per target
    python bench/bench_api.py --full           # 20,000 messages, 20 s per target
    python bench/bench_api.py --cases 1000000  # topped up to 1 M cases (~6 min to fill)

``--cases N`` tops the database up to N cases after the stream's own, written directly with
COPY as ``bench_workspace.py`` does (one generated message each, spread over two years, the
statuses of a working center), then refreshes the analytics rollups in full so the dashboard
reads them all: the pipeline's rate would make a million cases hours on 2 cores.

Needs PostgreSQL (OTKLIK_BENCH_POSTGRES_URL, as bench_pipeline.py); without it, it says so and
exits 0. Never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pipeline as pipeline  # noqa: E402  (its database helpers)
import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

PASSWORD = "bench password 123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hit(base: str, cookies: httpx.Cookies, paths: list[str], clients: int, seconds: float
         ) -> tuple[float, float, float, int, int]:
    """(requests/s, p50 ms, p99 ms, requests, errors) of a closed loop over ``paths``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=60,
                          headers={"accept": "text/html,application/json"}) as http:
            n = offset
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = http.get(paths[n % len(paths)])
                took = time.perf_counter() - started
                n += 1
                with lock:
                    latencies.append(took)
                    if response.status_code >= 400:
                        errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return len(latencies) / elapsed, q(0.5), q(0.99), len(latencies), errors[0]


def top_up(url: str, cases: int) -> None:
    """Up to ``cases`` cases written directly (see the module's doc), rollups refreshed."""
    import bench_workspace

    from otklik.analytics.tasks import refresh_rollups
    from otklik.db.session import make_engine

    started = time.perf_counter()
    bench_workspace.fill(url, cases)
    engine = make_engine(url)
    with Session(engine) as session:
        refresh_rollups(session, full=True)
        session.commit()
    engine.dispose()
    print(f"topped up to {cases:,} cases, rollups refreshed, in "
          f"{time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--messages", type=int, default=0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--cases", type=int, default=0,
                        help="top the database up to this many cases (COPY), e.g. 1000000")
    args = parser.parse_args()
    total = args.messages or (20_000 if args.full else 2_000)
    seconds = args.seconds or (20.0 if args.full else 8.0)
    missing = pipeline.services_missing()
    if missing:
        print(f"bench_api skipped: {missing}")
        return
    from otklik.db.session import make_engine
    from otklik.models.case import Case

    print(f"machine: {pipeline.machine()}; load average {pipeline.load_average()}")
    server = None
    with (pipeline.demo_template("bench_api", seed=13, total=total)
          as (template, stream, total), pipeline.database_from(template, "bench") as url):
        try:
            env = pipeline.env_for(url, "inline")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "otklik.cli", "import", str(stream)],
                           env=env, check=True, capture_output=True)
            subprocess.run([sys.executable, "-m", "otklik.cli", "user", "create", "bench",
                            "--role", "admin", "--all-regions", "--password", PASSWORD],
                           env=env, check=True, capture_output=True)
            if args.cases:
                top_up(url, args.cases)
            engine = make_engine(url)
            with Session(engine) as session:
                cases = session.scalar(select(func.count(Case.id))) or 0
                ids = list(session.scalars(select(Case.id).order_by(Case.id.desc()).limit(50)))
            engine.dispose()
            print(f"{total:,} messages imported with their cases"
                  f"{' and the cases topped up' if args.cases else ''}: {cases:,} cases in "
                  f"{time.perf_counter() - started:.0f} s")
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "otklik.cli", "serve", "--port", str(port)],
                env={**env, "OTKLIK_SECURE_COOKIES": "false"}, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("otklik serve did not start in 3 minutes")
                time.sleep(0.5)
            with httpx.Client(base_url=base) as http:
                login = http.post("/api/v1/auth/login",
                                  json={"username": "bench", "password": PASSWORD})
                login.raise_for_status()
                cookies = http.cookies
            targets = {
                "healthz (reference)": ["/healthz"],
                "queue /cases": ["/cases"],
                "case card /cases/{id}": [f"/cases/{i}" for i in ids],
                "dashboard /analytics": ["/analytics"],
                "Open311 requests.json": ["/open311/v2/requests.json"],
            }
            rows = []
            for label, paths in targets.items():
                rows.append((label, *_hit(base, cookies, paths, args.clients, seconds)))
        finally:
            if server is not None:
                try:
                    os.killpg(server.pid, signal.SIGTERM)
                    server.wait(timeout=60)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(server.pid, signal.SIGKILL)
    reference = rows[0][1]
    print(f"\nAPI on loopback, {cases:,} cases, {args.clients} clients, {seconds:.0f} s each, "
          "one otklik serve process")
    print(f"{'target':<24} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'requests':>8} "
          f"{'errors':>6} {'÷ healthz':>9}")
    for label, rate, p50, p99, count, errors in rows:
        print(f"{label:<24} {rate:>7.1f} {p50:>7.0f} {p99:>7.0f} {count:>8} {errors:>6} "
              f"{rate / reference:>9.3f}")


if __name__ == "__main__":
    main()
