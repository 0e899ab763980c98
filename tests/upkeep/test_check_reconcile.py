"""``otklik check --json`` counts what must be zero; ``otklik reconcile`` puts the stored but
unfinished work back on the queue, any number of times without doing it twice (SQLite and
PostgreSQL, on a database of their own that commits)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database
from tests.plans import plan_of
from typer.testing import CliRunner

from otklik.cli import app
from otklik.models.case import (
    Answer,
    Case,
    CaseEvent,
    CaseMessage,
    Label,
    Problem,
    Publication,
)
from otklik.models.message import Message, MessageEnrichment
from otklik.queue import drain
from otklik.upkeep.invariants import (
    INVARIANTS,
    not_enriched_query,
    relevant_without_case_query,
)
from otklik.upkeep.reconcile import pending_deliveries_query

own_url = own_database("upkeep")
runner = CliRunner()
RELEVANT = [
    "Третий день нет горячей воды в доме 12 по улице Советской, управляющая компания молчит",
    "Во дворе дома 5 по улице Мичуринской не вывозят мусор уже неделю, контейнеры полные",
    "На улице Гоголя огромные ямы на дороге, прошу отремонтировать дорогу до зимы",
]


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with jobs_database(own_url, monkeypatch, empty=(
            delete(Publication), delete(Answer), delete(CaseEvent), delete(Label),
            delete(CaseMessage), update(Case).values(merged_into_id=None),
            update(Case).values(problem_id=None), delete(Problem), delete(Case),
            delete(MessageEnrichment), delete(Message))) as engine:
        yield engine



def _import(tmp_path: Path, tag: str, texts: list[str], *extra: str) -> None:
    path = tmp_path / f"{tag}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": f"{tag}-{i}", "text": text, "region": "68",
                                 "created_at": "2026-11-20T10:00:00+03:00"},
                                ensure_ascii=False) + "\n")
    result = runner.invoke(app, ["import", str(path), "--source", "import", *extra])
    assert result.exit_code == 0, result.output
    if "--defer" not in extra:
        drain()  # the tests' broker runs jobs only when drained


def _reconcile(*args: str) -> str:
    result = runner.invoke(app, ["reconcile", "--grace", "0", *args])
    assert result.exit_code == 0, result.output
    drain()
    return result.output


def _check(*args: str) -> tuple[int, dict[str, int]]:
    result = runner.invoke(app, ["check", "--json", *args])
    return result.exit_code, json.loads(result.output)


def _age_everything(engine: Engine) -> None:
    """Everything stored an hour ago (past the minute work may be in flight)."""
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with Session(engine) as session:
        session.execute(update(Message).values(received_at=hour_ago))
        session.execute(update(MessageEnrichment).values(enriched_at=hour_ago))
        session.execute(update(Answer).values(approved_at=hour_ago))
        session.commit()


def _cases(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count(Case.id))) or 0


def test_an_import_leaves_every_invariant_at_zero(db: Engine, tmp_path: Path) -> None:
    _import(tmp_path, "chk1", RELEVANT)
    _age_everything(db)
    code, counts = _check()
    assert code == 0, counts
    assert {name: counts[name] for name in INVARIANTS} == dict.fromkeys(INVARIANTS, 0)
    assert counts["messages"] == counts["enriched"] == 3
    assert counts["ok"] is True
    assert _cases(db) >= 1


def test_broken_invariants_are_counted_and_reconcile_repairs_them_once(
        db: Engine, tmp_path: Path) -> None:
    _import(tmp_path, "chk2", RELEVANT)
    with Session(db) as session:
        ids = list(session.scalars(select(Message.id).order_by(Message.id)))
        # a worker died before enriching one message ...
        session.execute(delete(MessageEnrichment).where(MessageEnrichment.message_id == ids[0]))
        session.execute(delete(CaseMessage).where(CaseMessage.message_id == ids[0]))
        session.execute(update(Message).where(Message.id == ids[0])
                        .values(enrich_status="pending"))
        # ... and another before building the case of one (its case never committed)
        session.execute(delete(CaseMessage).where(CaseMessage.message_id == ids[1]))
        relevant = session.scalar(select(MessageEnrichment.relevant)
                                  .where(MessageEnrichment.message_id == ids[1]))
        session.commit()
    assert relevant is True
    _age_everything(db)
    code, counts = _check()
    assert code == 1 and counts["ok"] is False
    assert counts["messages_not_enriched"] == 1
    assert counts["relevant_without_case"] == 1
    assert counts["messages"] == 3 and counts["enriched"] == 2

    first = _reconcile()
    assert "enrichment: 1" in first and "cases: 1" in first
    _age_everything(db)
    code, counts = _check()
    assert code == 0, counts
    cases = _cases(db)
    with Session(db) as session:
        in_cases = session.scalar(select(func.count(CaseMessage.message_id)))
    assert in_cases == 3

    assert "nothing to reconcile" in _reconcile()
    assert _cases(db) == cases


def test_work_in_flight_is_not_late_and_archives_want_no_cases(db: Engine,
                                                              tmp_path: Path) -> None:
    _import(tmp_path, "chk3", RELEVANT[:1], "--defer")  # stored, enrichment still queued
    code, counts = _check()
    assert code == 0 and counts["messages_not_enriched"] == 0  # younger than a minute
    code, counts = _check("--grace", "0")
    assert code == 1 and counts["messages_not_enriched"] == 1

    from otklik.channels.files import RowResult
    from otklik.channels.schemas import IncomingMessage
    from otklik.intake.importer import import_rows
    from otklik.intake.tasks import enrich_pending

    history = [RowResult(n, IncomingMessage(source="import", source_id=f"arch-{n}", text=t,
                                            region="68",
                                            created_at=datetime(2025, 11, 1, tzinfo=UTC)))
               for n, t in enumerate(RELEVANT, 1)]
    import_rows(history, enqueue=False, archived=True)
    enrich_pending()  # a bulk load: enriched, counted, no cases
    _age_everything(db)
    code, counts = _check()
    assert counts["relevant_without_case"] == 1  # only the live message, not the archive
    _reconcile()
    with Session(db) as session:
        archived_in_cases = session.scalar(
            select(func.count()).select_from(CaseMessage)
            .join(Message, Message.id == CaseMessage.message_id)
            .where(Message.archived.is_(True)))
    assert archived_in_cases == 0
    _age_everything(db)
    assert _check()[0] == 0


def test_an_approved_answer_not_published_is_published_by_reconcile(db: Engine,
                                                                    tmp_path: Path) -> None:
    _import(tmp_path, "chk4", RELEVANT[:1])
    with Session(db) as session:
        case = session.scalars(select(Case)).one()
        answer = Answer(case_id=case.id, kind="final", text="Воду дали, проверьте, пожалуйста.",
                        status="approved", created_at=datetime.now(UTC),
                        approved_at=datetime.now(UTC))
        session.add(answer)
        session.commit()
        answer_id = answer.id
    _age_everything(db)
    code, counts = _check()
    assert code == 1 and counts["publications_pending"] == 1
    assert "publishing: 1" in _reconcile()
    with Session(db) as session:
        published = session.get(Answer, answer_id)
        assert published is not None and published.published_at is not None
        rows = session.scalars(select(Publication).where(
            Publication.answer_id == answer_id)).all()
    assert len(rows) == 1  # no channel for an import: recorded once as such
    assert _check()[0] == 0


def test_unfinished_messages_are_found_through_their_partial_index(db: Engine) -> None:
    """`otklik check` and the reconciler read the few messages whose enrichment is not done
    through ``ix_message_unfinished``, not the whole table (at a country's size, millions of
    rows every few minutes). Asked of each database's planner with the table scan ruled out:
    a condition the index's predicate does not cover would still need the scan."""
    query = not_enriched_query(datetime.now(UTC))
    with db.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"render_postcompile": True})
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
        else:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                              tuple(compiled.params.values())).all()
    assert "ix_message_unfinished" in " ".join(str(row) for row in plan)


