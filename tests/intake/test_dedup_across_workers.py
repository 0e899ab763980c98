"""Near-copies recognised across worker processes and restarts: the near-duplicate memory
follows the database (a window of stored signatures, then a catch-up before each batch), a
copy never points at a later message, and an original enriched after its copies shares
their case (SQLite and PostgreSQL).

These tests commit for real, so they run on a database of their own (per backend)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database

from otklik.audit.actor import Actor
from otklik.cases import consumers as cases_consumers
from otklik.intake import tasks as intake_tasks
from otklik.intake.tasks import enrich_now, remember_stored
from otklik.language import taxonomy_service
from otklik.models.case import Case, CaseEvent, CaseMessage, Label
from otklik.models.message import Message, MessageEnrichment
from otklik.nlp.base import Doc
from otklik.nlp.dedup import DedupStage, signature
from otklik.nlp.pipeline import Pipeline
from otklik.queue import pending_mark

SYSTEM = Actor.system("tests")
# The cases queues exist before any worker starts (a queue declared after a worker stopped
# is consumed by that stopped worker, and drain() then waits for it forever).
assert cases_consumers.build_cases_after_enrichment.queue_name == "cases"
_ids = count(1)
NOW = datetime.now(UTC)
COPY = "Во дворе дома 3 по улице Садовой не вывозят мусор уже неделю, контейнеры переполнены"
WATER = "Третий день нет воды в доме 12 по улице Советской, управляющая компания молчит"
# Texts that are no copies of each other.
OTHERS = ("На улице Гоголя огромные ямы на дороге, прошу отремонтировать дорогу",
          "В поликлинике на Мира невозможно записаться к терапевту, талонов нет неделями",
          "Автобус номер 12 ходит раз в час, битком, водитель хамит пассажирам",
          "Стая бродячих собак у школы номер 36 кидается на детей, примите меры",
          "Батареи в доме 7 по улице Гагарина еле тёплые, в квартире плюс пятнадцать",
          "Опять отключили свет в посёлке Кшенский, холодильники разморозились")


own_url = own_database("dedup_workers")


def _fresh_process() -> None:
    """What a worker's restart does to the caches of this process."""
    taxonomy_service._pipelines.clear()


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The jobs and the test share the private database, emptied for each test."""
    with jobs_database(own_url, monkeypatch, empty=(
            delete(CaseEvent), delete(Label), delete(CaseMessage), delete(MessageEnrichment),
            update(Case).values(merged_into_id=None), delete(Case),
            delete(Message))) as engine:
        yield engine


def _store(engine: Engine, *texts: str) -> list[int]:
    """Messages received now, in this order (ids in arrival order)."""
    ids = []
    with Session(engine) as session:
        for text in texts:
            k = next(_ids)
            message = Message(source="vk", source_id=f"dedupw-{k}", region_code="68", text=text,
                              text_length=len(text), content_hash=f"dw{k}", created_at=NOW,
                              received_at=NOW, enrich_status="pending", attachments=[],
                              raw={}, author_key=f"author{k}")
            session.add(message)
            session.flush()
            ids.append(message.id)
        session.commit()
    return ids


#: message id -> what its enrichment batch announced to the cases job (its payload).
_announced: dict[int, dict[str, Any]] = {}


def _enrich(engine: Engine, ids: list[int], worker: Any = None,
            monkeypatch: pytest.MonkeyPatch | None = None) -> None:
    """One batch in its own transaction; ``worker`` is the pipeline of the process."""
    if worker is not None and monkeypatch is not None:
        monkeypatch.setattr(intake_tasks, "active_pipeline", lambda session: worker)
    with Session(engine) as session:
        mark = pending_mark(session)
        enrich_now(session, ids)
        for job, args in session.info.get("otklik_pending_jobs", [])[mark:]:
            if job.actor_name == cases_consumers.build_cases_after_enrichment.actor_name:
                _announced.update(dict.fromkeys(args[0]["message_ids"], args[0]))
        session.commit()


def _build(engine: Engine, ids: list[int]) -> None:
    """The cases job of these messages' enrichment batch, as the queue runs it (once more
    when the test's queue is drained at the end: it is idempotent)."""
    payloads = {id(p): p for p in map(_announced.get, ids) if p is not None}
    assert payloads, f"messages {ids} were not announced as enriched"
    for payload in payloads.values():
        cases_consumers.build_cases_after_enrichment.fn(payload)


