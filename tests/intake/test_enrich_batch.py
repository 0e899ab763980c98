"""A batch's enrichment is written in bulk: its new rows in one statement (on PostgreSQL a
COPY, on SQLite an executemany INSERT) and its messages marked in one UPDATE,
with the loaded objects left as the ORM would have left them; a second run stores nothing,
a forced one overwrites, a failure loses nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, func, select, update
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database

from otklik.channels.schemas import IncomingMessage, Source
from otklik.intake import tasks as intake_tasks
from otklik.intake.service import store_messages
from otklik.intake.tasks import enrich_messages, enrich_now
from otklik.models.message import Message, MessageEnrichment

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TEXTS = ("Во дворе дома 3 по улице Садовой не вывозят мусор уже неделю",
         "Третий день нет воды в доме 12 по улице Советской в Тамбове",
         "На улице Гоголя огромные ямы на дороге, прошу отремонтировать",
         "Автобус номер 12 ходит раз в час, битком, водитель хамит",
         "Батареи в доме 7 по улице Гагарина еле тёплые, плюс пятнадцать",
         "Спасибо за новый сквер на Мичуринской, очень красиво")
_ids = count(1)


def _incoming(n: int, text: str | None = None, **extra: Any) -> IncomingMessage:
    return IncomingMessage(source=Source.vk, source_id=f"batch-{n}", region="68",
                           text=text or f"{TEXTS[n % len(TEXTS)]} (№{n})", created_at=T0,
                           **extra)


def _store(session: Session, size: int) -> list[int]:
    numbers = [next(_ids) for _ in range(size)]
    store_messages(session, [_incoming(n) for n in numbers], enqueue=False)
    return list(session.scalars(select(Message.id).where(
        Message.source_id.in_([f"batch-{n}" for n in numbers])).order_by(Message.id)))


@contextmanager
def _statements(session: Session) -> Iterator[list[tuple[str, int]]]:
    """The statements the session's connection runs: (SQL, how many rows of parameters)."""
    seen: list[tuple[str, int]] = []
    engine = session.get_bind().engine

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               executemany: bool) -> None:
        seen.append((" ".join(statement.split()), len(parameters) if executemany else 1))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _writes(seen: list[tuple[str, int]], prefix: str) -> list[int]:
    return [rows for statement, rows in seen if statement.startswith(prefix)]


def _new_rows(seen: list[tuple[str, int]]) -> list[int]:
    """The statements that wrote new enrichment rows, with how many rows each: on
    PostgreSQL a COPY, on SQLite an executemany INSERT (:func:`otklik.db.appends.insert_rows`)."""
    return (_writes(seen, "INSERT INTO message_enrichment")
            + _writes(seen, "COPY message_enrichment"))


def _rows(session: Session, ids: list[int]) -> dict[int, MessageEnrichment]:
    return {row.message_id: row for row in session.scalars(
        select(MessageEnrichment).where(MessageEnrichment.message_id.in_(ids)))}


def test_a_batch_is_written_in_one_insert_and_one_update(session: Session) -> None:
    ids = _store(session, 24)
    messages = session.scalars(select(Message).where(Message.id.in_(ids))).all()
    with _statements(session) as seen:
        assert enrich_now(session, ids) == 24
        # the objects say what the database says, with nothing left for the flush to write
        assert {m.enrich_status for m in messages} == {"done"}
        assert not session.dirty
        session.commit()
    assert _new_rows(seen) == [24]
    assert _writes(seen, "UPDATE message ") == [1]
    assert not [s for s, _ in seen if s.startswith("UPDATE message_enrichment")]
    # the same unit of work sees the rows, by query and by primary key
    assert set(_rows(session, ids)) == set(ids)
    assert session.get(MessageEnrichment, ids[0]) is not None
    stored = session.execute(select(Message.id, Message.enrich_status)
                             .where(Message.id.in_(ids))).all()
    assert {status for _, status in stored} == {"done"}


def test_messages_not_held_are_read_as_rows_and_marked_in_the_database(
        session: Session) -> None:
    """The batch is read as rows of its columns: no message object enters the session, and
    the one UPDATE is what marks them (a later read, by query or by key, sees ``done``)."""
    ids = _store(session, 5)
    session.expunge_all()
    with _statements(session) as seen:
        assert enrich_now(session, ids) == 5
    assert not [o for o in session.identity_map.values() if isinstance(o, Message)]
    assert _writes(seen, "UPDATE message ") == [1]
    assert {session.get(Message, i).enrich_status for i in ids} == {"done"}  # type: ignore[union-attr]


