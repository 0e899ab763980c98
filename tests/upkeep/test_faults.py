"""Fault tests against the real RabbitMQ and PostgreSQL (bounded in time): a worker killed
with SIGKILL in the middle of enrichment and in the middle of publishing answers, the broker
cut off during an import, the database refusing connections during an import. Afterwards
(the reconciler having run, as the scheduler runs it every few minutes) ``otklik check`` is
clean: every message stored once and enriched once, each relevant message in exactly one
case, nothing pending.

Each test runs real ``otklik`` processes (``import``, ``worker``, ``reconcile``, ``check``)
on a PostgreSQL database and a RabbitMQ virtual host of its own."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.conftest import POSTGRES_URL, migrated_database
from tests.intake.stubs.http_stub import Recorded, StubResponse, StubServer
from tests.upkeep.faults import Proxy, kill, otklik, rabbitmq_available, rabbitmq_vhost, wait_for

from otklik.audit.actor import Actor
from otklik.channels import service as connectors_service
from otklik.db.session import make_engine
from otklik.models.case import Answer, Case, CaseMessage, Publication
from otklik.models.message import Message, MessageEnrichment

pytestmark = [
    pytest.mark.skipif(not POSTGRES_URL, reason="fault tests run on PostgreSQL "
                       "(OTKLIK_TEST_POSTGRES_URL)"),
    pytest.mark.timeout(420),
]

COMPLAINTS = (
    "Нет горячей воды в доме {n} по улице {street}, управляющая компания не отвечает",
    "Во дворе дома {n} на улице {street} не вывозят мусор {d} дней, контейнеры переполнены",
    "На улице {street} возле дома {n} огромная яма на дороге, машины бьют колёса",
    "В подъезде дома {n} по улице {street} не работает лифт уже {d} дней",
    "Батареи в квартире дома {n} на улице {street} холодные, дома плюс {d} градусов",
    "Возле школы на улице {street} стая бродячих собак, дети боятся ходить, дом {n}",
)
CHATTER = ("Какая красивая сегодня погода на {street}, гуляли до вечера {n}",
           "Поздравляю всех с праздником! Счастья и здоровья {n}",
           "Кто знает хороший фильм на вечер? Посоветуйте {n}")
STREETS = ("Советская", "Интернациональная", "Мичуринская", "Гоголя", "Лермонтова",
           "Пушкина", "Рылеева", "Чичерина", "Студенецкая", "Карла Маркса")


@pytest.fixture(scope="module")
def rabbit() -> None:
    if not rabbitmq_available():
        pytest.fail("RabbitMQ is not running at 127.0.0.1:5672 (with rabbitmqctl): "
                    ".ci/run starts it; start it with `rabbitmq-server -detached`")


@pytest.fixture
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_database("postgresql", tmp_path_factory, "faults", reference=True) as url:
        yield url


def _stream(path: Path, total: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(total):
            template = rng.choice(COMPLAINTS if rng.random() < 0.7 else CHATTER)
            text = template.format(n=rng.randint(1, 300), street=rng.choice(STREETS),
                                   d=rng.randint(2, 40))
            fh.write(json.dumps({"id": f"fault-{seed}-{i}", "text": text, "region": "68",
                                 "author": f"resident{rng.randint(1, total)}",
                                 "created_at": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00"
                                               "+03:00"}, ensure_ascii=False) + "\n")
    return path


def _env(database_url: str, broker_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTKLIK_")}
    env.update(OTKLIK_ENV="test", OTKLIK_DATABASE_URL=database_url,
               OTKLIK_BROKER_URL=broker_url,
               PYTHONPATH=os.pathsep.join(sys.path))
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 300
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "otklik.cli", *args], env=env, text=True,
                          capture_output=True, timeout=timeout)


def _check(env: dict[str, str]) -> dict[str, Any]:
    result = _run(["check", "--json", "--grace", "0"], env, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    try:
        counts: dict[str, Any] = json.loads(result.stdout)
    except ValueError:  # the check itself could not run yet (the service just came back)
        return {"ok": False, "messages": -1, "enriched": -1,
                "publications_pending": -1, "error": result.stderr[-500:]}
    return counts


def _counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        messages = session.scalar(select(func.count(Message.id))) or 0
        enriched = session.scalar(select(func.count(Message.id))
                                  .where(Message.enrich_status == "done")) or 0
    return messages, enriched


def _recovered(env: dict[str, str], expected: int, log: Path) -> dict[str, Any]:
    """Run the reconciler until the check is clean (a job still in flight may need a
    second round); fail with the last counts and the workers' log."""
    last: dict[str, Any] = {}

    def clean() -> bool:
        nonlocal last
        reconcile = _run(["reconcile", "--grace", "5"], env)
        assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
        time.sleep(3)
        last = _check(env)
        return bool(last["ok"]) and last["messages"] == last["enriched"] == expected

    try:
        wait_for(clean, 240, "a clean check", every=2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {last}\n{log.read_text()[-3000:]}") from None
    return last


def _assert_whole(engine: Engine, expected: int) -> None:
    """Every message once, one enrichment each, each relevant message in one case."""
    with Session(engine) as session:
        assert session.scalar(select(func.count(Message.id))) == expected
        assert session.scalar(select(func.count(MessageEnrichment.message_id))) == expected
        assert session.scalar(select(func.count(func.distinct(
            MessageEnrichment.message_id)))) == expected
        relevant = session.scalar(select(func.count(MessageEnrichment.message_id))
                                  .where(MessageEnrichment.relevant.is_(True))) or 0
        in_cases = session.scalar(select(func.count(CaseMessage.message_id))) or 0
        primaries = session.scalar(select(func.count(CaseMessage.message_id))
                                   .where(CaseMessage.is_primary.is_(True))) or 0
        cases = session.scalar(select(func.count(Case.id))) or 0
    assert relevant > 0 and in_cases >= relevant
    assert primaries == cases  # one primary message per case: no case built twice


def test_a_worker_killed_mid_enrichment_loses_and_doubles_nothing(
        rabbit: None, database: str, tmp_path: Path) -> None:
    total = 3000
    stream = _stream(tmp_path / "stream.jsonl", total, seed=1)
    log = tmp_path / "workers.log"
    engine = make_engine(database)
    with rabbitmq_vhost() as vhost:
        env = _env(database, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", tmp_path)
        imported = _run(["import", str(stream), "--defer"], env)
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert _counts(engine) == (total, 0)
        worker = otklik(["worker", "--processes", "1", "--threads", "2"], env, log)
        try:
            wait_for(lambda: _counts(engine)[1] > 0, 180, "the first enriched batch")
            kill(worker)  # SIGKILL, children included, in the middle of the batches
        finally:
            kill(worker)
        messages, enriched = _counts(engine)
        assert messages == total and enriched < total, "the kill came too late to test"
        worker = otklik(["worker", "--processes", "1", "--threads", "2"], env, log)
        try:
            _recovered(env, total, log)
        finally:
            kill(worker, signal.SIGTERM)
    _assert_whole(engine, total)
    engine.dispose()


@pytest.mark.parametrize("cut", ["broker", "database"])
def test_a_service_cut_off_during_an_import_loses_nothing(
        cut: str, rabbit: None, database: str, tmp_path: Path) -> None:
    """The broker "restarts", or PostgreSQL refuses connections, for 4 s in the middle of an
    import: connections drop and new ones are refused (a proxy the test controls)."""
    total = 4000
    stream = _stream(tmp_path / "stream.jsonl", total, seed=2 if cut == "broker" else 3)
    log = tmp_path / "workers.log"
    engine = make_engine(database)
    url = make_url(database)
    proxy = Proxy(("127.0.0.1", 5672) if cut == "broker"
                  else (url.host or "127.0.0.1", url.port or 5432))
    broker_port = proxy.port if cut == "broker" else 5672
    database_url = database if cut == "broker" else url.set(
        host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with rabbitmq_vhost() as vhost:
        env = _env(database_url, f"amqp://guest:guest@127.0.0.1:{broker_port}/{vhost}",
                   tmp_path)
        worker = otklik(["worker", "--processes", "1", "--threads", "2"], env, log)
        try:
            importing = otklik(["import", str(stream)], env, log)
            wait_for(lambda: _counts(engine)[0] > 0, 120, "the first stored batch")
            proxy.cut()
            time.sleep(4)
            proxy.restore()
            assert importing.wait(timeout=300) == 0, log.read_text()[-3000:]
            assert _counts(engine)[0] == total
            _recovered(env, total, log)
        finally:
            kill(worker, signal.SIGTERM)
            proxy.close()
    _assert_whole(engine, total)
    engine.dispose()


GROUP = 170000001


class _VkWall:
    """A VK wall that, like VK, keeps one comment per ``guid`` (a repeated call with the
    same guid gets the first comment back); each call takes a little time, so a kill lands
    in the middle of a publishing batch."""

    def __init__(self) -> None:
        self.comments: dict[str, int] = {}
        self.calls = 0
        self._lock = threading.Lock()  # the stub answers each request in a thread

    def __call__(self, request: Recorded) -> StubResponse:
        time.sleep(0.05)
        guid = request.form.get("guid") or request.query.get("guid") or ""
        with self._lock:
            self.calls += 1
            comment = self.comments.setdefault(guid, 50_000 + len(self.comments))
        return StubResponse({"response": {"comment_id": comment}})


def _approve_answers(engine: Engine, stub_url: str) -> int:
    """Every message comes through a VK community connector; every case gets an approved
    final answer (as the operators' approvals would leave them). Returns the answers."""
    with Session(engine) as session:
        connector = connectors_service.add_connector(
            session, Actor.system(), kind="vk", name="vk-faults", region_code="68",
            config={"access_token": "tkn", "group_id": GROUP,
                    "base_url": stub_url + "/method/"})
        session.flush()
        session.execute(update(Message).values(connector_id=connector.id, source="vk"))
        now = datetime.now(UTC)
        case_ids = session.scalars(select(Case.id)).all()
        for case_id in case_ids:
            session.add(Answer(case_id=case_id, kind="final", status="approved",
                               text=f"Работы по обращению {case_id} выполнены.",
                               created_at=now, approved_at=now))
        session.commit()
    return len(case_ids)


def test_a_worker_killed_mid_publishing_publishes_each_reply_once(
        rabbit: None, database: str, tmp_path: Path) -> None:
    total = 400
    stream = tmp_path / "stream.jsonl"
    with stream.open("w", encoding="utf-8") as fh:  # posts of a VK community's wall
        for i in range(total):
            text = COMPLAINTS[i % len(COMPLAINTS)].format(
                n=i + 1, street=STREETS[i % len(STREETS)], d=2 + i % 30)
            fh.write(json.dumps({"id": f"wall-{GROUP}_{i + 1}", "text": text, "region": "68",
                                 "author": f"resident{i}",
                                 "created_at": "2026-11-20T10:00:00+03:00"},
                                ensure_ascii=False) + "\n")
    log = tmp_path / "workers.log"
    engine = make_engine(database)
    wall = _VkWall()
    with rabbitmq_vhost() as vhost, StubServer() as vk:
        vk.script("/method/wall.createComment", wall)
        env = _env(database, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", tmp_path)
        worker = otklik(["worker", "--processes", "1", "--threads", "2"], env, log)
        try:
            imported = _run(["import", str(stream)], env)
            assert imported.returncode == 0, imported.stdout + imported.stderr
            _recovered(env, total, log)
        finally:
            kill(worker, signal.SIGTERM)
        answers = _approve_answers(engine, vk.url)
        assert answers >= 20  # near-duplicate complaints share a case: one answer, many replies
        queued = _run(["reconcile", "--grace", "0"], env)  # approved, not published: queued
        assert queued.returncode == 0 and f"publishing: {answers}" in queued.stdout, \
            queued.stdout + queued.stderr
        worker = otklik(["worker", "--processes", "1", "--threads", "2"], env, log)
        try:
            wait_for(lambda: wall.calls >= 10, 180, "the first published replies")
        finally:
            kill(worker)  # SIGKILL in the middle of the publishing batch
        assert len(wall.comments) < total // 2, "the kill came too late to test"
        worker = otklik(["worker", "--processes", "1", "--threads", "2"], env, log)
        try:
            def published() -> bool:
                assert _run(["reconcile", "--grace", "0"], env).returncode == 0
                time.sleep(2)
                counts = _check(env)
                return bool(counts["ok"]) and counts["publications_pending"] == 0
            wait_for(published, 240, "every answer published", every=2)
        finally:
            kill(worker, signal.SIGTERM)
    with Session(engine) as session:
        rows = session.execute(select(Publication.answer_id, Publication.message_id,
                                      Publication.status, Publication.external_id)).all()
        unpublished = session.scalar(select(func.count(Answer.id))
                                     .where(Answer.published_at.is_(None))) or 0
    assert unpublished == 0
    assert len({(a, m) for a, m, _, _ in rows}) == len(rows)  # one row per reply
    assert {status for _, _, status, _ in rows} == {"published"}
    # Each reply is one comment on the wall, whatever was sent again after the kill.
    assert len(wall.comments) == len(rows) and wall.calls >= len(rows)
    for answer_id, message_id, _, external in rows:
        comment = wall.comments[f"answer-{answer_id}-message-{message_id}"]
        assert external is not None and external.endswith(f"_{comment}")
    engine.dispose()
