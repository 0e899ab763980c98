"""The live detector on bad input and repeated work (SQLite and PostgreSQL): a one-author
spam flood opens nothing; out-of-order, duplicated and place-less messages give a result; a
consumer run twice opens one incident; opening by hand and merging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.db.session import session_scope
from otklik.events import MessagesEnriched
from otklik.incidents import consumers, live, service
from otklik.incidents.repository import IncidentRepository
from otklik.models.case import CaseMessage
from otklik.models.incident import Incident, IncidentEntry, IncidentStatus
from otklik.models.message import Message
from otklik.queue import drain

from .conftest import World, opened, receive


def _t0() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=8)


def _incidents(world: World) -> list[Incident]:
    with Session(world.engine) as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_a_spam_flood_from_one_author_opens_nothing(world: World) -> None:
    t0 = _t0()
    ids = receive(world, [("Нет воды Элиста! Нет воды Элиста!", "id555", t0 +
                           timedelta(minutes=i)) for i in range(25)])
    assert len(ids) == 25
    assert _incidents(world) == [] and opened == []


def test_out_of_order_duplicated_and_placeless_messages_give_one_incident(world: World
                                                                          ) -> None:
    t0 = _t0()
    texts = ["В Яшкуле нет воды с утра", "Яшкуль, нет воды уже три часа!",
             "нет воды в посёлке Яшкуль, когда дадут", "Яшкуль без воды, дети без воды"]
    # Newest first, in separate deliveries, one of them twice; then messages with no place.
    for i in reversed(range(len(texts))):
        receive(world, [(texts[i], f"id{7000 + i}", t0 + timedelta(minutes=10 * i))])
    receive(world, [(texts[3], "id7003", t0 + timedelta(minutes=30))])  # the same again
    receive(world, [("Нет воды!!! Сколько можно", f"id{7100 + i}", t0 + timedelta(minutes=45))
                    for i in range(3)])
    receive(world, [("пишу без текста", "id7200", t0 + timedelta(minutes=50))], region=None)
    incidents = _incidents(world)
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.hazard == "no_water" and "Яшкуль" in incident.title
    with Session(world.engine) as session:
        linked = IncidentRepository(session).linked_message_ids(incident.id)
        texts_linked = set(session.scalars(select(Message.text).where(Message.id.in_(linked))))
    # Place-less messages about the same hazard join the region's open signal (the detector's
    # rule); the unrelated one stays out.
    assert texts_linked == {*texts, "Нет воды!!! Сколько можно"}


def test_a_consumer_run_twice_opens_one_incident(world: World) -> None:
    t0 = _t0()
    ids = receive(world, [(f"Пожар в Городовиковске, горит дом на улице Мира {i}",
                           f"id{7300 + i}", t0 + timedelta(minutes=3 * i)) for i in range(3)])
    first = _incidents(world)
    assert len(first) == 1 and first[0].severity == "critical"
    with Session(world.engine) as session:
        entries = session.scalar(select(func.count()).select_from(IncidentEntry))
        links = len(IncidentRepository(session).linked_message_ids(first[0].id))
    for _ in range(2):  # the job again (a redelivery), and the detector directly
        consumers.detect_after_enrichment(MessagesEnriched(message_ids=ids, live=True))
        with session_scope() as session:
            result = live.detect(session, ids)
            assert result.opened == []
    again = _incidents(world)
    assert [i.id for i in again] == [first[0].id]
    with Session(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(IncidentEntry)) == entries
        assert len(IncidentRepository(session).linked_message_ids(first[0].id)) == links
    assert len(opened) == 1
    # A bulk load (not live) is history: the consumer leaves it alone.
    consumers.detect_after_enrichment(MessagesEnriched(message_ids=ids, live=False))
    assert len(_incidents(world)) == 1


def test_open_by_hand_from_a_case_and_merge(world: World) -> None:
    t0 = _t0()
    a = receive(world, [("В Лагани прорвало трубу на улице Школьной, течёт вода", "id7400",
                         t0)])
    b = receive(world, [("Лагань, улица Школьная: вода хлещет из-под асфальта", "id7401",
                         t0 + timedelta(minutes=20))])
    ops = world.people["operator"]
    with session_scope() as session:
        case_a, case_b = (session.scalar(select(CaseMessage.case_id).where(
            CaseMessage.message_id == ids[0])) for ids in (a, b))
        assert case_a and case_b
        one = service.open_by_hand(session, ops, case_id=case_a, title="Прорыв водовода")
        two = service.open_by_hand(session, ops, case_id=case_b)
        service.merge(session, ops, one, two)
        one_id, two_id = one.id, two.id
    drain()
    with Session(world.engine) as session:
        repo = IncidentRepository(session)
        merged = session.get(Incident, two_id)
        assert merged is not None and merged.status == IncidentStatus.merged
        assert merged.merged_into_id == one_id
        assert repo.linked_message_ids(one_id) == set(a) | set(b)
        assert repo.linked_case_ids(one_id) == {case_a, case_b}
        kinds = [e.kind for e in repo.timeline(one_id)]
        assert kinds == ["opened", "merged"]
        assert [e.kind for e in repo.timeline(two_id)] == ["opened", "merged"]
    assert {e["incident_id"] for e in opened} == {one_id, two_id}


def test_replay_feeds_a_file_through_the_live_pipeline(world: World, tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from otklik.cli import app

    t0 = _t0()
    rows = [{"id": f"r{i}", "text": f"В Малых Дербетах нет воды, третий час {i}",
             "created_at": (t0 + timedelta(minutes=5 * i)).isoformat(), "author": f"a{i}",
             "region": "85"} for i in range(4)]
    path = tmp_path / "stream.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in reversed(rows)]  # out of order
    path.write_text("\n".join([*lines, lines[0]]) + "\n", encoding="utf-8")  # and a repeat
    result = CliRunner().invoke(app, ["replay", "--data", str(path), "--speed", "0"])
    assert result.exit_code == 0, result.output
    incidents = _incidents(world)
    assert len(incidents) == 1 and incidents[0].hazard == "no_water"
    with Session(world.engine) as session:
        assert len(IncidentRepository(session).linked_message_ids(incidents[0].id)) == 4
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "x", "created_at": "вчера"}\n', encoding="utf-8")
    failed = CliRunner().invoke(app, ["replay", "--data", str(bad)])
    assert failed.exit_code != 0 and "created_at" in failed.output
