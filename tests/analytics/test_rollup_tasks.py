"""The rollups kept fresh from the task queue: a change commits, the queue refreshes once, the
dashboard's rollup numbers equal direct counts; concurrent refreshes do not double-count.

These tests commit for real, so they run on a database of their own (per backend)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database

from otklik.accounts.scope import Scope
from otklik.analytics import tasks, watermarks
from otklik.analytics.repository import AnalyticsRepository, Limits
from otklik.analytics.schemas import AnalyticsFilter, reporting_day
from otklik.audit.actor import Actor
from otklik.cases import service as cases
from otklik.db.base import utcnow
from otklik.models.analytics import AnalyticsWatermark, MessageDailyStat
from otklik.models.case import Case, CaseMessage, CaseStatus, Problem
from otklik.models.message import Message, MessageEnrichment
from otklik.queue import drain

SYSTEM = Actor.system("tests")
_ids = count(1)


own_url = own_database("jobs")


@pytest.fixture
def own_db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Jobs and the test share the private database; the queue starts empty."""
    with jobs_database(own_url, monkeypatch) as engine:
        yield engine


def _messages(session: Session, n: int, *, problem: Problem | None = None,
              days_ago: int = 1) -> list[Case]:
    """``n`` relevant messages of region 68, every other with a new case, 7 minutes apart
    from 09:00 UTC ``days_ago`` days ago: one local day whatever the hour the test runs at
    (a run after 21:45 Moscow time spread them over two days, and the
    refresh's "days of the last minutes' enrichments" counted three, not two)."""
    made = []
    base = (utcnow() - timedelta(days=days_ago)).replace(hour=9, minute=0, second=0,
                                                          microsecond=0)
    for i in range(n):
        k = next(_ids)
        created = base + timedelta(minutes=7 * i)
        message = Message(source="vk", source_id=f"rollup-job-{k}", region_code="68",
                          text="Яма на дороге", text_length=13, content_hash=f"rj{k}",
                          created_at=created, received_at=created, enrich_status="done",
                          attachments=[], raw={})
        session.add(message)
        session.flush()
        session.add(MessageEnrichment(message_id=message.id, relevant=True,
                                      topic=("roads", "waste")[i % 2], sentiment="negative",
                                      region_code="68", result={}, enriched_at=utcnow()))
        if i % 2 == 0:
            case = Case(region_code="68", status=CaseStatus.new, title="Яма", topic="roads",
                        source="vk", received_at=created, routing={}, pauses=[],
                        problem_id=problem.id if problem else None)
            session.add(case)
            session.flush()
            session.add(CaseMessage(message_id=message.id, case_id=case.id, is_primary=True))
            made.append(case)
    session.flush()
    return made


def _numbers(session: Session, rollup: bool) -> dict[str, object]:
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    today = reporting_day(utcnow())
    flt = AnalyticsFilter.from_params(date_from=today - timedelta(days=30), date_to=today,
                                      region_code="68")
    counts = (repo.case_counts_rollup(flt, limits, ["topic"]) if rollup
              else repo.case_counts(flt, limits, ["topic"]))
    return {
        "messages": sorted(repo.message_counts(flt, limits, ["day", "topic"], rollup=rollup)),
        "cases": sorted(counts),
        "problems": sorted(repo.problem_message_counts(flt, limits, rollup=rollup)),
    }


def _assert_fresh(engine: Engine) -> None:
    with Session(engine) as session:
        assert _numbers(session, rollup=True) == _numbers(session, rollup=False)


