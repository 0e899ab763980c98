"""``otklik enrich --from-db``: stored messages re-enriched after the rubricator or the topic
model changed; operators' corrections kept, cases built for newly relevant messages, dedup
sane, a second run changes nothing, filters filter (SQLite and PostgreSQL).

These tests commit for real, so they run on a database of their own (per backend)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database
from typer.testing import CliRunner

from otklik.audit.actor import Actor
from otklik.cases import builder
from otklik.cases import service as cases
from otklik.cases.consumers import build_cases_after_enrichment
from otklik.cli import app
from otklik.intake.tasks import enrich_now
from otklik.language import taxonomy_service
from otklik.models.audit import AuditEntry
from otklik.models.case import Case, CaseEvent, CaseMessage, CaseStatus, Label
from otklik.models.message import Message, MessageEnrichment
from otklik.models.taxonomy import TaxonomyVersion
from otklik.nlp.taxonomy import editing, load_taxonomy
from otklik.queue import drain, pending_mark

SYSTEM = Actor.system("tests")
runner = CliRunner()
_ids = count(1)
# With the packaged rubricator a housing complaint; once «парапет» is a word of
# roads.bridges, a complaint about a bridge.
PARAPET = "Парапет у дома 5 на улице Советской разрушен, прошу отремонтировать"
PARAPET_2 = "Парапет у дома 17 на улице Мира совсем разрушен, прошу срочно отремонтировать"
POTHOLE = "Яма на дороге по ул. Ленина в Мичуринске, прошу отремонтировать"
CHATTER = "Всем хорошего дня и отличного настроения"
COPY = "Во дворе дома 3 по улице Садовой не вывозят мусор уже неделю, контейнеры переполнены"
# Road complaints that are no copies of each other (each its own case).
ROADS = ("На улице Гоголя огромные ямы на дороге, прошу отремонтировать дорогу",
         "На улице Кольцовской разбит асфальт, сплошные ямы, прошу отремонтировать дорогу",
         "Разбитая дорога на улице Пушкина, выбоины и колея, прошу отремонтировать")
NOW = datetime.now(UTC)


own_url = own_database("reenrich")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI, the jobs and the test share the private database, emptied for each test."""
    with jobs_database(own_url, monkeypatch, empty=(
            delete(CaseEvent), delete(Label), delete(CaseMessage), delete(MessageEnrichment),
            delete(TaxonomyVersion), update(Case).values(merged_into_id=None), delete(Case),
            delete(Message))) as engine:
        yield engine


def _message(session: Session, text: str, *, region: str = "68", source: str = "vk",
             days_ago: float = 1, parent: Message | None = None) -> Message:
    k = next(_ids)
    at = NOW - timedelta(days=days_ago)
    message = Message(source=source, source_id=f"reenrich-{k}", region_code=region, text=text,
                      text_length=len(text), content_hash=f"re{k}", created_at=at,
                      received_at=at, enrich_status="pending", attachments=[], raw={},
                      author_key=f"author{k}", parent_id=parent.id if parent else None)
    session.add(message)
    session.flush()
    return message


def _enrich_and_build(session: Session, messages: list[Message]) -> None:
    """Enrich and build the cases here; the cases job the enrichment announced is dropped
    (the tests change what it would see before they commit)."""
    ids = [m.id for m in messages]
    mark = pending_mark(session)
    enrich_now(session, ids)
    pending = session.info["otklik_pending_jobs"]
    pending[mark:] = [(job, args) for job, args in pending[mark:]
                      if job.actor_name != build_cases_after_enrichment.actor_name]
    session.flush()
    builder.build_cases(session, SYSTEM, ids)


def _activate_parapet(session: Session) -> None:
    document = taxonomy_service.current_document(session)
    lexicon = editing.format_lexicon(load_taxonomy()["roads.bridges"].lexicon)
    document = editing.set_lexicon(document, "roads.bridges", lexicon + "\nпарапет 2")
    taxonomy_service.save_version(session, SYSTEM, document, "test", activate=True)


