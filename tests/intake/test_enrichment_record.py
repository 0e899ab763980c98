"""What an enrichment row stores of the stages' record: a demo stream enriched as before (the
whole record, every row its own INSERT) and as now (the explanation a reader uses, no
duplicate of the ``dedup_key`` column; on PostgreSQL one statement a batch) gives rows equal
in every column and in everything a reader takes from ``result`` — the message card's
decisions, the detector's urgency words, the confidence of the queue, re-enrichment's
rubricator version, the place of a thread (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session
from tests.conftest import BACKENDS, migrated_database

from otklik.config import get_settings
from otklik.db.session import make_engine, reset_engine_cache
from otklik.intake import tasks as intake_tasks
from otklik.intake.repository import MessageRepository
from otklik.models.message import Message, MessageEnrichment
from otklik.web.workspace_common import decisions
from otklik.workspace.confidence import message_confidence

MESSAGES = 240
END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
#: The columns compared as they are (``enriched_at`` is each run's clock).
COLUMNS = [c.name for c in cast(Table, MessageEnrichment.__table__).columns
           if c.name not in ("enriched_at", "result")]


@pytest.fixture(scope="module", params=BACKENDS)
def stream_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    """A database of the backend with the demo's regions and a demo stream stored, not
    enriched."""
    from otklik.audit.actor import Actor
    from otklik.channels.files import RowResult
    from otklik.demo.routing import load_regions_for_cases
    from otklik.demo.stream import generate_stream
    from otklik.intake.importer import import_rows

    with migrated_database(request.param, tmp_path_factory, "record") as url:
        mp = pytest.MonkeyPatch()
        mp.setenv("OTKLIK_DATABASE_URL", url)
        get_settings.cache_clear()
        reset_engine_cache()
        engine = make_engine(url)
        with Session(engine) as session:
            load_regions_for_cases(session, Actor.system("tests"))
            session.commit()
        engine.dispose()
        import_rows((RowResult(n, m) for n, m in enumerate(
            generate_stream(seed=7, total=MESSAGES, end=END), 1)), enqueue=False)
        try:
            yield url
        finally:
            mp.undo()
            get_settings.cache_clear()
            reset_engine_cache()


def _fresh_pipeline() -> None:
    """A pipeline that remembers no earlier run (its near-duplicate memory starts empty)."""
    from otklik.language import taxonomy_service

    taxonomy_service._pipelines.clear()
    intake_tasks._memories.clear()


def _enrich_all(url: str) -> dict[int, dict[str, Any]]:
    """Enrich every message of the stream and read back what a reader reads of each row;
    afterwards the rows are gone and the messages pending again."""
    _fresh_pipeline()
    assert intake_tasks.enrich_pending(batch=100) == MESSAGES
    e = MessageEnrichment
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = {row.message_id: row for row in session.scalars(select(e))}
            # what readers take from ``result`` in SQL: the queue's confidence, the detector's
            # urgency (repository), re-enrichment's rubricator version
            in_sql = {r[0]: tuple(r[1:]) for r in session.execute(select(
                e.message_id, message_confidence(), e.result["urgency"],
                e.result[("explain", "urgency")]["matched"],
                e.result["taxonomy_version"].as_string()))}
            out = {i: {"columns": {c: getattr(row, c) for c in COLUMNS},
                       "result": row.result, "decisions": decisions(row.result),
                       "sql": in_sql[i]} for i, row in rows.items()}
            session.execute(delete(e))
            session.execute(update(Message).values(enrich_status="pending"))
            session.commit()
    finally:
        engine.dispose()
    return out


def _as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """Store as the code did before: the stages' whole record, one INSERT a row."""

    def each_row(self: MessageRepository, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.connection().execute(
                insert(cast(Table, MessageEnrichment.__table__)), list(rows))

    monkeypatch.setattr(intake_tasks, "stored_result", lambda result: result)
    monkeypatch.setattr(MessageRepository, "insert_enrichments", each_row)


def test_the_stored_record_gives_every_reader_what_it_gave(
        stream_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as before_code:
        _as_before(before_code)
        before = _enrich_all(stream_url)
    after = _enrich_all(stream_url)
    assert len(after) == MESSAGES and set(after) == set(before)
    for message_id, old in before.items():
        new = after[message_id]
        assert new["columns"] == old["columns"], message_id
        assert new["decisions"] == old["decisions"], message_id
        assert new["sql"] == old["sql"], message_id
        # everything but the explanation is kept (the key is the row's column), and of the
        # explanation what STORED_EXPLAIN names
        whole, kept = old["result"], new["result"]
        assert {k: v for k, v in whole.items() if k not in ("explain", "dedup_key")} == \
            {k: v for k, v in kept.items() if k != "explain"}
        assert whole.get("dedup_key") == old["columns"]["dedup_key"]
        assert kept == intake_tasks.stored_result(whole)
    # the stream exercises what is compared: reasons on the card, urgency words, a thread's
    # place, copies
    assert any(d["decisions"]["topic"].reasons for d in after.values())
    assert any(d["decisions"]["place"].reasons for d in after.values())
    assert any(d["sql"][2] for d in after.values())
    assert any("territory_from_thread" in d["result"]["explain"] for d in after.values())
    assert any(d["columns"]["duplicate_of_id"] for d in after.values())
    sizes = [(len(str(old["result"])), len(str(after[i]["result"])))
             for i, old in before.items()]
    assert sum(new for _, new in sizes) < 0.8 * sum(old for old, _ in sizes)


def test_stored_result_keeps_what_readers_use() -> None:
    whole: dict[str, Any] = {
        "topic": {"code": "roads"}, "dedup_key": "k" * 171, "duplicate_of": None,
        "explain": {
            "topic": {"matched": {"roads": ["яма"]}, "scores": {"roads": 2.0}},
            "territory": {"mentions": [{"span": "Тамбове"}], "why": ["a reason"],
                          "gazetteer": "v1", "streets": []},
            "urgency": {"matched": {"high": ["авария"]}},
            "sentiment": {"matches": [["ужас", -1.0]], "negative": 1.0},
            "kind": {"cues": {"complaint": ["снова"]}, "scores": {"complaint": 1.0}},
            "relevance": {"cues": {"appeal": ["?"]}, "scores": {"appeal": 1.5},
                          "direct_source": "sent through the form"},
            "dedup": {"newer": ["12"], "shingles": 70},
            "language": {"letters": 60}, "normalize": {"changed": False},
            "pii": {"counts": {}},
            "territory_from_thread": "место по ветке: Тамбов",
        },
    }
    kept = intake_tasks.stored_result(whole)
    assert kept == {
        "topic": {"code": "roads"}, "duplicate_of": None,
        "explain": {
            "topic": {"matched": {"roads": ["яма"]}},
            "territory": {"mentions": [{"span": "Тамбове"}], "why": ["a reason"]},
            "urgency": {"matched": {"high": ["авария"]}},
            "sentiment": {"matches": [["ужас", -1.0]]},
            "kind": {"cues": {"complaint": ["снова"]}},
            "relevance": {"cues": {"appeal": ["?"]}, "direct_source": "sent through the form"},
            "dedup": {"newer": ["12"]},
            "territory_from_thread": "место по ветке: Тамбов",
        },
    }
    assert "dedup_key" in whole and "language" in whole["explain"]  # the input is unchanged