def test_a_second_run_stores_nothing(session: Session) -> None:
    ids = _store(session, 6)
    enrich_now(session, ids)
    before = {i: (row.enriched_at, row.topic) for i, row in _rows(session, ids).items()}
    with _statements(session) as seen:
        assert enrich_now(session, ids) == 0
        session.flush()
    assert not [s for s, _ in seen if s.startswith(("INSERT", "UPDATE"))]
    after = {i: (row.enriched_at, row.topic) for i, row in _rows(session, ids).items()}
    assert after == before
    count_rows = select(func.count()).select_from(MessageEnrichment).where(
        MessageEnrichment.message_id.in_(ids))
    assert session.scalar(count_rows) == 6


def test_a_forced_run_overwrites_the_stored_rows(session: Session) -> None:
    ids = _store(session, 5)
    enrich_now(session, ids)
    decided = {i: row.topic for i, row in _rows(session, ids).items()}
    old = T0 - timedelta(days=30)
    session.execute(update(MessageEnrichment).where(MessageEnrichment.message_id.in_(ids))
                    .values(topic="stale", enriched_at=old))
    session.expire_all()
    with _statements(session) as seen:
        assert enrich_now(session, ids, force=True) == 5
        session.flush()
    assert not _new_rows(seen)  # every row existed
    assert not _writes(seen, "UPDATE message ")  # the messages were done already
    rows = _rows(session, ids)
    assert {i: row.topic for i, row in rows.items()} == decided
    assert all(row.enriched_at > old for row in rows.values())


def test_an_edited_message_is_overwritten_and_new_ones_inserted_together(
        session: Session) -> None:
    ids = _store(session, 3)
    enrich_now(session, ids)
    edited_source = session.get(Message, ids[0])
    assert edited_source is not None
    number = int(edited_source.source_id.removeprefix("batch-"))
    store_messages(session, [_incoming(number, "Спасибо за новый сквер, очень красиво",
                                       edited_at=T0 + timedelta(hours=1))], enqueue=False)
    assert edited_source.enrich_status == "pending"
    new = _store(session, 2)
    with _statements(session) as seen:
        assert enrich_now(session, ids + new) == 3  # the edited one and the two new ones
        session.flush()
    assert _new_rows(seen) == [2]
    assert _writes(seen, "UPDATE message ") == [1]
    rows = _rows(session, ids + new)
    assert set(rows) == set(ids + new)
    assert rows[ids[0]].result["explain"] is not None
    assert edited_source.enrich_status == "done"


def test_a_rolled_back_savepoint_leaves_the_messages_pending(session: Session) -> None:
    ids = _store(session, 4)
    messages = session.scalars(select(Message).where(Message.id.in_(ids))).all()
    savepoint = session.begin_nested()
    enrich_now(session, ids)
    assert {m.enrich_status for m in messages} == {"done"}
    savepoint.rollback()
    assert {m.enrich_status for m in messages} == {"pending"}
    assert not _rows(session, ids)


# -- a failure in the job (it commits: a database of its own) -----------------------------------

own_url = own_database("enrich_batch")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with jobs_database(own_url, monkeypatch, empty=(
            delete(MessageEnrichment), delete(Message))) as engine:
        yield engine


