"""Dashboard queries at country scale: PostgreSQL (base tables and rollups) vs DuckDB.

Generates N relevant messages (a year, all regions) with cases, answers and problems,
bulk-loads them with COPY into a fresh PostgreSQL database migrated to head, builds the
rollups (daily and monthly messages, daily cases), then times the analytics repository's
queries for several filters, the whole dashboard as the service assembles it, and the brief
of a region-month; the same SQL is replayed on DuckDB over the same data (the ratio to beat).

    .venv/bin/python bench/bench_analytics.py [--messages 10000000] [--repeat 15]
        [--base-repeat 3] [--keep] [--admin-url postgresql://postgres@127.0.0.1/postgres]

The issue's target is 10 M messages with p95 under 500 ms; --messages is a flag for smaller
machines. Queries on the base tables are repeated --base-repeat times only (at 10 M they take
seconds: the point of the rollups).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.analytics.cubes import CASE_CUBES, MESSAGE_CUBES
from otklik.analytics.repository import AnalyticsRepository, Limits
from otklik.analytics.rollup import (
    refresh_case_rollup,
    refresh_message_rollup,
    refresh_problem_rollup,
)
from otklik.analytics.schemas import AnalyticsFilter
from otklik.analytics.service import DashboardBuilder
from otklik.audit.actor import Actor
from otklik.days import CASE_WINDOW
from otklik.db.migrate import upgrade
from otklik.db.session import make_engine
from otklik.models.territory import Territory, TerritoryLevel
from otklik.territories.service import load_territories

console = Console(width=170)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 12, 31, tzinfo=UTC)
TOPICS = ["roads", "housing", "utilities", "improvement", "waste", "health", "education",
          "transport", "social", "ecology", None]
TOPIC_WEIGHTS = [24, 14, 14, 10, 8, 7, 5, 6, 4, 3, 5]
SENTIMENTS = ["negative", "neutral", "positive"]
SOURCES = ["vk", "telegram", "ok", "web", "email"]
STATUSES = ["closed", "answered", "in_work", "routed", "rejected"]

#: Columns loaded per table, with their DuckDB types (PostgreSQL gets them through COPY).
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "message": [("id", "BIGINT"), ("source", "VARCHAR"), ("source_id", "VARCHAR"),
                ("region_code", "VARCHAR"), ("text", "VARCHAR"), ("text_length", "INTEGER"),
                ("text_truncated", "BOOLEAN"), ("content_hash", "VARCHAR"),
                ("attachments", "JSON"), ("raw", "JSON"), ("created_at", "TIMESTAMPTZ"),
                ("received_at", "TIMESTAMPTZ"), ("enrich_status", "VARCHAR")],
    "message_enrichment": [("message_id", "BIGINT"), ("relevant", "BOOLEAN"),
                           ("topic", "VARCHAR"), ("sentiment", "VARCHAR"),
                           ("region_code", "VARCHAR"), ("municipality_id", "INTEGER"),
                           ("result", "JSON"), ("enriched_at", "TIMESTAMPTZ")],
    "problem": [("id", "BIGINT"), ("region_code", "VARCHAR"), ("title", "VARCHAR"),
                ("topic", "VARCHAR"), ("municipality_id", "INTEGER"), ("status", "VARCHAR"),
                ("first_seen", "TIMESTAMPTZ"), ("last_seen", "TIMESTAMPTZ"),
                ("size", "INTEGER"), ("state", "JSON"), ("created_at", "TIMESTAMPTZ")],
    "case": [("id", "BIGINT"), ("region_code", "VARCHAR"), ("status", "VARCHAR"),
             ("title", "VARCHAR"), ("topic", "VARCHAR"), ("urgency", "VARCHAR"),
             ("source", "VARCHAR"), ("municipality_id", "INTEGER"),
             ("executor_id", "INTEGER"), ("problem_id", "BIGINT"),
             ("problem_pinned", "BOOLEAN"), ("routing", "JSON"),
             ("received_at", "TIMESTAMPTZ"), ("created_at", "TIMESTAMPTZ"),
             ("updated_at", "TIMESTAMPTZ"), ("resolution_due", "TIMESTAMPTZ"),
             ("first_response_at", "TIMESTAMPTZ"), ("answered_at", "TIMESTAMPTZ"),
             ("pauses", "JSON"), ("escalation_level", "INTEGER"), ("reopen_count", "INTEGER"),
             ("handback_count", "INTEGER"), ("version", "INTEGER"),
             ("merged_into_id", "BIGINT")],
    "case_message": [("message_id", "BIGINT"), ("case_id", "BIGINT"),
                     ("is_primary", "BOOLEAN"), ("added_at", "TIMESTAMPTZ")],
    "answer": [("id", "BIGINT"), ("case_id", "BIGINT"), ("kind", "VARCHAR"),
               ("text", "VARCHAR"), ("status", "VARCHAR"), ("organization_id", "INTEGER"),
               ("quality", "JSON"), ("created_at", "TIMESTAMPTZ")],
}


#: Every rollup table (timed queries read them; DuckDB gets copies).
ROLLUP_TABLES = (*(c.name for c in (*MESSAGE_CUBES, *CASE_CUBES)), "problem_daily_stat")


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def generate(folder: Path, n: int, regions: dict[str, list[int]], population: dict[str, int],
             executors: dict[str, list[int]], seed: int = 7) -> dict[str, int]:
    """Write the CSV files of every table; returns row counts."""
    rng = random.Random(seed)
    codes = sorted(regions)
    weights = [max(population.get(c, 1), 1) for c in codes]
    files = {name: (folder / f"{name}.csv").open("w", newline="") for name in SCHEMA}
    writers = {name: csv.writer(fh) for name, fh in files.items()}
    problems: dict[str, list[int]] = {}
    problem_id = 0
    for code in codes:
        problems[code] = []
        for _ in range(30):
            problem_id += 1
            problems[code].append(problem_id)
            writers["problem"].writerow([problem_id, code, f"Проблема {problem_id}", "roads",
                                         "", "open", _iso(YEAR_START), _iso(YEAR_START), 0,
                                         "{}", _iso(YEAR_START)])
    counts = {name: 0 for name in SCHEMA}
    counts["problem"] = problem_id
    case_id = answer_id = 0
    year_minutes = 365 * 24 * 60
    region_picks = rng.choices(codes, weights=weights, k=n)
    for i in range(1, n + 1):
        code = region_picks[i - 1]
        created = YEAR_START + timedelta(minutes=rng.randrange(year_minutes))
        municipality = rng.choice(regions[code]) if regions[code] and rng.random() < 0.7 \
            else None
        topic = rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
        source = rng.choice(SOURCES)
        writers["message"].writerow([i, source, f"b{i}", code, "Текст сообщения", 15, "f",
                                     f"h{i}", "[]", "{}", _iso(created), _iso(created), "done"])
        writers["message_enrichment"].writerow([
            i, "t", topic or "", rng.choice(SENTIMENTS), code,
            municipality if municipality else "", "{}", _iso(created)])
        if rng.random() < 0.4:
            case_id += 1
            received = created + timedelta(minutes=rng.randrange(1, 120))
            # a month after receipt nearly every case is finished; 2% stay open (the backlog)
            recent = (YEAR_END - received).days < 30
            status = rng.choices(STATUSES, [45, 25, 20, 5, 5] if recent else [62, 30, 1, 1, 6])[0]
            due = received + timedelta(hours=rng.choice((24, 72, 240)))
            first = answered = None
            if status in ("closed", "answered"):
                first = received + timedelta(hours=rng.uniform(0.5, 48))
                answered = received + timedelta(hours=rng.uniform(2, 300))
            executor = rng.choice(executors[code]) if executors.get(code) else ""
            problem = rng.choice(problems[code]) if topic == "roads" and rng.random() < 0.3 \
                else ""
            writers["case"].writerow([
                case_id, code, status, "Обращение", topic or "", "normal", source,
                municipality or "", executor, problem, "f", "{}", _iso(received),
                _iso(received), _iso(received), _iso(due), _iso(first), _iso(answered), "[]",
                0, 1 if answered and rng.random() < 0.1 else 0, 0, 1, ""])
            writers["case_message"].writerow([i, case_id, "t", _iso(received)])
            if answered:
                answer_id += 1
                ok = "true" if rng.random() > 0.25 else "false"
                writers["answer"].writerow([answer_id, case_id, "final", "Ответ", "approved",
                                            executor, json.dumps({"ok": ok == "true"}),
                                            _iso(answered)])
    for fh in files.values():
        fh.close()
    counts.update(message=n, message_enrichment=n, case=case_id, case_message=case_id,
                  answer=answer_id)
    return counts


def copy_into_postgres(url: str, folder: Path) -> None:
    """COPY every CSV into PostgreSQL (empty strings are NULL)."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for name, columns in SCHEMA.items():
            cols = ", ".join(f'"{c}"' for c, _ in columns)
            with (folder / f"{name}.csv").open("rb") as fh, cur.copy(
                    f'COPY "{name}" ({cols}) FROM STDIN WITH (FORMAT csv, NULL \'\')') as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
        for name in ("message", "message_enrichment", "problem", "case", "answer"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                        f"(SELECT max(id) FROM \"{name}\"))" if name != "message_enrichment"
                        else "SELECT 1")
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")