def test_changes_refresh_the_rollups_through_the_queue(own_db: Engine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[tasks.RollupRefresh] = []
    real = tasks.refresh_rollups

    def counted(session: Session, **kwargs: object) -> tasks.RollupRefresh:
        result = real(session, **kwargs)  # type: ignore[arg-type]
        runs.append(result)
        return result

    with Session(own_db) as session:
        problem = Problem(region_code="68", title="Дорога", topic="roads",
                          first_seen=utcnow(), last_seen=utcnow(), size=0)
        session.add(problem)
        session.flush()
        _messages(session, 12, problem=problem, days_ago=3)
        tasks.rollups_changed(session, "messages")
        tasks.rollups_changed(session, "messages")  # once per transaction
        assert len(session.info["otklik_pending_jobs"]) == 1
        session.commit()
        problem_id = problem.id
    monkeypatch.setattr(tasks, "refresh_rollups", counted)
    drain()
    assert len(runs) == 1 and runs[0].message_days >= 1
    _assert_fresh(own_db)
    with Session(own_db) as session:
        assert session.scalar(select(func.sum(MessageDailyStat.messages))) == 12

    # New messages, then case changes through the workflow (each records a history
    # entry, which asks for a refresh).
    with Session(own_db) as session:
        problem = session.get(Problem, problem_id)
        _messages(session, 6, problem=problem)
        tasks.rollups_changed(session, "messages")
        session.commit()
    with Session(own_db) as session:
        for case in session.scalars(select(Case).order_by(Case.id).limit(3)):
            cases.reject(session, SYSTEM, case, "spam")
        for case in session.scalars(select(Case).where(Case.status == CaseStatus.new)
                                    .order_by(Case.id).limit(2)):
            case.topic = "waste"
            cases.move(session, SYSTEM, case, "triage")
        session.commit()
    drain()
    # the case request may come before or after the refresh the message request started
    assert len(runs) in (2, 3)
    _assert_fresh(own_db)
    # Nothing new: a refresh skips the case windows (the allowance for other hosts' clocks
    # would still count the last request as new); the message rollup rebuilds only the days
    # of the last minutes' enrichments again (a batch committed late by another worker is
    # caught so), and changes nothing.
    monkeypatch.setattr(tasks, "SKEW", timedelta(0))
    with Session(own_db) as session:
        again = real(session)
        session.commit()
    assert again.message_days <= 2 and again.case_rows is None
    assert again.problem_rows is None
    _assert_fresh(own_db)


def test_requests_are_coalesced_until_the_refresh_starts(own_db: Engine) -> None:
    now = utcnow()
    with Session(own_db) as session:
        session.execute(AnalyticsWatermark.__table__.delete().where(
            AnalyticsWatermark.name.like("rollup_%")))
        session.commit()
    decisions = []
    for i in range(20):  # a burst of enrichment batches and case changes
        with Session(own_db) as session:
            decisions.append(tasks.note_request(session, ("messages", "cases")[i % 2],
                                                now=now + timedelta(milliseconds=i)))
            session.commit()
    assert decisions == [True] + [False] * 19
    with Session(own_db) as session:  # the refresh starts: the next request schedules again
        watermarks.put(session, {tasks.SCHEDULED: tasks.EPOCH})
        session.commit()
    with Session(own_db) as session:
        assert tasks.note_request(session, "messages", now=now + timedelta(seconds=1))
        session.commit()
    with Session(own_db) as session:  # a scheduled refresh that never started is replaced
        assert not tasks.note_request(session, "cases", now=now + timedelta(minutes=1))
        assert tasks.note_request(session, "cases", now=now + tasks.STALE + timedelta(minutes=2))
        session.commit()
        with pytest.raises(ValueError):
            tasks.note_request(session, "decisions")


def test_a_slow_refresh_spaces_out_the_next(own_db: Engine,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "INLINE_DELAY_MS", 2_000)
    now = utcnow()
    with Session(own_db) as session:
        watermarks.put(session, {tasks.LAST_STARTED: now - timedelta(seconds=1),
                                 tasks.LAST_FINISHED: now})
        assert tasks.refresh_delay_ms(session) == 2_000
        watermarks.put(session, {tasks.LAST_STARTED: now - timedelta(seconds=40)})
        assert tasks.refresh_delay_ms(session) == 80_000
        session.rollback()


def test_concurrent_full_refreshes_do_not_double_count(own_db: Engine) -> None:
    with Session(own_db) as session:
        _messages(session, 10, days_ago=2)
        tasks.refresh_rollups(session)  # the watermark rows exist: the races are in the days
        session.commit()
        total = session.scalar(select(func.count()).select_from(MessageEnrichment).where(
            MessageEnrichment.relevant.is_(True)))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            with Session(own_db) as session:
                barrier.wait()
                tasks.refresh_rollups(session, full=True)
                session.commit()
        except BaseException as exc:  # noqa: BLE001  (reported by the assert below)
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    with Session(own_db) as session:
        assert session.scalar(select(func.sum(MessageDailyStat.messages))) == total
    _assert_fresh(own_db)