def _duplicate_of(engine: Engine, message_id: int) -> int | None:
    with Session(engine) as session:
        row = session.get(MessageEnrichment, message_id)
        assert row is not None
        assert row.result["duplicate_of"] == (None if row.duplicate_of_id is None
                                              else str(row.duplicate_of_id))
        return row.duplicate_of_id


def _cases_of(engine: Engine, ids: list[int]) -> dict[int, int]:
    with Session(engine) as session:
        return dict(session.execute(select(CaseMessage.message_id, CaseMessage.case_id)
                                    .where(CaseMessage.message_id.in_(ids))).all())  # type: ignore[arg-type]


def _case_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


# -- restarts and several workers -------------------------------------------------------------


def test_a_copy_enriched_after_a_restart_is_recognised(db: Engine) -> None:
    original, other = _store(db, COPY, OTHERS[0])
    _enrich(db, [original, other])
    _build(db, [original, other])
    _fresh_process()  # the worker restarts: its pipeline and memory are new
    (copy,) = _store(db, "Репост: " + COPY)
    _enrich(db, [copy])
    _build(db, [copy])
    assert _duplicate_of(db, copy) == original
    cases = _cases_of(db, [original, copy])
    assert cases[copy] == cases[original]


def test_two_workers_recognise_each_others_copies(db: Engine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Pipeline.default(), Pipeline.default()
    warm_1, warm_2 = _store(db, OTHERS[0], OTHERS[1])
    _enrich(db, [warm_1], first, monkeypatch)  # both workers are running and have seeded
    _enrich(db, [warm_2], second, monkeypatch)
    water, garbage = _store(db, WATER, COPY)
    _enrich(db, [water], first, monkeypatch)
    _enrich(db, [garbage], second, monkeypatch)
    water_copy, garbage_copy = _store(db, WATER + "!!!", "Репост: " + COPY)
    _enrich(db, [water_copy], second, monkeypatch)  # the other worker's message, a moment ago
    _enrich(db, [garbage_copy], first, monkeypatch)
    assert _duplicate_of(db, water_copy) == water
    assert _duplicate_of(db, garbage_copy) == garbage
    assert _duplicate_of(db, water) is None and _duplicate_of(db, garbage) is None


def test_an_older_message_enriched_after_its_copy_stays_the_original(
        db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Pipeline.default(), Pipeline.default()
    original, repost, third = _store(db, COPY, "Репост: " + COPY, COPY + "!!!")
    _enrich(db, [repost], first, monkeypatch)  # the first worker was faster
    _build(db, [repost])
    assert _duplicate_of(db, repost) is None
    _enrich(db, [original], second, monkeypatch)
    _build(db, [original])
    assert _duplicate_of(db, original) is None  # never a copy of a later message
    assert _duplicate_of(db, repost) == original  # the repost is the copy now
    _enrich(db, [third], first, monkeypatch)
    _build(db, [third])
    assert _duplicate_of(db, third) == original
    cases = _cases_of(db, [original, repost, third])
    assert len(set(cases.values())) == 1 and set(cases) == {original, repost, third}
    assert _case_count(db) == 1


def test_an_original_seen_late_takes_its_case_before_queued_copies(
        db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Pipeline.default(), Pipeline.default()
    original, repost = _store(db, COPY, "Репост: " + COPY)
    _enrich(db, [repost], first, monkeypatch)  # its cases job still waits in the queue
    _enrich(db, [original], second, monkeypatch)
    _build(db, [repost])  # the queued jobs run in the worst order
    _build(db, [original])
    cases = _cases_of(db, [original, repost])
    assert set(cases) == {original, repost} and cases[original] == cases[repost]
    assert _case_count(db) == 1
    with Session(db) as session:
        primary = session.scalar(select(CaseMessage.message_id).where(
            CaseMessage.case_id == cases[original], CaseMessage.is_primary.is_(True)))
    assert primary == original


def test_a_batch_out_of_order_in_one_worker(db: Engine) -> None:
    original, other, repost = _store(db, COPY, OTHERS[2], "Репост: " + COPY)
    _enrich(db, [repost, other])
    _enrich(db, [original])
    assert _duplicate_of(db, original) is None
    assert _duplicate_of(db, repost) == original
    with Session(db) as session:
        row = session.get(MessageEnrichment, original)
        assert row is not None and row.result["explain"]["dedup"]["newer"] == [str(repost)]


# -- the window -------------------------------------------------------------------------------


def test_seeding_loads_the_window_once_then_catches_up(
        db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake_tasks, "DEDUP_WINDOW", 3)
    ids = _store(db, *OTHERS)
    _enrich(db, ids)
    with Session(db) as session:  # the first three were enriched long ago
        session.execute(update(MessageEnrichment).where(MessageEnrichment.message_id.in_(ids[:3]))
                        .values(enriched_at=NOW - timedelta(days=1)))
        session.commit()
    _fresh_process()
    pipeline = Pipeline.default()
    stage = next(s for s in pipeline.stages if isinstance(s, DedupStage))
    with Session(db) as session:
        assert remember_stored(session, pipeline) == 3  # the last three, not all six
        assert len(stage) == 3 and stage.capacity == 3
        assert remember_stored(session, pipeline) == 0  # the overlap adds nothing twice
    with Session(db) as session:  # a message older than the window, enriched late: taken
        session.execute(update(MessageEnrichment).where(MessageEnrichment.message_id == ids[0])
                        .values(enriched_at=datetime.now(UTC)))
        session.commit()
        assert remember_stored(session, pipeline) == 1
    with Session(db) as session:  # a neighbour of the window enriched with it: left out
        session.execute(update(MessageEnrichment).where(MessageEnrichment.message_id == ids[1])
                        .values(enriched_at=datetime.now(UTC) - timedelta(minutes=1)))
        session.commit()
        assert remember_stored(session, pipeline) == 0
    (newer,) = _store(db, WATER)
    _enrich(db, [newer])  # by another process
    with Session(db) as session:
        assert remember_stored(session, pipeline) == 1
    # Beyond its window (plus a margin) the stage forgets the oldest texts.
    stage.seed((str(10_000 + i), signature(f"{text} {i}"), None)
               for i, text in enumerate(OTHERS * 800))
    assert len(stage) <= 3 + 4_096
    assert str(10_000 + 6 * 800 - 1) in stage._rows


def test_seeding_cost_is_bounded(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake_tasks, "DEDUP_WINDOW", 2)
    ids = _store(db, *OTHERS)
    _enrich(db, ids)
    pipeline = Pipeline.default()
    queries: list[str] = []
    from sqlalchemy import event

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        queries.append(statement)

    event.listen(db, "before_cursor_execute", record)
    try:
        with Session(db) as session:
            assert remember_stored(session, pipeline) == 2
    finally:
        event.remove(db, "before_cursor_execute", record)
    dedup_queries = [q for q in queries if "dedup_key" in q]
    assert len(dedup_queries) == 1 and "LIMIT" in dedup_queries[0].upper()


def test_the_memory_follows_the_database_it_is_on(db: Engine) -> None:
    pipeline = Pipeline.default()
    stage = next(s for s in pipeline.stages if isinstance(s, DedupStage))
    stage.seed([("999999", signature(COPY), None)])  # another database's message
    intake_tasks._memories[stage] = intake_tasks._DedupMemory("sqlite:///elsewhere.db")
    (original,) = _store(db, COPY)
    with Session(db) as session:
        remember_stored(session, pipeline)
    assert "999999" not in stage._rows


# -- the stage alone --------------------------------------------------------------------------


def _docs(*pairs: tuple[str, str]) -> list[Doc]:
    return [Doc(id=i, text=t) for i, t in pairs]


def test_ordered_stage_never_points_at_a_larger_id() -> None:
    stage = DedupStage(ids_ordered=True)
    out = stage.process(_docs(("20", COPY), ("5", "Репост: " + COPY), ("30", COPY + "!")))
    assert out[0].value["duplicate_of"] is None
    assert out[1].value["duplicate_of"] is None
    assert out[1].explain["newer"] == ["20"]
    assert out[2].value["duplicate_of"] == "5"
    assert stage.process(_docs(("20", COPY)))[0].value["duplicate_of"] == "5"  # replay


def test_unordered_stage_keeps_arrival_order() -> None:
    out = DedupStage().process(_docs(("20", COPY), ("5", "Репост: " + COPY)))
    assert out[1].value["duplicate_of"] == "20"
    assert "newer" not in out[1].explain


def test_seed_with_stored_links_and_ignores_later_ones() -> None:
    stage = DedupStage(ids_ordered=True)
    assert stage.seed([("1", signature(COPY), None), ("2", signature(COPY + "!"), "1"),
                       ("3", signature(WATER), "7"), ("2", signature(COPY), None)]) == 3
    assert stage._find("2") == "1" and stage._find("3") == "3"
    assert stage.process(_docs(("9", "Репост: " + COPY)))[0].value["duplicate_of"] == "1"


def test_stage_shared_by_threads() -> None:
    stage = DedupStage(ids_ordered=True)
    texts = [f"{OTHERS[i % len(OTHERS)]} дом {i} квартира {i * 7}" for i in range(600)]
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        try:
            for start in range(offset, 600, 200):
                batch = [Doc(id=str(i), text=texts[i]) for i in range(start, start + 100)]
                stage.process(batch)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(stage) == 600
    again = stage.process([Doc(id=str(i), text=texts[i]) for i in range(600)])
    assert all(r.explain.get("replayed") for r in again)


def test_merged_index_finds_what_the_recent_one_found() -> None:
    held = [f"{OTHERS[i % len(OTHERS)]} дом {i} квартира {i * 7} подъезд {i % 5}"
            for i in range(5_000)]
    stage = DedupStage(ids_ordered=True)
    stage.seed((str(i), signature(t)) for i, t in enumerate(held, 1))  # merged every 4,096
    recent = DedupStage(ids_ordered=True)
    recent.process([Doc(id=str(i), text=t) for i, t in enumerate(held, 1)])
    probe = [Doc(id=str(10_000 + i), text=held[i * 97] + "!") for i in range(40)]
    assert ([r.value["duplicate_of"] for r in stage.process(probe)]
            == [r.value["duplicate_of"] for r in recent.process(probe)])
    assert all(r.value["duplicate_of"] for r in stage.process(
        [Doc(id=str(20_000 + i), text=held[i * 97] + "!!") for i in range(40)]))


def test_forgetting_keeps_the_newest_and_their_links() -> None:
    stage = DedupStage(ids_ordered=True, capacity=10)
    stage.seed([("1", signature(COPY), None)])
    stage.seed((str(100 + i), signature(f"{OTHERS[i % 6]} номер {i} дом {i * 3}"), None)
               for i in range(5_000))
    assert len(stage) == 10 and "1" not in stage._rows and "5099" in stage._rows
    stage.seed([("20000", signature(COPY + "!"), "1")])
    # The original is forgotten; a copy of its copy still names it.
    out = stage.process(_docs(("40000", "Репост: " + COPY + "!")))
    assert out[0].value["duplicate_of"] == "1"


def test_enriched_at_watermark_moves_forward(db: Engine) -> None:
    ids = _store(db, OTHERS[0], OTHERS[1])
    _enrich(db, ids)
    pipeline = Pipeline.default()
    stage = next(s for s in pipeline.stages if isinstance(s, DedupStage))
    with Session(db) as session:
        remember_stored(session, pipeline)
        first = intake_tasks._memories[stage].watermark
        session.execute(update(MessageEnrichment).where(MessageEnrichment.message_id == ids[1])
                        .values(enriched_at=NOW + timedelta(hours=1)))
        remember_stored(session, pipeline)
        assert first is not None
        assert intake_tasks._memories[stage].watermark == NOW + timedelta(hours=1)
