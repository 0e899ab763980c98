"""Import throughput: `otklik import` path vs a plain batched INSERT of the same rows.

Writes an N-row JSONL (default 1,000,000), imports it into a fresh PostgreSQL database with
enrichment deferred (queued, not run), then inserts the same rows with a bare executemany
into another fresh database, and prints messages/s, the ratio (target ≥ 0.5) and the
resident memory before/after (streaming: it must stay flat).

    python bench/bench_import.py [--rows 1000000] [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("OTKLIK_BROKER_URL", "stub")

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from otklik.db.migrate import upgrade  # noqa: E402
from otklik.db.session import make_engine  # noqa: E402
from otklik.intake.importer import import_rows, rows_of  # noqa: E402
from otklik.intake.repository import MessageRepository  # noqa: E402
from otklik.intake.service import author_key, content_hash  # noqa: E402

PHRASES = [
    "Во дворе дома {n} по ул. Советской не вывозят мусор уже неделю, контейнеры переполнены",
    "Когда отремонтируют дорогу на улице Лаврова? Сплошные ямы, машины бьют подвеску {n}",
    "Третий день нет горячей воды в доме {n} на Ленина, управляющая компания не отвечает",
    "Спасибо коммунальщикам, быстро починили трубу у дома {n}!",
    "В подъезде {n} не работает лифт, пожилые люди не могут выйти из квартиры",
    "Продам гараж недорого, звоните {n}",
]


def write_file(path: Path, rows: int) -> None:
    """A realistic JSONL of ~300-character messages, deterministic."""
    rng = random.Random(7)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            body = " ".join(rng.choice(PHRASES).format(n=rng.randint(1, 200)) for _ in range(3))
            fh.write(json.dumps({
                "source": "vk", "source_id": f"wall-{i % 997}_{i}",
                "text": body[:300], "author_id": str(rng.randint(1, 50_000)),
                "created_at": (start + timedelta(seconds=i * 7)).isoformat(),
                "region": rng.choice(["68", "36", "86", "85", "07"]),
            }, ensure_ascii=False) + "\n")


def fresh_database(base: str) -> tuple[str, str]:
    """A new empty database migrated to head."""
    name = f"otklik_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url, name


def drop_database(base: str, name: str) -> None:
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def rss_mb() -> float:
    """Current resident memory in MB (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_ours(url: str, path: Path) -> tuple[float, int, float, float]:
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    before = rss_mb()
    started = time.perf_counter()
    rows = rows_of(path, source="vk", mapping={}, region=None, channel=None, format="jsonl")
    summary = import_rows(rows, factory=factory, enqueue=True)
    elapsed = time.perf_counter() - started
    after = rss_mb()
    engine.dispose()
    return elapsed, summary.stored, before, after


def run_plain(url: str, path: Path, batch: int = 2000) -> tuple[float, int]:
    engine = make_engine(url)
    factory = sessionmaker(bind=engine)
    started = time.perf_counter()
    count = 0
    pending: list[dict[str, object]] = []
    now = datetime.now(UTC)

    def flush() -> None:
        with factory() as session:
            MessageRepository(session).bulk_insert_plain(pending)
            session.commit()
        pending.clear()

    with path.open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            pending.append({
                "source": item["source"], "source_id": item["source_id"],
                "text": item["text"], "text_length": len(item["text"]),
                "content_hash": content_hash(item["text"]),
                "author_id": item["author_id"], "author_key": author_key("vk", item["author_id"]),
                "region_code": item["region"], "raw": item,
                "created_at": datetime.fromisoformat(item["created_at"]), "received_at": now,
            })
            count += 1
            if len(pending) >= batch:
                flush()
    if pending:
        flush()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    parser.add_argument("--postgres", default=os.environ.get(
        "OTKLIK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.jsonl"
        write_file(path, args.rows)
        size = path.stat().st_size / 2**20
        ours_url, ours_db = fresh_database(args.postgres)
        plain_url, plain_db = fresh_database(args.postgres)
        try:
            ours_s, stored, rss_before, rss_after = run_ours(ours_url, path)
            plain_s, inserted = run_plain(plain_url, path)
        finally:
            drop_database(args.postgres, ours_db)
            drop_database(args.postgres, plain_db)
    ours_rate, plain_rate = stored / ours_s, inserted / plain_s
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {args.rows:,}  file: {size:.0f} MB  (PostgreSQL, enrichment deferred)")
    print(f"{'path':<34}{'seconds':>10}{'msg/s':>12}")
    print(f"{'otklik import (idempotent store)':<34}{ours_s:>10.1f}{ours_rate:>12,.0f}")
    print(f"{'plain batched INSERT':<34}{plain_s:>10.1f}{plain_rate:>12,.0f}")
    print(f"ratio otklik/plain: {ours_rate / plain_rate:.2f}  (target >= 0.50)")
    print(f"RSS during import: {rss_before:.0f} MB -> {rss_after:.0f} MB; peak {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