def _enrichment(engine: Engine, message_id: int) -> MessageEnrichment:
    with Session(engine) as session:
        row = session.get(MessageEnrichment, message_id)
        assert row is not None
        return row


def _case_of(engine: Engine, message_id: int) -> Case | None:
    with Session(engine) as session:
        return session.scalar(select(Case).join(CaseMessage, CaseMessage.case_id == Case.id)
                              .where(CaseMessage.message_id == message_id))


def _audit_mark(engine: Engine) -> int:
    """The newest audit entry's id (the audit log is append-only: tests look past it)."""
    with Session(engine) as session:
        return session.scalar(select(func.max(AuditEntry.id))) or 0


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    """Every enrichment and case as stored (what a second run must not change)."""
    with Session(engine) as session:
        e = MessageEnrichment
        enrichments = session.execute(select(
            e.message_id, e.relevant, e.topic, e.subtopic, e.municipality_id, e.street,
            e.duplicate_of_id, e.model_version, e.enriched_at).order_by(e.message_id)).all()
        case_rows = session.execute(select(Case.id, Case.topic, Case.subtopic, Case.street,
                                           Case.version, Case.updated_at).order_by(Case.id)
                                    ).all()
        return [tuple(r) for r in [*enrichments, *case_rows]]


def _enrich(*args: str) -> Any:
    result = runner.invoke(app, ["enrich", "--from-db", *args])
    drain()  # the stub broker: case building and rollups run when the test drains
    return result


def _flat(output: str) -> str:
    """The output with Rich's line wrapping undone."""
    return " ".join(output.split())


def _summary(output: str) -> dict[str, int]:
    """The counts of the summary table by their labels."""
    found: dict[str, int] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if len(cells) == 2 and cells[1].isdigit():
            found[cells[0]] = int(cells[1])
    return found


def test_rubricator_change_reclassifies_what_no_person_decided(db: Engine) -> None:
    with Session(db) as session:
        plain, corrected = _message(session, PARAPET), _message(session, PARAPET_2)
        pothole = _message(session, POTHOLE)
        _enrich_and_build(session, [plain, corrected, pothole])
        session.commit()
        ids = plain.id, corrected.id, pothole.id
    assert _enrichment(db, ids[0]).topic == "housing"
    with Session(db) as session:
        case = session.scalar(select(Case).join(CaseMessage).where(
            CaseMessage.message_id == ids[1]))
        assert case is not None
        cases.edit(session, SYSTEM, case, {"topic": "improvement", "subtopic": None})
        _activate_parapet(session)
        session.commit()
    untouched_pothole = _enrichment(db, ids[2]).enriched_at
    audit_mark = _audit_mark(db)

    result = _enrich("--region", "68")
    assert result.exit_code == 0, result.output
    counts = _summary(result.output)
    assert counts["просмотрено"] == 3
    assert counts["сменили тему или подтему"] == 2
    assert counts["обращений обновлено (тема, место)"] == 1
    assert counts["оставлено решение оператора"] == 1
    assert "рубрикатор r1" in _flat(result.output)

    assert (_enrichment(db, ids[0]).topic, _enrichment(db, ids[0]).subtopic) == (
        "roads", "roads.bridges")
    followed = _case_of(db, ids[0])
    assert followed is not None and (followed.topic, followed.subtopic) == (
        "roads", "roads.bridges")
    assert _enrichment(db, ids[1]).topic == "roads"  # the machine's view of the message …
    kept = _case_of(db, ids[1])
    assert kept is not None and kept.topic == "improvement"  # … the operator's case stays
    with Session(db) as session:
        events = {e.case_id: e for e in session.scalars(
            select(CaseEvent).where(CaseEvent.kind == "reclassified"))}
        assert events[followed.id].details["changes"]["topic"] == ["housing", "roads"]
        assert events[kept.id].details["kept"] == ["topic", "subtopic"]
        assert events[followed.id].actor == "reenrich"
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "message.reenrich", AuditEntry.id > audit_mark)).all()
        assert len(entries) == 1
        assert entries[0].details["taxonomy_version"] == "r1"
        assert entries[0].details["filter"] == {"region_code": "68"}
        assert entries[0].details["topic_changed"] == 2
    # The same answer under the new rubricator: stamped, not rewritten (no rollup work).
    pothole = _enrichment(db, ids[2])
    assert pothole.enriched_at == untouched_pothole and pothole.topic == "roads"
    assert pothole.result["taxonomy_version"] == "r1"
    assert counts["из них отмечена новая версия модели/рубрикатора"] == 1

    before = _rows(db)
    again = _enrich("--region", "68")
    assert again.exit_code == 0, again.output
    assert _summary(again.output)["результат переписан"] == 0
    assert _rows(db) == before