def load_duckdb(folder: Path, pg_engine: Any) -> duckdb.DuckDBPyConnection:
    """The same rows in DuckDB, plus the rollup table exported from PostgreSQL."""
    db = duckdb.connect()
    for name, columns in SCHEMA.items():
        types = ", ".join(f"'{c}': '{t}'" for c, t in columns)
        db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_csv('
                   f"'{folder / (name + '.csv')}', header=false, nullstr='', "
                   f"columns={{{types}}})")
    raw = pg_engine.raw_connection()
    try:
        for table in ROLLUP_TABLES:
            path = folder / f"{table}.csv"
            with raw.cursor() as cur, path.open("wb") as fh, cur.copy(  # type: ignore[attr-defined]
                    f"COPY (SELECT * FROM {table}) TO STDOUT WITH (FORMAT csv, HEADER)"
            ) as copy:
                for chunk in copy:
                    fh.write(chunk)
            with path.open(encoding="utf-8") as fh:
                header = fh.readline().strip().split(",")
            # codes like "07" stay text (DuckDB would read them as numbers)
            text_columns = {c: "VARCHAR" for c in ("region_code", "topic", "source", "okrug")
                            if c in header}
            db.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', "
                       f"header=true, nullstr='', types={text_columns!r})")
    finally:
        raw.close()
    return db


