"""The issue's "done when", end to end on one database that commits (SQLite and PostgreSQL).

The demo's own loader registers its fakes (refutations written by ``analyst`` and approved
by ``admin``) and their copies are enriched and matched as ``otklik demo`` does. Then a
reworded copy of the demo's «в Элисте отравлена вода» arrives through intake — pushed by VK
(Callback API) to ``/api/v1/push``, enriched by the queued job, matched by the fakes'
consumer of ``MessagesEnriched`` — with a complaint on the same subject and an official
denial quoting the fake. The fake's copies and reach grow by the copy alone, the denial is
a refutation seen in the wild, the complaint is nothing; the approved refutation is replied
under the copy through the VK connector; the check endpoint and the Telegram bot (``/check``
and a forwarded post, against a local Bot API stub) answer with the refutation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database
from tests.intake.stubs.http_stub import Recorded, StubResponse, StubServer

from otklik.accounts.schemas import UserCreate
from otklik.accounts.service import create_user
from otklik.app import create_app
from otklik.audit.actor import Actor
from otklik.channels import service as connectors_service
from otklik.db.base import utcnow
from otklik.db.session import session_scope
from otklik.demo.fakes import enrich_and_match, load_demo_fakes
from otklik.fakes import bot, check, live
from otklik.fakes.repository import FakeRepository
from otklik.models.account import Role
from otklik.models.fakes import Fake, FakeCopy, FakeReply
from otklik.models.message import Message
from otklik.queue import drain
from otklik.ratelimit import RateLimiter

own_url = own_database("fakes_demo_e2e")

GROUP = 170000085
#: A reworded copy: other word order and forms, «водичка», emoji, a hashtag, a chain call.
REWORDED = ("‼️ Элистинцы, не пейте водичку из-под крана! В водопровод Элисты попали сточные "
            "воды, вода отравлена. Перешлите всем #Элиста")
#: The same subject (water in Elista), no copy.
COMPLAINT = ("Третий день нет воды в Элисте на улице Ленина, из крана течет ржавая вода, когда "
             "починят водопровод?")
#: An official denial that quotes the fake: a refutation seen in the wild, not spread.
DENIAL = ("Управление Роспотребнадзора: сообщения о том, что в Элисте отравлена вода в "
          "водопроводе и в трубы попали сточные воды, не соответствуют действительности")
#: What residents send to the check service and the bot: more rewordings.
ASKED = "Соседка сказала что в элисте вода отравленна, сточные воды в трубах 😱 из крана не пить"
FORWARDED = "Vodu iz krana v Eliste ne pejte, v truby popali stochnye vody, voda otravlena"


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    live.reset_index()
    check.set_limiter(RateLimiter(check.LIMIT, check.WINDOW))
    with jobs_database(own_url, monkeypatch) as engine:
        yield engine
    live.reset_index()
    check.set_limiter(None)


def _demo_registry() -> int:
    """The demo's users, fakes and copies, loaded as ``otklik demo`` loads them; the id of
    its «в Элисте отравлена вода»."""
    with session_scope() as session:
        for username, role in (("admin", Role.admin), ("analyst", Role.analyst)):
            create_user(session, Actor.system("tests"), UserCreate(
                username=username, password="demo-password-16", role=role, all_regions=True,
                region_codes=[]), is_demo=True)
    with session_scope() as session:
        assert load_demo_fakes(session, utcnow()) > 300
    copies, suspects = enrich_and_match()
    assert copies >= 300 and suspects == 1
    with session_scope() as session:
        fake = session.scalars(select(Fake).where(
            Fake.region_code == "85", Fake.claim.like("В Элисте отравлена вода%"))).one()
        assert fake.refutation_state == "approved" and fake.status == "fake"
        return fake.id


def _post(post_id: int, text: str, views: int, reposts: int) -> dict[str, Any]:
    """A VK Callback API ``wall_post_new`` event of the connector's community."""
    return {"group_id": GROUP, "type": "wall_post_new", "secret": "cb-secret", "object": {
        "id": post_id, "owner_id": -GROUP, "from_id": -GROUP, "date": int(utcnow().timestamp()),
        "post_type": "post", "text": text, "views": {"count": views},
        "reposts": {"count": reposts}, "likes": {"count": 3}, "comments": {"count": 0}}}