def _in_case(engine: Engine, ids: list[int]) -> set[int]:
    with Session(engine) as session:
        return set(session.scalars(select(CaseMessage.message_id)
                                   .where(CaseMessage.message_id.in_(ids))))


def _lose_cases(engine: Engine, recent: int, old: int) -> None:
    """The case links of both messages are lost (a worker died before its commit); ``recent``
    was enriched an hour ago, ``old`` three days ago."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.execute(delete(CaseMessage).where(CaseMessage.message_id.in_([recent, old])))
        session.execute(update(MessageEnrichment).values(enriched_at=now - timedelta(hours=1)))
        session.execute(update(MessageEnrichment).where(MessageEnrichment.message_id == old)
                        .values(enriched_at=now - timedelta(days=3)))
        session.execute(update(Message).values(received_at=now - timedelta(days=3)))
        session.commit()


def test_the_windowed_pass_sees_recent_work_and_the_full_sweep_everything(
        db: Engine, tmp_path: Path) -> None:
    """The frequent pass looks for relevant messages without a case among the last hours'
    enrichments only; ``otklik reconcile`` (full by default) and the scheduler's daily sweep
    look at all of them. Run again, each queues nothing that is done."""
    from otklik.upkeep.scheduler import default_work

    _import(tmp_path, "win", RELEVANT[:2])
    with Session(db) as session:
        recent, old = session.scalars(select(Message.id).order_by(Message.id)).all()
        assert set(session.scalars(select(MessageEnrichment.relevant))) == {True}
    assert _in_case(db, [recent, old]) == {recent, old}

    _lose_cases(db, recent, old)
    assert _check()[1]["relevant_without_case"] == 2  # the check stays whole
    windowed = _reconcile("--window", "24")
    assert "last 24 h only" in windowed and "cases: 1" in windowed
    assert _in_case(db, [recent, old]) == {recent}  # the old one is left to the full sweep
    assert "nothing to reconcile" in _reconcile("--window", "24")
    assert "cases: 1" in _reconcile()  # by hand: everything
    assert _in_case(db, [recent, old]) == {recent, old}
    assert "nothing to reconcile" in _reconcile()

    _lose_cases(db, recent, old)
    assert "cases: 2" in _reconcile()
    assert _in_case(db, [recent, old]) == {recent, old}

    work = {item.name: item for item in default_work()}
    assert (work["reconcile"].every, work["reconcile_full"].every) == (300, 86400)
    _lose_cases(db, recent, old)
    work["reconcile"].send()  # the frequent pass: the setting's 24 hours
    drain()
    assert _in_case(db, [recent, old]) == {recent}
    work["reconcile_full"].send()  # the daily sweep
    drain()
    assert _in_case(db, [recent, old]) == {recent, old}
    cases = _cases(db)
    work["reconcile_full"].send()
    work["reconcile"].send()
    drain()
    assert _cases(db) == cases
    assert _check()[0] == 0


def test_the_windowed_look_reads_the_window_through_its_index(db: Engine) -> None:
    """The frequent pass reads the window of ``ix_message_enrichment_enriched_at`` and looks
    each message and case link up by key: neither ``message`` nor ``case_message`` is read
    whole (at a country's size, millions of rows every five minutes)."""
    now = datetime.now(UTC)
    plan = plan_of(db, relevant_without_case_query(now, now - timedelta(hours=24)))
    text = "\n".join(plan)
    if db.dialect.name == "postgresql":
        assert "Seq Scan" not in text, text
        at = plan.index(next(line for line in plan if "ix_message_enrichment_enriched_at" in line))
        assert "enriched_at >=" in plan[at + 1] and "enriched_at <" in plan[at + 1], text
        keyed = [line for line in plan if line.startswith("Index Cond:")]
        assert any("(id = message_enrichment.message_id)" in line for line in keyed), text
        assert any("(message_id = message.id)" in line for line in keyed), text
    else:
        assert ("SEARCH message_enrichment USING INDEX ix_message_enrichment_enriched_at "
                "(enriched_at>? AND enriched_at<?)") in plan, text
        scans = [line for line in plan if line.startswith("SCAN")]
        assert scans == [], text
        assert any(line.startswith("SEARCH message USING INTEGER PRIMARY KEY")
                   for line in plan), text
        assert any(line.startswith("SEARCH case_message USING") for line in plan), text


def test_pending_deliveries_are_found_through_their_partial_index(db: Engine) -> None:
    """The reconciler reads the few pending deliveries of briefs through
    ``ix_report_delivery_pending`` (migration 0029), not every brief ever e-mailed."""
    plan = plan_of(db, pending_deliveries_query(datetime.now(UTC)))
    assert "ix_report_delivery_pending" in " ".join(plan), plan
