"""The live detector's kept windows give exactly the signals of a from-scratch replay
(SQLite and PostgreSQL): the same stream fed in batches in order, out of order, by two
"worker processes" (two memories), with a batch committed late behind the watermark, a
message deleted and a rolled-back batch; and the windows are fed, not replayed, per batch."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.incidents import window
from otklik.incidents.repository import IncidentRepository, stream_region
from otklik.incidents.settings import DetectorSettings
from otklik.models.message import Message, MessageEnrichment
from otklik.models.territory import Territory

from .conftest import World

TOPICS = {"roads": "Дороги", "utilities": "ЖКХ", "waste": "Мусор", "other": "Другое"}
SETTINGS = DetectorSettings()


@pytest.fixture(autouse=True)
def _fresh_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # This stream is sparse (a batch spans hours): re-feed half a day of it when needed.
    monkeypatch.setattr(window, "SETTLE_AFTER", timedelta(hours=12))
    window.forget()
    yield
    window.forget()


def _stream(places: Sequence[int], start: datetime) -> list[dict[str, Any]]:
    """~330 messages of region 85 over 4.5 days: a background over six places and four
    topics (a few place-less, a few whose region only the text gave), an outage of water in
    one place from nine authors within an hour, a copied text from five authors, a topic
    spike."""
    rng = random.Random(20)
    rows: list[dict[str, Any]] = []

    def add(at: datetime, author: str, topic: str, place: int | None, hazards: tuple[str, ...] = (),
            duplicate: int | None = None, street: str | None = None,
            region: str | None = "85") -> None:
        rows.append({"at": at, "author": author, "topic": topic, "place": place,
                     "hazards": hazards, "duplicate": duplicate, "street": street,
                     "region": region})

    for _ in range(260):
        at = start + timedelta(minutes=rng.uniform(0, 4.5 * 24 * 60))
        place = rng.choice([*places, None]) if rng.random() > 0.05 else None
        add(at, f"a{rng.randrange(120)}", rng.choice(list(TOPICS)), place,
            ("no_water",) if rng.random() < 0.03 else (),
            region="85" if rng.random() > 0.04 else None)
    outage = start + timedelta(days=3, hours=14)
    for i in range(9):
        add(outage + timedelta(minutes=7 * i), f"w{i}", "utilities", places[0], ("no_water",),
            street="Ленина")
    copied = start + timedelta(days=2, hours=10)
    for i in range(5):
        add(copied + timedelta(minutes=9 * i), f"c{i}", "waste", places[1], duplicate=-1)
    spike = start + timedelta(days=4, hours=5)
    for i in range(12):
        add(spike + timedelta(minutes=8 * i), f"s{i}", "roads", places[2])
    rows.sort(key=lambda r: r["at"])
    return rows


def _store(session: Session, rows: Sequence[dict[str, Any]], *, enriched_at: datetime | None = None,
           root: list[int]) -> list[int]:
    ids = []
    for n, row in enumerate(rows):
        message = Message(source="vk", source_id=f"w-{row['at'].timestamp()}-{n}-{row['author']}",
                          text="…", content_hash="x", created_at=row["at"],
                          author_key=row["author"], region_code=row["region"],
                          enrich_status="done")
        session.add(message)
        session.flush()
        duplicate = None
        if row["duplicate"] is not None:
            if not root:
                root.append(message.id)
            else:
                duplicate = root[0]
        hazards = list(row["hazards"])
        session.add(MessageEnrichment(
            message_id=message.id, relevant=True, topic=row["topic"], region_code="85",
            municipality_id=row["place"], street=row["street"], duplicate_of_id=duplicate,
            urgency="high" if hazards else "normal",
            result={"urgency": {"signals": hazards, "level": "high" if hazards else "normal"},
                    "explain": {"urgency": {"matched": {h: "нет воды" for h in hazards}}}},
            enriched_at=enriched_at or utcnow()))
        ids.append(message.id)
    session.flush()
    return ids


def _relevant(signals: Sequence[Any], ids: Sequence[int]) -> list[dict[str, Any]]:
    ours = {str(i) for i in ids}
    return [s.as_dict() for s in signals if not ours.isdisjoint(s.message_ids)]


def _groups(session: Session, ids: Sequence[int]) -> dict[str | None, list[Any]]:
    groups: dict[str | None, list[Any]] = {}
    for m, e in IncidentRepository(session).stream_rows(ids):
        groups.setdefault(stream_region(m, e), []).append((m, e))
    return groups


def _incremental(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    out = []
    with window.memory_of(session) as memory:
        new = window.read_new(session, memory)
        groups = _groups(session, ids)
        if new is not None:  # the windows' checks read ahead, as live.detect does
            window.read_digests(session, memory, groups, SETTINGS, "t")
        for region, rows in sorted(groups.items(), key=lambda kv: kv[0] or ""):
            kept = window.window_for(session, memory, region, rows, new, SETTINGS, "t", TOPICS)
            out += _relevant(kept.detector.signals, ids)
        memory.digests.clear()
    return out


def _replayed(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    out = []
    for region, rows in sorted(_groups(session, ids).items(), key=lambda kv: kv[0] or ""):
        detector = window.replay(session, region, min(m.created_at for m, _ in rows), SETTINGS,
                                 TOPICS)
        out += _relevant(detector.signals, ids)
    return out


def _places(world: World) -> list[int]:
    with Session(world.engine) as session:
        return list(session.scalars(select(Territory.id).where(Territory.region_code == "85")
                                    .order_by(Territory.id).limit(6)))


def _start() -> datetime:
    """The stream's first hour: 06:00 UTC five to six days ago. Fixed to the hour, because how
    often a batch's window start moves (once per midnight crossed, in both directions when
    neighbours swap) depends on where the midnights fall in the stream, not on the clock."""
    day = (datetime.now(UTC) - timedelta(days=6)).replace(hour=0, minute=0, second=0,
                                                          microsecond=0)
    return day + timedelta(hours=6, minutes=17)


def _start_moves(batches: Sequence[Sequence[dict[str, Any]]]) -> int:
    """How many times the window start changes from one batch to the next (one region)."""
    starts = [window.window_start(min(r["at"] for r in batch)) for batch in batches]
    return sum(a != b for a, b in zip(starts, starts[1:], strict=False))


def _batches(rows: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


@pytest.mark.parametrize("order", ["in_order", "out_of_order", "two_workers"])
def test_kept_windows_give_the_signals_of_a_replay(world: World, order: str) -> None:
    start = _start()
    batches = _batches(_stream(_places(world), start), 9)
    if order != "in_order":  # neighbours swapped; every fifth batch commits two places late
        for i in range(0, len(batches) - 1, 2):
            batches[i], batches[i + 1] = batches[i + 1], batches[i]
        for i in range(4, len(batches) - 2, 5):
            batches.insert(i + 2, batches.pop(i))
    memories: list[dict[str, window.Memory]] = [{}, {}]
    root: list[int] = []
    fired: set[str] = set()
    for n, batch in enumerate(batches):
        worker = n % 2 if order == "two_workers" else 0
        window._memories = memories[worker]  # one process's memory, then the other's
        late = order != "in_order" and n % 5 == 4  # its transaction began 10 minutes ago
        with Session(world.engine) as session:
            ids = _store(session, batch, root=root,
                         enriched_at=utcnow() - timedelta(minutes=10) if late else None)
            session.commit()
        with Session(world.engine) as session:
            kept = _incremental(session, ids)
            assert kept == _replayed(session, ids), f"batch {n} ({order})"
        fired.update(f"{s['kind']}:{s['first_message_id']}" for s in kept)
    kinds = {f.split(":")[0] for f in fired}
    assert {"hazard", "spike"} <= kinds and len(fired) >= 3, fired  # the stream does fire
    rebuilds = sum(m.rebuilds for mem in memories for m in mem.values())
    forks = sum(w.forks for mem in memories for m in mem.values() for w in m.windows.values())
    assert order == "in_order" or forks > 0  # the reordered tails were re-fed
    why = [dict(m.why) for mem in memories for m in mem.values()]
    # Replayed: at the first batch, when the window's start moves (a day; here the batches
    # around a midnight arrive in both orders), and when a batch committed behind the
    # watermark is found by the count ("stale"); the reordered ones are re-fed, not replayed.
    assert all(w.get("out of order or changed", 0) <= 1 for w in why), why
    if order != "two_workers":  # (two memories each see every other batch: more moves)
        # every replay has its reason in the stream: the first batch, each move of the start,
        # a batch committed late (at most one per late batch), one reordering too deep to re-feed
        (memory,) = why
        late = sum(1 for n in range(len(batches)) if order != "in_order" and n % 5 == 4)
        moved = sum(m.moves + m.unparked for mem in memories for m in mem.values())
        assert memory["none"] == 1 and memory.get("start", 0) + moved == _start_moves(batches), why
        # a start moved (forward, or back to what the window held before its start) is
        # replayed from memory; read again only when a late batch made it stale
        assert moved > 0 and memory.get("start", 0) + memory.get("stale", 0) <= late, why
        assert rebuilds < len(batches) / 2, why  # most batches were fed, not replayed


def test_a_start_moved_back_before_the_window_reads_only_the_days_between(
        world: World) -> None:
    """Batches in shuffled order (as a bulk load's, each from anywhere in the stream): a
    batch whose start is before all the window holds is served by reading the days between
    (not the whole window again), and every batch's signals are the replay's."""
    start = _start()
    batches = _batches(_stream(_places(world), start), 20)
    random.Random(7).shuffle(batches)
    root: list[int] = []
    back = 0  # how many batches started before every earlier one of the region
    earliest: datetime | None = None
    for n, batch in enumerate(batches):
        with Session(world.engine) as session:
            ids = _store(session, batch, root=root)
            session.commit()
        first = window.window_start(min(r["at"] for r in batch))
        back += earliest is not None and first < earliest
        earliest = first if earliest is None else min(earliest, first)
        with Session(world.engine) as session:
            assert _incremental(session, ids) == _replayed(session, ids), f"batch {n}"
    assert back >= 1  # the shuffled stream does move the start back past the window
    memory = next(iter(window._memories.values()))
    # only the first batch of each region (region 85, and the place-less) read whole
    assert memory.why.get("start", 0) == 0 and memory.moves >= back, memory.why


def test_a_window_left_behind_serves_its_start_again_while_nothing_new_arrives(
        world: World) -> None:
    """A catch-up load: every batch stored and enriched before the detector looks at any,
    then looked at in shuffled order, so the start wanders back and forth over a few days.
    A window its start left behind serves that start again when it comes back (nothing
    replayed) until something new of the region arrives (then it is dropped); every
    batch's signals are the replay's throughout."""
    start = _start()
    rows = _stream(_places(world), start)
    late = [r for n, r in enumerate(rows) if n % 10 == 3]  # arrive in the middle
    batches = _batches([r for n, r in enumerate(rows) if n % 10 != 3], 20)
    random.Random(11).shuffle(batches)
    root: list[int] = []
    stored: list[list[int]] = []
    with Session(world.engine) as session:
        for batch in batches:
            stored.append(_store(session, batch, root=root))
        session.commit()
    served = 0
    for n, ids in enumerate(stored):
        if n == len(stored) // 2:  # something new: the parked windows are no longer whole
            with Session(world.engine) as session:
                _store(session, late, root=root)
                session.commit()
            memory = next(iter(window._memories.values()))
            served = memory.unparked
            assert served > 0, memory.why  # before it, starts were served again
        with Session(world.engine) as session:
            assert _incremental(session, ids) == _replayed(session, ids), f"batch {n}"
    memory = next(iter(window._memories.values()))
    assert memory.why.get("start", 0) == 0 and memory.unparked >= served, memory.why


def test_a_deleted_message_and_a_rolled_back_batch_are_noticed(world: World) -> None:
    start = _start()
    batches = _batches(_stream(_places(world), start), 12)
    root: list[int] = []
    for n, batch in enumerate(batches):
        with Session(world.engine) as session:
            ids = _store(session, batch, root=root)
            if n % 6 == 3:  # detected in the batch's own transaction, which then rolls back
                _incremental(session, ids)
                session.rollback()
                continue
            session.commit()
        if n % 6 == 5:  # a message of the window deleted at its source
            with Session(world.engine) as session:
                message = session.get(Message, ids[0] - 20)
                if message is not None:
                    message.deleted_at = utcnow()
                    session.commit()
        with Session(world.engine) as session:
            assert _incremental(session, ids) == _replayed(session, ids), f"batch {n}"
    memory = next(iter(window._memories.values()))
    assert memory.why["stale"] >= 2, memory.why  # the ghosts and the deletions were noticed


def test_changed_thresholds_rebuild_the_window(world: World) -> None:
    start = _start()
    rows = _stream(_places(world), start)
    with Session(world.engine) as session:
        ids = _store(session, rows[:200], root=[])
        session.commit()
    with Session(world.engine) as session, window.memory_of(session) as memory:
        rows_ = IncidentRepository(session).stream_rows(ids[-5:])
        by = [(m, e) for m, e in rows_ if stream_region(m, e) == "85"]
        first = window.window_for(session, memory, "85", by, [], SETTINGS, "t", TOPICS)
        same = window.window_for(session, memory, "85", by, [], SETTINGS, "t", TOPICS)
        other = DetectorSettings.from_dict({"default": {"hazard_min_authors": 5}})
        changed = window.window_for(session, memory, "85", by, [], other, "t", TOPICS)
    assert same is first and changed is not first and memory.rebuilds == 2


def test_a_new_memory_knows_what_is_enriched_at_its_first_look(world: World) -> None:
    """What is enriched when a memory first looks is in every window it then reads from the
    database: the next look brings only what was enriched after it (not the first batch
    again, which would be read and fed for nothing and drop its regions' parked windows)."""
    batches = _batches(_stream(_places(world), _start()), 9)
    root: list[int] = []
    with Session(world.engine) as session:
        _store(session, batches[0], root=root)
        session.commit()
    with Session(world.engine) as session, window.memory_of(session) as memory:
        assert window.read_new(session, memory) == []
        assert memory.known  # the first batch, enriched a moment ago
    with Session(world.engine) as session:
        ids = _store(session, batches[1], root=root)
        session.commit()
    with Session(world.engine) as session, window.memory_of(session) as memory:
        new = window.read_new(session, memory)
        assert new is not None and sorted(m.id for m, _ in new) == sorted(ids)


def test_the_digests_read_ahead_are_those_read_one_by_one(world: World) -> None:
    """The count and sum of ids of several regions' windows read in one statement equal
    those read one region at a time (a region, the place-less, one with nothing stored)."""
    start = _start()
    with Session(world.engine) as session:
        _store(session, _stream(_places(world), start), root=[])
        session.commit()
    wanted = [("85", start), ("85", start + timedelta(days=2)), (None, start), ("99", start)]
    with Session(world.engine) as session:
        repo = IncidentRepository(session)
        together = repo.stream_digests(wanted)
        assert together == {(region, since): repo.stream_digest(region, since)
                             for region, since in wanted}
        assert together[("85", start)][0] > together[("85", start + timedelta(days=2))][0] > 0
        assert together[("99", start)] == (0, 0)