def test_a_demo_fake_copy_through_intake_grows_its_reach_and_is_refuted_everywhere(
        db: Engine) -> None:
    fake_id = _demo_registry()
    with Session(db) as session:
        copies, reach, seen = FakeRepository(session).totals([fake_id])[fake_id]
        refutation = session.get(Fake, fake_id).refutation_text  # type: ignore[union-attr]
    assert copies >= 8 and reach > 0 and seen == 1 and refutation

    with StubServer() as vk, StubServer() as telegram:
        comments: list[dict[str, str]] = []

        def comment(request: Recorded) -> StubResponse:
            comments.append(request.form)
            return StubResponse({"response": {"comment_id": 9000 + len(comments)}})

        vk.script("/method/wall.createComment", comment)
        with session_scope() as session:
            connector = connectors_service.add_connector(
                session, Actor.system("tests"), kind="vk", name="elista-vk", region_code="85",
                config={"access_token": "vk-token", "group_id": GROUP,
                        "base_url": vk.url + "/method/", "channel": "Типичная Элиста",
                        "region": "85", "callback_secret": "cb-secret"})
            connector_id = connector.id
        client = TestClient(create_app())
        for post_id, text, views, reposts in ((501, REWORDED, 4200, 37),
                                              (502, COMPLAINT, 900, 1),
                                              (503, DENIAL, 15000, 80)):
            pushed = client.post(f"/api/v1/push/{connector_id}",
                                 content=json.dumps(_post(post_id, text, views, reposts)))
            assert pushed.status_code == 200 and pushed.text == "ok", pushed.text
        drain()  # enrichment, the fakes' consumer, then the replies under the copies

        with Session(db) as session:
            assert FakeRepository(session).totals([fake_id])[fake_id] == (
                copies + 1, reach + 4200 + 37, seen + 1)
            pushed_ids = {m.source_id: m.id for m in session.scalars(
                select(Message).where(Message.connector_id == connector_id))}
            links = {row.message_id: row for row in session.scalars(select(FakeCopy).where(
                FakeCopy.message_id.in_(pushed_ids.values())))}
            copy = links[pushed_ids[f"wall-{GROUP}_501"]]
            assert copy.fake_id == fake_id and copy.kind == "copy" and copy.score >= 0.6
            assert copy.reason.startswith(f"копия фейка {fake_id}")
            assert pushed_ids[f"wall-{GROUP}_502"] not in links  # same subject: not a copy
            denial = links[pushed_ids[f"wall-{GROUP}_503"]]
            assert denial.fake_id == fake_id and denial.kind == "refutation"
            reply = session.scalars(select(FakeReply).where(
                FakeReply.message_id == copy.message_id)).one()
            assert reply.status == "published" and reply.external_id == f"wall-{GROUP}_501_9001"
        assert len(comments) == 1  # under the copy only, not under the denial or complaint
        assert comments[0]["post_id"] == "501" and refutation in comments[0]["message"]

        answer = client.post("/api/v1/check", json={"text": ASKED})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["verdict"] == "refuted" and body["fake_id"] == fake_id
        assert body["refutation"] == refutation and body["source_url"].startswith(
            "https://r85.gov.ru/press/")

        token = "777:BOT"
        sent: list[dict[str, Any]] = []

        def send(request: Recorded) -> StubResponse:
            sent.append(request.json)
            return StubResponse({"ok": True, "result": {"message_id": 70 + len(sent)}})

        chat = {"id": 4242, "type": "private"}
        telegram.script(f"/bot{token}/getUpdates", StubResponse({"ok": True, "result": [
            {"update_id": 1, "message": {"message_id": 11, "date": 1_765_000_000,
                                         "chat": chat, "text": f"/check {ASKED}"}},
            {"update_id": 2, "message": {"message_id": 12, "date": 1_765_000_000,
                                         "chat": chat, "text": FORWARDED, "forward_origin": {
                                             "type": "channel", "chat": {"id": -100777}}}},
        ]}))
        telegram.script(f"/bot{token}/sendMessage", send)
        with session_scope() as session:
            connectors_service.add_connector(
                session, Actor.system("tests"), kind="telegram", name="fakes-bot",
                config={"bot_token": token, "base_url": telegram.url})
        with session_scope() as session:
            run = bot.poll_once(session, "fakes-bot")
        assert (run.updates, run.answered, run.refuted, run.errors) == (2, 2, 2, 0)
        assert [s["reply_parameters"]["message_id"] for s in sent] == [11, 12]
        assert all(refutation in s["text"] and "https://r85.gov.ru/press/" in s["text"]
                   for s in sent)
