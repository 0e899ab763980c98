"""The seam after enrichment: a consumer of enriched messages is added without touching intake,
runs once per committed batch in its own job, and a failing consumer stops no other
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database

from otklik import events
from otklik.analytics import tasks as analytics_tasks
from otklik.cases import consumers as cases_consumers
from otklik.channels.schemas import IncomingMessage, Source
from otklik.db.session import session_scope
from otklik.events import MessagesEnriched, consumer
from otklik.intake import tasks as intake_tasks
from otklik.intake.service import store_messages
from otklik.models.case import Case, CaseEvent, CaseMessage
from otklik.models.message import Message, MessageEnrichment
from otklik.queue import broker, drain

# Declared before any worker starts, on queues that exist (see test_dedup_across_workers).
assert intake_tasks.enrich_messages.queue_name == "enrich"
assert cases_consumers.build_cases_after_enrichment.queue_name == "cases"
assert analytics_tasks.request_refresh.queue_name == "analytics"

_lock = threading.Lock()
#: What the test's consumer saw: one entry per run, the batch's message ids and topics.
runs: list[dict[int, str | None]] = []
#: message id -> its topic, as the consumer stored it (the state a second run must not change).
kept: dict[int, str | None] = {}
failures: list[list[int]] = []


@consumer(MessagesEnriched, queue_name="analytics", max_retries=0)
def seam_test_consumer(event: MessagesEnriched) -> None:
    """A consumer the way a new domain writes one: takes ids, reloads, idempotent."""
    with session_scope() as session:
        topics = dict(session.execute(
            select(MessageEnrichment.message_id, MessageEnrichment.topic)
            .where(MessageEnrichment.message_id.in_(event.message_ids))).all())
    with _lock:
        runs.append(topics)
        kept.update(topics)


@consumer(MessagesEnriched, queue_name="cases", max_retries=0)
def seam_test_failing_consumer(event: MessagesEnriched) -> None:
    """A consumer with a bug."""
    with _lock:
        failures.append(list(event.message_ids))
    raise RuntimeError("a consumer's bug")


# Declaring subscribes them; they listen only during these tests (the fixture below).
events.unsubscribe(MessagesEnriched, seam_test_consumer)
events.unsubscribe(MessagesEnriched, seam_test_failing_consumer)


own_url = own_database("events")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(broker, "fail_fast_default", False)  # the failing consumer's job
    runs.clear()
    kept.clear()
    failures.clear()
    events.subscribe(MessagesEnriched, seam_test_consumer)
    events.subscribe(MessagesEnriched, seam_test_failing_consumer)
    try:
        with jobs_database(own_url, monkeypatch, empty=(
                delete(CaseEvent), delete(CaseMessage), delete(Case),
                delete(MessageEnrichment), delete(Message))) as engine:
            yield engine
    finally:
        events.unsubscribe(MessagesEnriched, seam_test_consumer)
        events.unsubscribe(MessagesEnriched, seam_test_failing_consumer)


TEXTS = ("На улице Гоголя огромные ямы на дороге, прошу отремонтировать дорогу",
         "Третий день нет воды в доме 12 по улице Советской, управляющая компания молчит")


def _receive(engine: Engine, *texts: str) -> list[int]:
    """Messages as a channel delivers them: stored, and queued for enrichment on commit."""
    now = datetime.now(UTC)
    with session_scope() as session:
        store_messages(session, [IncomingMessage(
            source=Source.api, source_id=f"seam-{now.timestamp()}-{i}", text=text,
            created_at=now, region="68") for i, text in enumerate(texts)])
    with Session(engine) as session:
        return list(session.scalars(select(Message.id).order_by(Message.id)))


def test_a_new_consumer_runs_after_each_committed_batch_and_failures_stay_its_own(
        db: Engine) -> None:
    assert seam_test_consumer in events.consumers_of(MessagesEnriched)
    ids = _receive(db, *TEXTS)
    assert runs == []  # nothing before the enrichment batch commits
    drain()

    assert len(runs) == 1 and set(runs[0]) == set(ids)  # once, with the batch's ids
    with Session(db) as session:  # what the consumer reloaded is what was committed
        stored = dict(session.execute(select(MessageEnrichment.message_id,
                                             MessageEnrichment.topic)).all())
    assert kept == stored and any(stored.values())
    assert failures == [ids]  # the failing consumer ran, once (no retries), and failed …
    with Session(db) as session:  # … and stopped neither cases nor the other consumer
        in_cases = set(session.scalars(select(CaseMessage.message_id)))
        assert in_cases == set(ids)
        assert session.scalar(select(func.count()).select_from(Case)) == 2

    # The job again (a retry, a second delivery): nothing is enriched twice, nothing is
    # announced twice, and the consumer's state stays as it was.
    intake_tasks.enrich_messages.send(ids)
    drain()
    assert len(runs) == 1 and kept == stored
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2

    # The consumer run twice on the same event (a redelivery) leaves the same state.
    seam_test_consumer.fn(MessagesEnriched(message_ids=ids).model_dump(mode="json"))
    assert len(runs) == 2 and runs[1] == runs[0] and kept == stored


def test_nothing_is_announced_when_the_batch_rolls_back(db: Engine) -> None:
    ids = _receive(db, TEXTS[0])
    broker.flush_all()  # the enrichment job is run here by hand instead
    with session_scope() as session:
        intake_tasks.enrich_now(session, ids)
        session.rollback()
    drain()
    assert runs == [] and failures == []
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(CaseMessage)) == 0
        assert session.scalar(select(func.count()).select_from(MessageEnrichment)) == 0


def test_the_architecture_doc_names_every_consumer_of_every_event() -> None:
    """docs/architecture.md's table of events stays the code's: each event's row names
    each job that consumes it (the table had rotted: events twice, consumers missing)."""
    from pathlib import Path

    from otklik import events

    doc = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    kinds = [kind for kind in vars(events).values() if isinstance(kind, type)
             and issubclass(kind, events.Event) and kind is not events.Event]
    checked = 0
    for kind in kinds:
        jobs = events.consumers_of(kind)
        if not jobs:
            continue
        mine = [row for row in rows if f"`{kind.__name__}" in row.split("|")[1]]
        assert len(mine) == 1, (kind.__name__, len(mine))
        for job in jobs:
            assert f"`{job.actor_name}`" in mine[0], (kind.__name__, job.actor_name)
            checked += 1
    assert checked >= 20
