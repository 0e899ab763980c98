"""The workspace at scale: queue page and case card server time with N cases in PostgreSQL.

    .venv/bin/python bench/bench_workspace.py                    # 1,000,000 cases
    .venv/bin/python bench/bench_workspace.py --cases 50000      # a quick run
    .venv/bin/python bench/bench_workspace.py --reuse            # measure an already filled base

A fresh database (``--db``, default ``otklik_bench_ws``) is migrated to head, the demo
regions' territories and organizations are loaded, then N cases with one message each are
bulk-loaded with COPY (generated text, not the NLP pipeline: this measures reading, not
enrichment). Secondary indexes are dropped for the load and rebuilt from their migration
definitions, then ``VACUUM ANALYZE``. Each page is requested through the real app (FastAPI
TestClient, logged in as a Tambov operator): the time is the server's, in-process, including
template rendering. Prints p50/p95 per page and the ratio of p95 to the 150 ms aim.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

os.environ.setdefault("OTKLIK_ENV", "test")
os.environ.setdefault("OTKLIK_BROKER_URL", "stub")

from otklik.db.migrate import upgrade  # noqa: E402
from otklik.db.session import make_engine  # noqa: E402

REGION_SHARE = {"68": 0.40, "86": 0.15, "85": 0.15, "36": 0.15, "07": 0.15}
STATUS_SHARE = {"closed": 0.52, "answered": 0.10, "rejected": 0.05, "in_work": 0.10,
                "routed": 0.08, "triage": 0.05, "new": 0.01, "clarification": 0.02,
                "answer_drafted": 0.03, "on_moderation": 0.04}
OPEN = {"new", "triage", "routed", "in_work", "clarification", "answer_drafted",
        "on_moderation"}
TOPIC_PHRASES = {
    "roads": ["яма на дороге", "разбитый асфальт", "не убран снег на проезжей части",
              "нет разметки у школы", "провалился люк на перекрёстке", "путепровод"],
    "housing": ["течёт крыша", "не работает лифт", "сырость в подвале",
                "управляющая компания не отвечает", "трещина в стене дома"],
    "utilities": ["нет горячей воды", "холодные батареи", "прорыв трубы",
                  "отключили свет без предупреждения", "слабый напор воды"],
    "waste": ["не вывозят мусор", "переполнены контейнеры", "стихийная свалка",
              "нет контейнерной площадки", "мусоровоз не приезжает"],
    "improvement": ["не горят фонари", "сломаны качели во дворе", "нужен пандус",
                    "аварийное дерево", "нет освещения в парке"],
    "health": ["нет записи к терапевту", "очередь в поликлинике", "нет лекарств в аптеке",
               "скорая ехала час", "закрыли фельдшерский пункт"],
    "transport": ["автобус не ходит по расписанию", "отменили маршрут",
                  "нет остановки", "переполненный автобус", "дорогой проезд"],
    "education": ["нет мест в детском саду", "холодно в школе", "не работает столовая",
                  "нужен школьный автобус", "ремонт спортзала"],
    "social": ["не выплатили пособие", "нужна помощь пенсионерке", "очередь в МФЦ",
               "не дают субсидию на ЖКУ"],
    "ecology": ["выбросы с завода", "запах гари", "вырубка леса", "загрязнение реки"],
}
FILLER = ("пожалуйста помогите разобраться уже который день жалуемся никто не реагирует "
          "просим принять меры срочно жители возмущены обращались в администрацию "
          "дети пожилые люди вечером утром неделю месяц").split()
STREETS = ("Ленина", "Советская", "Мира", "Лаврова", "Гагарина", "Пушкина", "Школьная",
           "Садовая", "Октябрьская", "Молодёжная", "Набережная", "Комсомольская")
SOURCES = ("vk", "ok", "telegram", "email", "web")


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    x, acc = rng.random(), 0.0
    for key, share in shares.items():
        acc += share
        if x < acc:
            return key
    return next(iter(shares))


# -- the database ---------------------------------------------------------------------------------


def prepare(base: str, name: str, reuse: bool) -> str:
    """The bench database migrated to head with reference data (made fresh unless reused)."""
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                    {"n": name}).scalar()
        if exists and not reuse:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not exists or not reuse:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    upgrade(url)
    from sqlalchemy.orm import Session

    from otklik.accounts.schemas import UserCreate
    from otklik.accounts.service import create_user
    from otklik.audit.actor import Actor
    from otklik.demo.loader import load_organizations
    from otklik.models.account import Role, User
    from otklik.territories.service import load_territories

    engine = make_engine(url)
    with Session(engine) as session:
        if session.scalar(text("SELECT count(*) FROM territory")) == 0:
            load_territories(session, Actor.system("bench"), list(REGION_SHARE))
            load_organizations(session, Actor.system("bench"))
        if session.query(User).filter_by(username="bench_operator").first() is None:
            create_user(session, Actor.system("bench"), UserCreate(
                username="bench_operator", password="bench-password-1", role=Role.operator,
                full_name="Оператор Тамбовского ЦУР", region_codes=["68"]))
        session.commit()
    engine.dispose()
    return url


def fill(url: str, n: int, seed: int = 7) -> None:
    """N cases, one message each, bulk-loaded with COPY; indexes rebuilt afterwards."""
    import psycopg

    engine = make_engine(url)
    with engine.connect() as connection:
        have = connection.execute(text('SELECT count(*) FROM "case"')).scalar() or 0
        places = connection.execute(text(
            "SELECT region_code, id FROM territory WHERE level = 'municipality'")).all()
        orgs = connection.execute(text(
            "SELECT region_code, id FROM organization WHERE is_active")).all()
        operator = connection.execute(text(
            "SELECT id FROM user_account WHERE username = 'bench_operator'")).scalar()
    engine.dispose()
    if have >= n:
        print(f"{have:,} cases already there: not filling")
        return
    municipalities: dict[str, list[int]] = {}
    for region, ident in places:
        municipalities.setdefault(region, []).append(ident)
    executors: dict[str, list[int]] = {}
    for region, ident in orgs:
        executors.setdefault(region, []).append(ident)

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=730)
    began = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('message', 'case', 'case_message') AND indexname NOT LIKE 'pk\\_%' "
            "AND indexname NOT LIKE 'uq\\_%'").fetchall()
        for index_name, _ in indexes:
            conn.execute(f'DROP INDEX IF EXISTS "{index_name}"')
        first = (conn.execute("SELECT coalesce(max(id), 0) FROM message").fetchone() or [0])[0]
        first_case = (conn.execute('SELECT coalesce(max(id), 0) FROM "case"').fetchone()
                      or [0])[0]
        with conn.cursor() as cur, psycopg.connect(dsn, autocommit=True) as conn2:
            with cur.copy("COPY message (id, source, source_id, region_code, author_name, "
                          "text, text_length, text_truncated, content_hash, attachments, raw, "
                          "created_at, received_at, enrich_status) FROM STDIN") as copy, \
                    conn2.cursor().copy(
                        'COPY "case" (id, region_code, status, title, topic, urgency, source, '
                        "municipality_id, executor_id, assignee_id, routing, received_at, "
                        "created_at, updated_at, routed_at, first_response_due, "
                        "resolution_due, first_response_at, problem_pinned, pauses, "
                        "escalation_level, reopen_count, handback_count, version) "
                        "FROM STDIN") as case_copy:
                for i in range(n - have):
                    mid, cid = first + i + 1, first_case + i + 1
                    region = _pick(rng, REGION_SHARE)
                    topic = rng.choice(list(TOPIC_PHRASES))
                    phrase = rng.choice(TOPIC_PHRASES[topic])
                    street = rng.choice(STREETS)
                    body = (f"{phrase.capitalize()} на ул. {street}, д. {rng.randint(1, 120)}. "
                            + " ".join(rng.sample(FILLER, 6)) + ".")
                    received = start + timedelta(seconds=rng.randint(0, 730 * 86400))
                    source = rng.choice(SOURCES)
                    status = _pick(rng, STATUS_SHARE)
                    routed = status not in ("new", "triage", "rejected")
                    due = received + timedelta(days=rng.randint(3, 30)) if routed else None
                    # Recent open cases are mostly within their deadline, a few overdue.
                    if status in OPEN and due is not None and due < now and rng.random() < 0.8:
                        due = now + timedelta(hours=rng.randint(1, 400))
                    executor = rng.choice(executors[region]) if routed else None
                    copy.write_row((
                        mid, source, f"bench-{mid}", region, "Житель", body, len(body), False,
                        f"{mid:064x}"[-64:], "[]", "{}", received, received, "done"))
                    case_copy.write_row((
                        cid, region, status, body[:140], topic,
                        rng.choice(("normal",) * 8 + ("high", "critical")), source,
                        rng.choice(municipalities[region]), executor,
                        operator if region == "68" and rng.random() < 0.002 else None, "{}",
                        received, received, received, received if routed else None,
                        (received + timedelta(days=1)) if routed else None, due,
                        (received + timedelta(hours=5)) if routed else None, False, "[]",
                        0, 0, 0, 1))
                    if (i + 1) % 200_000 == 0:
                        print(f"  {have + i + 1:,} cases written "
                              f"({time.perf_counter() - began:.0f} s)", flush=True)
            with cur.copy("COPY case_message (message_id, case_id, is_primary, added_at) "
                          "FROM STDIN") as copy:
                for i in range(n - have):
                    copy.write_row((first + i + 1, first_case + i + 1, True, now))
        print(f"  loaded in {time.perf_counter() - began:.0f} s; rebuilding "
              f"{len(indexes)} indexes", flush=True)
        for index_name, definition in indexes:
            step = time.perf_counter()
            conn.execute(definition)
            print(f"    {index_name}: {time.perf_counter() - step:.0f} s", flush=True)
        conn.execute("VACUUM ANALYZE message")
        conn.execute('VACUUM ANALYZE "case"')
        conn.execute("VACUUM ANALYZE case_message")
    print(f"filled {n - have:,} cases in {time.perf_counter() - began:.0f} s")


# -- measuring ------------------------------------------------------------------------------------


def _client(url: str) -> Any:
    os.environ["OTKLIK_DATABASE_URL"] = url
    from fastapi.testclient import TestClient

    from otklik.app import create_app
    from otklik.config import get_settings
    from otklik.db.session import reset_engine_cache

    get_settings.cache_clear()
    reset_engine_cache()
    client = TestClient(create_app())
    csrf = client.get("/api/v1/auth/csrf").json()["csrf"]
    response = client.post("/login", data={"username": "bench_operator",
                                           "password": "bench-password-1", "csrf": csrf},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def _next_link(html: str) -> str | None:
    marker = 'data-testid="next-page" href="'
    at = html.find(marker)
    if at < 0:
        return None
    end = html.index('"', at + len(marker))
    return html[at + len(marker):end].replace("&amp;", "&")


SQL_MS: list[float] = []


def _watch_sql() -> None:
    """Sum the database time of each request (to tell SQL from rendering)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def before(conn: Any, *_: Any) -> None:
        conn.info["bench_t"] = time.perf_counter()

    def after(conn: Any, *_: Any) -> None:
        SQL_MS.append((time.perf_counter() - conn.info.pop("bench_t")) * 1000)

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)


