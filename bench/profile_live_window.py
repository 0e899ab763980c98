"""The live detector on a large region, per batch: a region with ``--window`` enriched
messages in its last three days, then ``--batches`` live batches of ``--batch`` new messages,
each committed and then run through ``otklik.incidents.live.detect`` in its own transaction
(what the ``detect_after_enrichment`` job does), timed (wall and CPU).

    python bench/profile_live_window.py                    # 20,000 in 3 days, 20 × 100
    python bench/profile_live_window.py --window 5000 --batches 10

PostgreSQL (OTKLIK_BENCH_POSTGRES_URL); the database is a copy of ``bench_pipeline``'s
template, created and dropped here. Rows are written directly (no language stages): a
background over the region's places and topics with a few hazards. Not part of ``make bench``
(docs/performance.md). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("OTKLIK_ENV", "test")
os.environ["OTKLIK_BROKER_URL"] = "stub"

import bench_pipeline as bp  # noqa: E402

TOPICS = ("roads", "utilities", "waste", "transport", "other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    missing = bp.services_missing()
    if missing and "PostgreSQL" in missing:
        print(f"profile skipped: {missing}")
        return
    template = f"otklik_prof_tmpl_{uuid.uuid4().hex[:8]}"
    name = f"otklik_prof_{uuid.uuid4().hex[:8]}"
    os.environ["OTKLIK_DATABASE_URL"] = bp._url_of(name)
    print(f"load average {bp.load_average()}")
    bp.build_template(template)
    try:
        bp.copy_database(template, name)
        run(args)
    finally:
        bp.drop_database(name)
        bp.drop_database(template)
    print(f"load average {bp.load_average()}")


def _rows(session: object, places: list[int], rng: random.Random, times: list[datetime],
          tag: str, enriched: datetime | None = None) -> list[int]:
    from otklik.db.base import utcnow
    from otklik.models.message import Message, MessageEnrichment

    messages = []
    for n, at in enumerate(times):
        messages.append(Message(
            source="vk", source_id=f"{tag}-{n}", text="…", content_hash="x", created_at=at,
            author_key=f"a{rng.randrange(5000)}", region_code="07", enrich_status="done"))
    session.add_all(messages)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    now = enriched or utcnow()
    for message in messages:
        hazards = ["no_water"] if rng.random() < 0.02 else []
        session.add(MessageEnrichment(  # type: ignore[attr-defined]
            message_id=message.id, relevant=True, topic=rng.choice(TOPICS), region_code="07",
            municipality_id=rng.choice(places), urgency="high" if hazards else "normal",
            result={"urgency": {"signals": hazards}, "explain": {"urgency": {"matched": {}}}},
            enriched_at=now))
    session.flush()  # type: ignore[attr-defined]
    return [m.id for m in messages]


def run(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from otklik.db.session import session_scope
    from otklik.incidents import live
    from otklik.models.territory import Territory

    rng = random.Random(5)
    now = datetime.now(UTC).replace(microsecond=0)
    with session_scope() as session:
        places = list(session.scalars(select(Territory.id).where(Territory.region_code == "07")
                                      .limit(60)))
        span = 3 * 24 * 3600
        times = sorted(now - timedelta(seconds=rng.uniform(600, span))
                       for _ in range(args.window))
        _rows(session, places, rng, times, "window", enriched=now - timedelta(minutes=5))
    wall: list[float] = []
    cpu: list[float] = []
    for b in range(args.batches):
        times = sorted(now - timedelta(seconds=600 - 30 * b - rng.uniform(0, 30))
                       for _ in range(args.batch))
        with session_scope() as session:
            ids = _rows(session, places, rng, times, f"live{b}")
        w, c = time.perf_counter(), time.process_time()
        with session_scope() as session:
            live.detect(session, ids)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    print(f"\nregion of {args.window:,} messages in 3 days; {args.batches} live batches of "
          f"{args.batch}")
    print(f"first batch: {wall[0]:.3f} s wall, {cpu[0]:.3f} s CPU")
    rest_w, rest_c = wall[1:] or wall, cpu[1:] or cpu
    print(f"next batches: {sum(rest_w) / len(rest_w):.3f} s wall, "
          f"{sum(rest_c) / len(rest_c):.3f} s CPU per batch (mean)")
    try:
        from otklik.incidents import window

        for memory in window._memories.values():
            print(f"windows replayed: {memory.rebuilds} ({dict(memory.why)})")
    except ImportError:  # before the kept windows
        pass


if __name__ == "__main__":
    main()
