"""Through intake (SQLite and PostgreSQL): a fake registered as the demo registers it is
matched when a reworded copy arrives, by the fakes' consumer of MessagesEnriched after the
enrichment commits; its counters and reach grow, a redelivery doubles nothing, and the check
service then answers with the refutation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database

from otklik import events
from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage, Reach, Source
from otklik.db.session import session_scope
from otklik.demo.fakes import CLAIMS
from otklik.events import MessagesEnriched
from otklik.fakes import check, consumers, live, service
from otklik.fakes.repository import FakeRepository
from otklik.fakes.schemas import FakeCreate, RefutationDraft
from otklik.intake.service import store_messages
from otklik.models.audit import AuditEntry
from otklik.models.case import Case, CaseEvent, CaseMessage
from otklik.models.fakes import Fake, FakeCopy, FakeReply, FakeRevision, FakeSuspect
from otklik.models.message import Message, MessageEnrichment
from otklik.ratelimit import RateLimiter

own_url = own_database("fakes_intake")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    live.reset_index()
    check.set_limiter(RateLimiter(check.LIMIT, check.WINDOW))
    with jobs_database(own_url, monkeypatch, empty=(
            delete(CaseEvent), delete(CaseMessage), delete(Case), delete(FakeCopy),
            delete(FakeReply), delete(FakeSuspect), delete(FakeRevision), delete(Fake),
            delete(MessageEnrichment), delete(Message))) as engine:
        yield engine
    live.reset_index()
    check.set_limiter(None)


def _receive(*texts: str, views: int = 1000) -> None:
    now = datetime.now(UTC)
    with session_scope() as session:
        store_messages(session, [IncomingMessage(
            source=Source.telegram, source_id=f"fk-intake-{now.timestamp()}-{i}", text=text,
            created_at=now, author_id=f"r{i}", region="85", channel="Элиста Инсайд",
            reach=Reach(views=views, reposts=5)) for i, text in enumerate(texts)])


def test_a_demo_fake_is_matched_when_a_reworded_copy_arrives_through_intake(
        db: Engine) -> None:
    from otklik.queue import drain

    assert consumers.match_after_enrichment in events.consumers_of(MessagesEnriched)
    claim = CLAIMS[0][0].format(city="Элисте")  # «в Элисте отравлена вода …»
    with session_scope() as session:
        fake = service.create_fake(session, Actor.system("tests"),
                                   FakeCreate(region_code="85", claim=claim))
        service.draft_refutation(session, Actor.system("tests"), fake.id, RefutationDraft(
            text="Качество воды в Элисте соответствует нормам, сбросов в водопровод не было.",
            source_url="https://r08.gov.ru/press/1", date="2026-12-01"))  # type: ignore[arg-type]
        fake_id = fake.id
    reworded = ("‼️ Люди, не пейте водичку из крана! В Элисте вода отравлена, сточные воды "
                "попали в трубы водопровода #срочно #калмыкия")
    _receive(reworded, "На улице Ленина в Элисте ямы на дороге, отремонтируйте пожалуйста")
    drain()
    with Session(db) as session:
        copies, reach, _ = FakeRepository(session).totals([fake_id])[fake_id]
        assert (copies, reach) == (1, 1005)
        linked = session.scalars(select(FakeCopy)).one()
        assert linked.kind == "copy" and "копия фейка" in linked.reason
    _receive(claim[:70] + " 😱", views=3000)
    drain()
    with Session(db) as session:
        assert FakeRepository(session).totals([fake_id])[fake_id][:2] == (2, 4010)
        ids = list(session.scalars(select(Message.id)))
    consumers.match_after_enrichment.fn(MessagesEnriched(message_ids=ids).model_dump(
        mode="json"))  # a redelivery: nothing doubles
    with Session(db) as session:
        assert FakeRepository(session).totals([fake_id])[fake_id][:2] == (2, 4010)
    with session_scope() as session:
        service.submit_refutation(session, Actor.system("writer"), fake_id)
        service.approve_refutation(session, Actor.system("approver"), fake_id)
        answer = check.check(session, text=reworded)
    assert answer.verdict == "refuted" and answer.fake_id == fake_id
    with Session(db) as session:
        assert session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "fake.refutation.approve")).all()


def test_the_bot_command_polls_once_and_rematch_and_stats_count(db: Engine) -> None:
    import json

    from tests.intake.stubs.http_stub import StubResponse, StubServer
    from typer.testing import CliRunner

    from otklik.channels import service as connectors_service
    from otklik.cli import app
    from otklik.models.message import Connector

    claim = CLAIMS[1][0].format(city="Элисте")  # «с понедельника закрывают все школы …»
    _receive(claim.replace("закрывают", "закроют") + " ‼️")  # stored before the fake exists
    from otklik.queue import drain

    drain()
    with session_scope() as session:
        service.create_fake(session, Actor.system("tests"),
                            FakeCreate(region_code="85", claim=claim))
    runner = CliRunner()
    rematch = runner.invoke(app, ["fakes", "rematch"])
    assert rematch.exit_code == 0 and "новых копий 1" in rematch.output, rematch.output
    assert "новых копий 0" in runner.invoke(app, ["fakes", "rematch"]).output
    counts = json.loads(runner.invoke(app, ["stats", "--json"]).output)
    assert counts["fakes"] == 1 and counts["fake_copies"] == 1
    with StubServer() as stub:
        stub.script("/bot1:T/getUpdates", StubResponse({"ok": True, "result": [
            {"update_id": 41, "message": {"message_id": 9, "date": 1_765_000_000,
                                          "text": f"/check {claim}",
                                          "chat": {"id": 7, "type": "private"}}}]}))
        stub.script("/bot1:T/sendMessage", StubResponse({"ok": True,
                                                         "result": {"message_id": 10}}))
        with session_scope() as session:
            connectors_service.add_connector(
                session, Actor.system(), kind="telegram", name="fakes-bot",
                config={"bot_token": "1:T", "base_url": stub.url})
        result = runner.invoke(app, ["fakes", "bot", "--once"])
        assert result.exit_code == 0, result.output
        assert "обновлений 1, ответов 1" in result.output
        assert "проверяют аналитики" in stub.calls("/bot1:T/sendMessage")[0].json["text"]
    missing = runner.invoke(app, ["fakes", "bot", "--once", "--connector", "nope"])
    assert missing.exit_code == 2 and "no Telegram connector" in missing.output
    with session_scope() as session:
        session.execute(delete(Connector))