def _time(client: Any, path: str, runs: int) -> tuple[list[float], str]:
    html = ""
    for _ in range(2):  # warm caches and prepared plans
        html = client.get(path).text
    times = []
    SQL_MS.clear()
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        html = response.text
    return times, html


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(url: str, runs: int) -> list[tuple[str, float, float, float, str]]:
    """p50/p95 per page of the queue (common filters, keyset pages) and of the case card."""
    client = _client(url)
    _watch_sql()
    engine = make_engine(url)
    with engine.connect() as connection:
        municipality = connection.execute(text(
            "SELECT municipality_id FROM \"case\" WHERE region_code = '68' "
            "GROUP BY municipality_id ORDER BY count(*) DESC LIMIT 1")).scalar()
        card_ids = [r for (r,) in connection.execute(text(
            "SELECT id FROM \"case\" WHERE region_code = '68' ORDER BY random() LIMIT :n"),
            {"n": runs + 2})]
    engine.dispose()
    pages = [
        ("queue: default (all, by deadline)", "/cases"),
        ("queue: status = in_work", "/cases?status=in_work"),
        ("queue: topic = roads", "/cases?topic=roads"),
        ("queue: territory (municipality)", f"/cases?municipality={municipality}"),
        ("queue: overdue", "/cases?overdue=1"),
        ("queue: status + topic + territory",
         f"/cases?status=routed&topic=utilities&municipality={municipality}"),
        ("queue: newest first", "/cases?sort=newest"),
        ("queue: text «нет горячей воды»", "/cases?q=нет+горячей+воды"),
        ("queue: text «путепровод» + open", "/cases?q=путепровод&status=in_work"),
        ("queue: text «Лаврова, 57» (address)", "/cases?q=Лаврова+57"),
        ("queue: mine (assigned to me)", "/cases?mine=1"),
    ]
    out = []
    for label, path in pages:
        times, html = _time(client, path, runs)
        out.append((label, statistics.median(times), _p95(times), sum(SQL_MS) / runs,
                    _total(html)))
        print(f"  {label}: p50 {out[-1][1]:.1f} ms", flush=True)
    # Keyset pages: follow "next" from page 1, then time page 2 and page 50.
    for label, base, hops in (("queue: page 2 (keyset)", "/cases", 1),
                              ("queue: page 50 (keyset)", "/cases", 49),
                              ("queue: topic page 20 (keyset)", "/cases?topic=roads", 19)):
        target = base
        for _ in range(hops):
            link = _next_link(client.get(target).text)
            if link is None:
                break
            target = link
        times, html = _time(client, target, runs)
        out.append((label, statistics.median(times), _p95(times), sum(SQL_MS) / runs,
                    _total(html)))
        print(f"  {label}: p50 {out[-1][1]:.1f} ms", flush=True)
    card_times = []
    SQL_MS.clear()
    for case_id in card_ids[:2]:
        client.get(f"/cases/{case_id}")
    for case_id in card_ids[2:]:
        began = time.perf_counter()
        response = client.get(f"/cases/{case_id}")
        card_times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    out.append(("case card (random cases)", statistics.median(card_times), _p95(card_times),
                sum(SQL_MS) / max(1, len(card_times)), ""))
    return out


