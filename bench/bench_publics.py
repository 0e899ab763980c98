"""A week's rating of official pages at country scale, in PostgreSQL.

Generates N pages (the country has about 175,000) over 2,000 municipalities of 85 regions,
a month of posts (about 3.5 a week each), residents' questions with the pages' answers and
daily snapshots — all with ``generate_series`` in the database, so generation takes seconds
— then times the weekly job (``otklik publics compute``: one SQL job, no Python loop over
pages) against a reference measured in the same run: one plain pass over the week's posts
and comments (reading the data the job must read at least once).

    .venv/bin/python bench/bench_publics.py            # --quick: 20,000 pages (make bench)
    .venv/bin/python bench/bench_publics.py --full     # 175,000 pages
        [--pages N] [--admin-url postgresql://postgres@127.0.0.1/postgres] [--keep]

Prints the time of each step, the peak memory of this process (the job's work is in
PostgreSQL, so the server's temporary files are printed too) and the database's size.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.db.migrate import upgrade
from otklik.db.session import make_engine
from otklik.publics import service
from otklik.publics.weeks import Week

console = Console(width=140)
WEEK = Week.parse("2026-W48")
QUICK, FULL = 20_000, 175_000
MUNICIPALITIES = 2_000
POSTS_PER_PAGE = 15       # a month: about 3.5 a week
QUESTIONS_PER_PAGE = 8    # residents' questions in the month; 60 % answered
SNAPSHOT_DAYS = 30


def _timed(label: str, rows: list[tuple[str, float, str]], func: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = func()
    rows.append((label, time.perf_counter() - start, ""))
    return result


def generate(engine: Engine, pages: int) -> dict[str, int]:
    """Municipalities, pages, a month of posts, comments and snapshots."""
    month_start = WEEK.end.replace(tzinfo=None).isoformat(sep=" ")
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO territory (key, level, region_code, name, names)
            SELECT 'bench-' || g, 'municipality', lpad((g % 85 + 1)::text, 2, '0'),
                   'Муниципалитет ' || g, '{}'::jsonb
            FROM generate_series(1, :n) g"""), {"n": MUNICIPALITIES})
        first = conn.execute(text("SELECT min(id) FROM territory WHERE key LIKE 'bench-%'")
                             ).scalar_one()
        conn.execute(text("""
            INSERT INTO public_page (region_code, platform, external_id, url, name,
                                     municipality_id, page_type, page_class, status, cursor,
                                     error_count, created_at)
            SELECT lpad(((g % :m) % 85 + 1)::text, 2, '0'), 'vk', (-g)::text,
                   'https://vk.com/club' || g, 'Страница ' || g, :first + g % :m,
                   (ARRAY['school','school','school','school','school','kindergarten',
                          'kindergarten','kindergarten','culture','government'])[g % 10 + 1],
                   (ARRAY['active','active','active','card','flagship'])[g % 5 + 1],
                   'active', '{}'::jsonb, 0, now()
            FROM generate_series(1, :n) g"""), {"n": pages, "m": MUNICIPALITIES,
                                                "first": first})
        conn.execute(text("""
            INSERT INTO page_post (page_id, post_id, posted_at, kind, views, likes, reposts,
                                   comments, pinned, updated_at)
            SELECT p.id, k::text,
                   CAST(:end AS timestamptz) - interval '30 days' * random(),
                   (ARRAY['text','photo','video','link','poll'])[1 + floor(random() * 5)::int],
                   (random() * 2000)::int, (random() * 60)::int, (random() * 6)::int,
                   (random() * 8)::int, false, now()
            FROM public_page p CROSS JOIN generate_series(1, :k) k
            WHERE random() < 0.9 OR p.id % 7 <> 0"""), {"k": POSTS_PER_PAGE,
                                                        "end": month_start})
        conn.execute(text("""
            INSERT INTO page_comment (page_id, post_id, comment_id, reply_to, author_id,
                                      from_page, needs_answer, created_at)
            SELECT p.id, '1', 'q' || k, NULL, (100000 + k)::text, false, true,
                   CAST(:end AS timestamptz) - interval '30 days' * random()
            FROM public_page p CROSS JOIN generate_series(1, :k) k"""),
                     {"k": QUESTIONS_PER_PAGE, "end": month_start})
        conn.execute(text("""
            INSERT INTO page_comment (page_id, post_id, comment_id, reply_to, author_id,
                                      from_page, needs_answer, created_at)
            SELECT page_id, post_id, 'a' || comment_id, comment_id, '-1', true, false,
                   created_at + interval '1 hour' * (random() * 40)
            FROM page_comment WHERE NOT from_page AND random() < 0.6"""))
        conn.execute(text("""
            INSERT INTO page_snapshot (page_id, day, subscribers, facts, facts_present,
                                       facts_total)
            SELECT p.id, CAST(:end AS date) - d, 500 + (p.id % 3000) - d * (p.id % 3),
                   '{}'::jsonb, p.id % 8, 7
            FROM public_page p CROSS JOIN generate_series(1, :d) d"""),
                     {"d": SNAPSHOT_DAYS, "end": WEEK.next_monday.isoformat()})
        for table in ("public_page", "page_post", "page_comment", "page_snapshot"):
            counts[table] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        conn.execute(text("ANALYZE"))
    return counts