def test_newly_relevant_gets_a_case_and_a_case_outlives_its_relevance(db: Engine) -> None:
    with Session(db) as session:
        newly, gone = _message(session, POTHOLE), _message(session, CHATTER)
        _enrich_and_build(session, [newly, gone])
        # What an older model had decided: the pothole was chatter, the greeting an appeal.
        session.execute(update(MessageEnrichment).where(
            MessageEnrichment.message_id == newly.id).values(relevant=False, topic="other"))
        session.execute(delete(CaseMessage).where(CaseMessage.message_id == newly.id))
        session.flush()
        greeting = session.get(MessageEnrichment, gone.id)
        assert greeting is not None and not greeting.relevant
        greeting.relevant = True
        kept = cases.case_from_message(session, SYSTEM, gone, greeting)
        session.commit()
        ids, kept_id = (newly.id, gone.id), kept.id

    result = _enrich()
    assert result.exit_code == 0, result.output
    counts = _summary(result.output)
    assert counts["стали значимыми"] == 1 and counts["перестали быть значимыми"] == 1
    assert counts["отправлено на создание обращений"] == 1
    assert f"больше не значимо (проверьте): {kept_id}" in _flat(result.output)
    built = _case_of(db, ids[0])
    assert built is not None and built.topic == "roads"
    still = _case_of(db, ids[1])
    assert still is not None and still.id == kept_id and still.status == CaseStatus.triage
    assert not _enrichment(db, ids[1]).relevant
    with Session(db) as session:
        event = session.scalar(select(CaseEvent).where(CaseEvent.case_id == kept_id,
                                                       CaseEvent.kind == "reclassified"))
        assert event is not None and event.details["no_longer_relevant"] == ids[1]
    again = _enrich()
    assert _summary(again.output)["результат переписан"] == 0


def test_duplicates_point_only_at_earlier_messages(db: Engine) -> None:
    with Session(db) as session:
        original = _message(session, COPY, days_ago=2)
        repost = _message(session, COPY + "!", days_ago=1)
        third = _message(session, COPY + "!!", days_ago=0.5)
        # Enriched out of order (another worker was late): the live path keeps the
        # original the smaller id (see test_dedup_across_workers)...
        enrich_now(session, [repost.id])
        enrich_now(session, [original.id, third.id])
        session.commit()
        ids = original.id, repost.id, third.id
    assert [_enrichment(db, i).duplicate_of_id for i in ids] == [None, ids[0], ids[0]]
    # ...but a row stored before it did may call the original a copy of a later message.
    with Session(db) as session:
        session.execute(update(MessageEnrichment).where(MessageEnrichment.message_id == ids[0])
                        .values(duplicate_of_id=ids[1]))
        session.commit()

    result = _enrich()
    assert result.exit_code == 0, result.output
    rows = {i: _enrichment(db, i) for i in ids}
    for message_id, row in rows.items():
        assert row.duplicate_of_id is None or row.duplicate_of_id < message_id
    assert rows[ids[0]].duplicate_of_id is None
    assert rows[ids[0]].result["duplicate_of"] is None
    assert rows[ids[1]].duplicate_of_id == ids[0]  # kept as stored
    assert rows[ids[2]].duplicate_of_id == ids[0]
    assert _summary(_enrich().output)["результат переписан"] == 0