def incremental(engine: Any) -> None:
    """Time the refreshes a running system does: the last day's messages enriched again
    (what a day of new messages costs the message rollups) and the case window."""
    with Session(engine) as session:
        touched = session.execute(text(
            "UPDATE message_enrichment SET enriched_at = (SELECT max(enriched_at) "
            "FROM message_enrichment) + interval '1 minute' WHERE message_id IN "
            "(SELECT id FROM message WHERE created_at >= :since)"),
            {"since": YEAR_END - timedelta(days=1)}).rowcount  # type: ignore[attr-defined]
        session.commit()
        started = time.perf_counter()
        result = refresh_message_rollup(session)
        session.commit()
        middle = time.perf_counter()
        refresh_case_rollup(session, now=YEAR_END)
        session.commit()
        done = time.perf_counter()
    console.print(f"incremental: {touched:,} messages of the last day re-enriched → message "
                  f"rollups {middle - started:.1f} s ({result.days} days); case rollups "
                  f"(the {CASE_WINDOW.days}-day window) {done - middle:.1f} s")


class Recorder:
    """Records the SQL the repository sends, to replay it on DuckDB."""

    def __init__(self, engine: Any) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        if self.on:
            self.statements.append((statement, dict(parameters or {})))


_PARAM = re.compile(r"%\((\w+)\)s")


def _duck_sql(statement: str) -> str:
    sql = _PARAM.sub(lambda m: f"${m.group(1)}", statement)
    return sql.replace("%%", "%")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(1000 * (time.perf_counter() - started))
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))]