def _total(html: str) -> str:
    import re

    marker = 'data-testid="queue-total">'
    at = html.find(marker)
    if at < 0:
        return ""
    chunk = re.sub(r"<[^>]+>", "", html[at + len(marker):html.index("</h1>", at)])
    words = " ".join(chunk.split()).split(":", 1)[-1].split()
    return " ".join(words[:3] if words and words[0] == "более" else words[:1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get(
        "OTKLIK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server (any database on it) where the bench may create one")
    parser.add_argument("--db", default="otklik_bench_ws")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database if it exists (fill only what is missing)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--fill-only", action="store_true", help="fill, do not measure")
    args = parser.parse_args(argv)
    url = prepare(args.url, args.db, args.reuse)
    fill(url, args.cases)
    if args.fill_only:
        return 0
    engine = make_engine(url)
    with engine.connect() as connection:
        cases = connection.execute(text('SELECT count(*) FROM "case"')).scalar() or 0
    engine.dispose()
    print(f"\nmeasuring at {cases:,} cases, {args.runs} runs each (TestClient, in-process)")
    rows = measure(url, args.runs)
    aim = 150.0
    print(f"\n{'page':<40} {'p50 ms':>8} {'p95 ms':>8} {'p95/aim':>8} {'sql ms':>7}  total")
    for label, p50, p95, sql, total in rows:
        print(f"{label:<40} {p50:>8.1f} {p95:>8.1f} {p95 / aim:>8.2f} {sql:>7.1f}  {total}")
    print("\n(sql ms: mean database time per request; the rest is Python and rendering)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