def test_filters_take_only_their_messages(db: Engine) -> None:
    with Session(db) as session:
        tambov = _message(session, POTHOLE, days_ago=3)
        old = _message(session, ROADS[0], days_ago=40)
        voronezh = _message(session, ROADS[1], region="36", days_ago=3)
        telegram = _message(session, ROADS[2], source="telegram", days_ago=3)
        everyone = [tambov, old, voronezh, telegram]
        _enrich_and_build(session, everyone)
        session.commit()
        ids = {m.source_id: m.id for m in everyone}
    all_ids = sorted(ids.values())

    def stale() -> None:  # as if an older pipeline had said otherwise
        with Session(db) as session:
            session.execute(update(MessageEnrichment).values(topic="other"))
            session.commit()

    def changed() -> set[int]:
        return {i for i in all_ids if _enrichment(db, i).topic != "other"}

    stale()
    since = (NOW - timedelta(days=10)).date().isoformat()
    result = _enrich("--region", "68", "--since", since, "--source", "vk")
    assert result.exit_code == 0, result.output
    assert changed() == {ids[tambov.source_id]}

    stale()
    until = (NOW - timedelta(days=30)).date().isoformat()
    assert _enrich("--until", until).exit_code == 0
    assert changed() == {ids[old.source_id]}

    stale()
    dry = _enrich("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert _summary(dry.output)["сменили тему или подтему"] == 4 and changed() == set()
    assert "пробный прогон" in _flat(dry.output)

    open_case = _case_of(db, ids[voronezh.source_id])
    assert open_case is not None
    with Session(db) as session:  # only Voronezh's case stays open
        session.execute(update(Case).where(Case.id != open_case.id)
                        .values(status=CaseStatus.closed))
        session.commit()
    assert _enrich("--open-cases").exit_code == 0
    assert changed() == {ids[voronezh.source_id]}

    stale()
    assert _enrich("--limit", "2").exit_code == 0
    assert changed() == set(all_ids[:2])

    # --outdated: the rest still carry the stamp of the rubricator they were enriched with …
    assert _summary(_enrich("--outdated", "--dry-run").output)["просмотрено"] == 0
    with Session(db) as session:  # … until a row says another one decided it
        session.execute(update(MessageEnrichment).where(
            MessageEnrichment.message_id == all_ids[3]).values(model_version="topic-old"))
        session.commit()
    outdated = _enrich("--outdated")
    assert _summary(outdated.output)["просмотрено"] == 1
    assert changed() == {*all_ids[:2], all_ids[3]}
    assert _enrichment(db, all_ids[3]).model_version is None  # no topic model is active


def test_queue_fans_out_idempotent_batches(db: Engine) -> None:
    with Session(db) as session:
        messages = [_message(session, f"{POTHOLE} дом {n}") for n in range(5)]
        _enrich_and_build(session, messages)
        session.execute(update(MessageEnrichment).values(topic="other"))
        session.commit()
        ids = [m.id for m in messages]
    mark = _audit_mark(db)
    result = runner.invoke(app, ["enrich", "--from-db", "--queue", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "5 сообщений отправлено пачками (3)" in _flat(result.output)
    drain()
    with Session(db) as session:
        topics = set(session.scalars(select(MessageEnrichment.topic)))
        batches = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "message.reenrich.batch", AuditEntry.id > mark)).all()
        assert topics == {"roads"}
        assert sum(b.details["rewritten"] for b in batches) == 5
    from otklik.intake.tasks import reenrich_messages

    reenrich_messages.fn(ids, "again")  # a retried job changes nothing
    with Session(db) as session:
        again = session.scalar(select(AuditEntry).where(AuditEntry.object_id == "again",
                                                        AuditEntry.id > mark))
        assert again is not None and again.details["rewritten"] == 0


def test_activated_topic_model_is_used_and_stamped(db: Engine, tmp_path: Path) -> None:
    rows = [("Яма на дороге по ул. Ленина", "roads"), ("Разбитый асфальт, колдобины", "roads"),
            ("Дорогу не ремонтируют, ямы", "roads"), ("Выбоины на трассе к селу", "roads"),
            ("Колея и ямы на проезжей части", "roads"), ("Асфальт провалился у моста", "roads"),
            ("Мусор не вывозят неделю", "waste"), ("Контейнеры переполнены", "waste"),
            ("Свалка за гаражами", "waste"), ("Мусорку не убирают", "waste"),
            ("ТКО лежат вокруг баков", "waste"), ("Мусоровоз не приезжает", "waste")]
    data = tmp_path / "train.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([i, text, label] for i, (text, label) in enumerate(rows))
    with Session(db) as session:
        message = _message(session, POTHOLE)
        _enrich_and_build(session, [message])
        session.commit()
        message_id = message.id
    assert _enrichment(db, message_id).model_version is None
    trained = runner.invoke(app, ["train", "--data", str(data), "--label-field", "topic",
                                  "--columns", "id,text,topic", "--out", str(tmp_path / "m"),
                                  "--no-eval", "--activate"])
    assert trained.exit_code == 0, trained.output
    assert "otklik enrich --from-db" in _flat(trained.output)  # the hint after activation
    version = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))["version"]

    result = _enrich("--outdated")
    assert result.exit_code == 0, result.output
    assert f"модель {version}" in _flat(result.output)
    stored = _enrichment(db, message_id)
    assert stored.model_version == version and stored.result["label"]["value"] == "roads"
    mark = _audit_mark(db)
    assert _summary(_enrich("--outdated").output)["просмотрено"] == 0
    with Session(db) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "message.reenrich",
                                                        AuditEntry.id > mark))
        assert entry is not None and entry.details["model_version"] == version