def main() -> None:
    """Generate, load, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", "--n", dest="n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--base-repeat", type=int, default=3,
                        help="Repeats of the (slow) queries on the base tables (0: skip them)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    parser.add_argument("--workdir", type=Path,
                        help="Keep the generated CSV files here (default: a temporary folder)")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="Time a database kept by an earlier --keep --workdir run: migrate "
                             "it, rebuild the rollups, skip generating and loading")
    parser.add_argument("--load-only", action="store_true",
                        help="Generate and load, then stop (time later with --reuse)")
    args = parser.parse_args()
    if args.load_only:
        args.keep = True
    if args.reuse and not args.workdir:
        parser.error("--reuse needs the --workdir of the run that generated the data")

    name = args.reuse or f"otklik_bench_analytics_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    console.print(f"database {name}")
    try:
        run(url, args)
    finally:
        if not args.keep and not args.reuse:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, args: argparse.Namespace) -> None:
    """The benchmark on a fresh (or a kept, with ``--reuse``) database."""
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measure(url, args, args.workdir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            measure(url, args, Path(tmp))


def prepare(url: str, engine: Any, args: argparse.Namespace, folder: Path) -> None:
    """Schema, territories, executors; generate the rows and COPY them in."""
    started = time.perf_counter()
    with Session(engine) as session:
        load_territories(session, Actor.system("bench"))
        session.commit()
        regions: dict[str, list[int]] = {}
        population: dict[str, int] = {}
        for t in session.scalars(select(Territory).where(Territory.level.in_(
                [TerritoryLevel.region, TerritoryLevel.municipality]))):
            if t.level == TerritoryLevel.region:
                population[t.region_code] = t.population or 1
                regions.setdefault(t.region_code, [])
            else:
                regions.setdefault(t.region_code, []).append(t.id)
        session.execute(text(
            "INSERT INTO organization (region_code, name, kind, timezone, working_hours, "
            "is_active, created_at) SELECT r.code, 'Исполнитель ' || r.code || '-' || g, "
            "'ministry', 'Europe/Moscow', '{}', true, now() FROM (SELECT DISTINCT region_code "
            "AS code FROM territory WHERE level = 'region') r, generate_series(1, 12) g"))
        session.commit()
        executors: dict[str, list[int]] = {}
        for oid, code in session.execute(text("SELECT id, region_code FROM organization")):
            executors.setdefault(code, []).append(oid)
    console.print(f"schema and territories: {time.perf_counter() - started:.0f} s")
    t0 = time.perf_counter()
    counts = generate(folder, args.n, regions, population, executors)
    t1 = time.perf_counter()
    copy_into_postgres(url, folder)
    console.print(f"generated {counts} in {t1 - t0:.0f} s; COPY {time.perf_counter() - t1:.0f} s")


def measure(url: str, args: argparse.Namespace, folder: Path) -> None:
    """Load (unless reused), build the rollups, time the queries."""
    upgrade(url)
    engine = make_engine(url)
    if not args.reuse:
        prepare(url, engine, args, folder)
    if args.load_only:
        return
    with engine.connect() as conn:
        args.n = conn.execute(text("SELECT count(*) FROM message")).scalar()
    t2 = time.perf_counter()
    with Session(engine) as session:
        refresh_message_rollup(session, full=True)
        session.commit()
    t3 = time.perf_counter()
    with Session(engine) as session:
        refresh_case_rollup(session, now=YEAR_END, full=True)
        refresh_problem_rollup(session, now=YEAR_END, full=True)
        session.commit()
    t4 = time.perf_counter()
    sizes = {}
    with engine.connect() as conn:
        for table in ROLLUP_TABLES:
            conn.execute(text(f"ANALYZE {table}"))
            sizes[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        conn.commit()
    console.print(f"message rollups {t3 - t2:.0f} s, case rollup {t4 - t3:.0f} s; "
                  f"rows: {sizes}")
    incremental(engine)
    duck = load_duckdb(folder, engine)
    with Session(engine) as session:
        big = session.scalar(select(Territory.region_code).where(
            Territory.level == TerritoryLevel.region)
            .order_by(Territory.population.desc().nulls_last()).limit(1))
        municipality = session.scalar(select(Territory.id).where(
            Territory.level == TerritoryLevel.municipality, Territory.region_code == big)
            .order_by(Territory.population.desc().nulls_last()).limit(1))
    filters = {
        "federal, year": AnalyticsFilter.from_params(period="2026"),
        "federal, month": AnalyticsFilter.from_params(period="2026-11"),
        "region, year": AnalyticsFilter.from_params(period="2026", region_code=big),
        "region, month": AnalyticsFilter.from_params(period="2026-11", region_code=big),
        "federal, 30 days": AnalyticsFilter.from_params(date_from=date(2026, 11, 16),
                                                        date_to=date(2026, 12, 15)),
        "region, 30 days": AnalyticsFilter.from_params(
            date_from=date(2026, 11, 16), date_to=date(2026, 12, 15), region_code=big),
        "municipality, month": AnalyticsFilter.from_params(
            period="2026-11", region_code=big, municipality_id=municipality),
    }
    now = YEAR_END
    limits = Limits(Scope.system())
    recorder = Recorder(engine)
    table = Table("filter", "query", "rollup read", "PG base p50", "PG base p95", "PG rollup p50",
                  "PG rollup p95", "DuckDB p50", "DuckDB p95", "DuckDB/PG best p95",
                  title=f"Dashboard queries, {args.n:,} messages (ms)")
    with Session(engine) as session:
        repo = AnalyticsRepository(session)
        for label, flt in filters.items():
            prev = flt.previous()
            queries: dict[str, tuple[Callable[[bool], Any], bool]] = {
                "totals": (lambda r, f=flt: repo.message_counts(f, limits, rollup=r), True),
                "volume by day": (lambda r, f=flt: repo.message_counts(
                    f, limits, ["day"], rollup=r), True),
                "topics now+prev": (lambda r, f=flt, p=prev: (
                    repo.message_counts(f, limits, ["topic"], rollup=r),
                    repo.message_counts(p, limits, ["topic"], rollup=r)), True),
                "sentiment by day": (lambda r, f=flt: repo.message_counts(
                    f, limits, ["day", "sentiment"], rollup=r), True),
                "map areas": (lambda r, f=flt: repo.message_counts(
                    f, limits, ["municipality" if f.region_code else "region"], rollup=r),
                    True),
                "cases by day": (lambda r, f=flt: (
                    repo.case_counts_rollup if r else repo.case_counts)(f, limits, ["day"]),
                    True),
                "top problems": (lambda r, f=flt: repo.problem_message_counts(
                    f, limits, rollup=r), True),
                "executor performance": (lambda r, f=flt: (
                    repo.performance_rollup if r else repo.performance)(
                    f, limits, "executor", now), True),
            }
            for query, (fn, has_rollup) in queries.items():
                base = timed(lambda fn=fn: fn(False), args.base_repeat) \
                    if args.base_repeat else None
                rolled = timed(lambda fn=fn: fn(True), args.repeat) if has_rollup else None
                recorder.statements.clear()
                recorder.on = True
                fn(has_rollup)
                recorder.on = False
                statements = list(recorder.statements)
                try:
                    duck_time = timed(lambda s=statements: [
                        duck.execute(_duck_sql(sql), params).fetchall()
                        for sql, params in s], args.repeat)
                except duckdb.Error as exc:
                    console.print(f"[yellow]DuckDB could not run {query}: {exc}")
                    duck_time = None
                best = min(x[1] for x in (base, rolled) if x)
                read = sorted({m.group(1).removesuffix("_stat") for sql, _ in statements
                               for m in re.finditer(r"FROM (\w+_stat)\b", sql)})
                table.add_row(
                    label, query, ", ".join(read), f"{base[0]:.1f}" if base else "—",
                    f"{base[1]:.1f}" if base else "—",
                    f"{rolled[0]:.1f}" if rolled else "—", f"{rolled[1]:.1f}" if rolled else "—",
                    f"{duck_time[0]:.1f}" if duck_time else "n/a",
                    f"{duck_time[1]:.1f}" if duck_time else "n/a",
                    f"{duck_time[1] / best:.2f}" if duck_time else "n/a")
    console.print(table)
    console.print("DuckDB replays the SQL the PostgreSQL run sent (rollup SQL where a rollup "
                  "exists); the ratio < 1 means DuckDB is faster.")
    whole = Table("filter", "dashboard p50", "dashboard p95",
                  title="The whole dashboard as the service assembles it (rollups on, ms)")
    with Session(engine) as session:
        actor = Actor.system("bench")
        for label, flt in filters.items():
            p50, p95 = timed(lambda f=flt: DashboardBuilder(session, actor, f, now=now).build(),
                             max(3, args.repeat // 3))
            whole.add_row(label, f"{p50:.0f}", f"{p95:.0f}")
        console.print(whole)
        from otklik.reports.brief import build_brief
        from otklik.reports.writers import render

        for fmt in ("pdf", "docx", "xlsx"):
            started = time.perf_counter()
            render(build_brief(session, actor, big, "2026-11", now=now,
                               with_charts=fmt != "xlsx"), fmt)  # type: ignore[arg-type]
            console.print(f"brief of region {big} for 2026-11 as {fmt}: "
                          f"{time.perf_counter() - started:.1f} s (target < 10 s)")
    engine.dispose()


if __name__ == "__main__":
    main()