def reference(engine: Engine) -> int:
    """One plain pass over the week's posts and comments, grouped by page."""
    with engine.connect() as conn:
        return int(conn.execute(text("""
            SELECT count(*) FROM (
                SELECT page_id, count(*), sum(views) FROM page_post
                WHERE posted_at >= :ws AND posted_at < :we GROUP BY page_id
                UNION ALL
                SELECT page_id, count(*), 0 FROM page_comment
                WHERE created_at >= :ws AND created_at < :we GROUP BY page_id) s"""),
            {"ws": WEEK.start, "we": WEEK.end}).scalar_one())


def compute(engine: Engine) -> service.ComputeSummary:
    """The weekly job for the whole country, committed."""
    with Session(engine) as session:
        summary = service.compute_week(session, Actor.system("bench"), WEEK)
        session.commit()
    return summary


def main() -> None:
    """Create a database, generate, time, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help=f"{QUICK:,} pages (default)")
    size.add_argument("--full", action="store_true", help=f"{FULL:,} pages (the country)")
    size.add_argument("--pages", type=int)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    args = parser.parse_args()
    pages = args.pages or (FULL if args.full else QUICK)
    name = f"otklik_bench_publics_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    steps: list[tuple[str, float, str]] = []
    try:
        _timed("migrate", steps, lambda: upgrade(url))
        engine = make_engine(url)
        counts = _timed("generate (generate_series)", steps, lambda: generate(engine, pages))
        with Session(engine) as session:
            service.ensure_methodology(session, Actor.system("bench"))
            session.commit()
        with engine.connect() as conn:
            temp_before = int(conn.execute(text(
                "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one() or 0)
        groups = _timed("reference: one pass over the week", steps, lambda: reference(engine))
        summary = _timed("weekly rating (first run)", steps, lambda: compute(engine))
        _timed("weekly rating (again: replaces the week)", steps, lambda: compute(engine))
        with engine.connect() as conn:
            temp_after = int(conn.execute(text(
                "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one() or 0)
            size = int(conn.execute(text("SELECT pg_database_size(current_database())")
                                    ).scalar_one())
        engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    base = next(s for label, s, _ in steps if label.startswith("reference"))
    table = Table("step", "seconds", "× reference",
                  title=f"Official pages: a week's rating for {pages:,} pages ({WEEK})")
    for label, seconds, _ in steps:
        timed_job = label.startswith(("reference", "weekly"))
        table.add_row(label, f"{seconds:.2f}", f"{seconds / base:.1f}" if base and timed_job
                      else "")
    console.print(table)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(
        f"rows: {', '.join(f'{k} {v:,}' for k, v in counts.items())}; "
        f"pages with data in the week {groups:,} groups read by the reference")
    console.print(
        f"rated {summary.rated:,} of {summary.pages:,} pages, {summary.pages - summary.rated:,} "
        f"without data (named, not zero); methodology v{summary.version}")
    console.print(
        f"memory: this process peaked at {peak_mb:,.0f} MB; PostgreSQL temporary files "
        f"{(temp_after - temp_before) / 2**20:,.0f} MB; database {size / 2**20:,.0f} MB; "
        f"day {date.today().isoformat()}")


if __name__ == "__main__":
    main()