def test_taxonomy_activation_prints_the_hint(db: Engine, tmp_path: Path) -> None:
    with Session(db) as session:
        _activate_parapet(session)
        session.commit()
    result = runner.invoke(app, ["taxonomy", "activate", "--packaged"])
    assert result.exit_code == 0, result.output
    assert ("сообщения в базе сохраняют прежнюю разметку, пока не выполнен otklik enrich "
            "--from-db") in _flat(result.output)


@pytest.mark.parametrize(("args", "says"), [
    (["--from-db", "--data", "x.csv"], "--data не сочетается с --from-db"),
    (["--from-db", "--out", "o.jsonl", "--model", "m"], "--out, --model не сочетается"),
    (["--data", "x.csv", "--out", "o.jsonl", "--since", "2026-01-01"],
     "--since — только вместе с --from-db"),
    (["--open-cases"], "--open-cases — только вместе с --from-db"),
    ([], "укажите --data ФАЙЛ и --out ФАЙЛ.jsonl"),
    (["--data", "x.csv"], "укажите --data ФАЙЛ и --out ФАЙЛ.jsonl"),
    (["--from-db", "--since", "01.11.2026"], "--since: дата в виде ГГГГ-ММ-ДД"),
    (["--from-db", "--since", "2026-11-02", "--until", "2026-11-01"], "позже --until"),
    (["--from-db", "--dry-run", "--queue"], "--dry-run и --queue не сочетаются"),
])
def test_bad_combinations_are_clear_errors(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["enrich", *args])
    assert result.exit_code == 2
    assert says in _flat(result.output)


def test_the_file_form_still_writes_jsonl(tmp_path: Path) -> None:
    data = tmp_path / "messages.jsonl"
    data.write_text(json.dumps({"id": "1", "text": POTHOLE}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["enrich", "--data", str(data), "--out", str(out),
                                 "--region", "Тамбовская область"])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["id"] == "1" and record["topic"]["code"] == "roads"