def test_a_job_that_fails_after_writing_its_batch_loses_nothing(
        db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(db) as session:
        ids = _store(session, 8)
        session.commit()
    announce = intake_tasks.events.announce

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the worker dies after the batch was written")

    monkeypatch.setattr(intake_tasks.events, "announce", broken)
    with pytest.raises(RuntimeError):
        enrich_messages.fn(ids)
    with Session(db) as session:
        assert not _rows(session, ids)
        assert set(session.scalars(select(Message.enrich_status)
                                   .where(Message.id.in_(ids)))) == {"pending"}
    monkeypatch.setattr(intake_tasks.events, "announce", announce)
    enrich_messages.fn(ids)  # the retry
    enrich_messages.fn(ids)  # and a redelivery after it: nothing twice
    with Session(db) as session:
        assert set(_rows(session, ids)) == set(ids)
        assert session.scalar(select(func.count()).select_from(MessageEnrichment)) == 8
        assert set(session.scalars(select(Message.enrich_status)
                                   .where(Message.id.in_(ids)))) == {"done"}


def test_the_batch_read_takes_the_form_settlement_as_the_whole_raw_would(
        session: Session) -> None:
    """Enrichment reads a message's few columns (as rows, not objects) and only
    ``raw.fields.settlement`` of its raw record: the settlement it finds is the one read
    from the whole ``raw``, whatever shape the record has; the messages come in id order."""
    from otklik.intake.place_context import stated_settlement
    from otklik.intake.repository import MessageRepository

    ids = _store(session, 7)
    shapes: list[Any] = [{"fields": {"settlement": " Мичуринск "}}, {"fields": {"settlement": 5}},
                         {"fields": ["settlement"]}, {"fields": {"settlement": "  "}},
                         {"fields": {"other": "Тамбов"}}, {"settlement": "Котовск"}, {}]
    for message_id, raw in zip(ids, shapes, strict=True):
        session.execute(update(Message).where(Message.id == message_id).values(raw=raw))
    session.expunge_all()
    messages, fields = MessageRepository(session).to_enrich(list(reversed(ids)))
    assert [m.id for m in messages] == ids
    for message, raw in zip(messages, shapes, strict=True):
        read = {"fields": {"settlement": fields.get(message.id)}}
        assert stated_settlement(read) == stated_settlement(raw)
        assert not hasattr(message, "raw")  # not read with the batch
    assert stated_settlement({"fields": {"settlement": fields[ids[0]]}}) == "Мичуринск"


def test_among_is_in_on_both_backends(session: Session) -> None:
    """``among`` (one array parameter on PostgreSQL) selects what ``IN`` selects."""
    from otklik.db.lists import among

    ids = _store(session, 5)
    wanted = [ids[0], ids[3], 10**12]
    assert sorted(session.scalars(select(Message.id).where(among(session, Message.id, wanted)))) \
        == sorted(session.scalars(select(Message.id).where(Message.id.in_(wanted))))
    sources = [f"batch-{n}" for n in range(10**6)][:3]
    assert list(session.scalars(select(Message.id).where(
        among(session, Message.source_id, sources)))) == list(session.scalars(
            select(Message.id).where(Message.source_id.in_(sources))))
    assert list(session.scalars(select(Message.id).where(among(session, Message.id, [])))) \
        == []


def test_rows_inserted_at_once_read_back_as_given(session: Session) -> None:
    """The one-statement write (PostgreSQL: a COPY) keeps every value exactly: a
    moment with its microseconds from another zone, a float's last digit, text beyond ASCII,
    nulls, the nested record."""
    from otklik.intake.repository import MessageRepository

    ids = _store(session, 2)
    moscow = timezone(timedelta(hours=3))
    given: list[dict[str, Any]] = [
             {"message_id": ids[0], "relevant": True, "kind": "complaint", "language": "ru",
              "topic": "roads", "subtopic": None, "topic_confidence": 0.1 + 0.2,
              "sentiment": "negative", "urgency": "high", "region_code": "68",
              "municipality_id": None, "settlement_id": None, "street": "улица «Садовая»",
              "house": "3/1", "dedup_key": "k" * 171, "duplicate_of_id": None,
              "model_version": None, "result": {"topic": {"code": "roads", "confidence": 1e-7},
                                                "explain": {"kind": {"cues": {"a": ["?"]}}}},
              "enriched_at": datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=moscow)},
             {"message_id": ids[1], "relevant": False, "kind": None, "language": None,
              "topic": None, "subtopic": None, "topic_confidence": None, "sentiment": None,
              "urgency": None, "region_code": None, "municipality_id": None,
              "settlement_id": None, "street": None, "house": None, "dedup_key": None,
              "duplicate_of_id": ids[0], "model_version": "m1", "result": {},
              "enriched_at": T0}]
    MessageRepository(session).insert_enrichments(given)
    session.expire_all()
    rows = _rows(session, ids)
    for values in given:
        row = rows[values["message_id"]]
        assert {name: getattr(row, name) for name in values} == values
